"""Which care task each trigger opens, and the degree-of-care gate every trigger passes.

Pure logic (no I/O): the service gathers the facts, this module decides.

Rules (issue 4 §3; suggested actions follow the seeds' practices):

| rule | trigger | task | due |
|---|---|---|---|
| hard_call | signal: a hard-call tag | care break now, check in by shift end | 10 min (urgent) |
| hard_call_streak | signal: ≥3 hard calls in 60 min | one-on-one today | shift/day end (urgent) |
| aht_drift, csat_drop | signal | coaching conversation | 2 days |
| long_aux, absent, late_login | signal | private conversation, facts first | 1 day |
| team_qa_pattern | signal (team) | team briefing on the error category | 2 days |
| mentor_checkin | new hire, days 7/30/60/90 | mentor check-in | that day |
| assign_mentor | new hire without a mentor after 3 days | assign a mentor | 1 day |
| checkin_request | no check-in for the policy's interval (14 days) | ask for a check-in | 2 days |
| under_cared | no meaningful touch for the policy's interval (14 days) | a one-on-one | 2 days |

The gate (:func:`decide`), per agent: urgent rules always open. Otherwise a per-rule cool-down
applies first (a trigger within the cool-down of the last task of the same rule merges into
it while it is open, else is recorded as cooled down), then the cap: with ``max_interventions``
non-urgent interventions already in the rolling window, the trigger merges into the agent's
open non-urgent task, or is deferred until the oldest intervention leaves the window. Nothing
is dropped silently: every outcome is recorded with its reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

Outcome = Literal["opened", "merged", "deferred", "cooled_down"]

SIGNAL_RULES = frozenset(
    {
        "hard_call",
        "hard_call_streak",
        "aht_drift",
        "csat_drop",
        "long_aux",
        "absent",
        "late_login",
        "team_qa_pattern",
    }
)
"""Signals that open tasks; ``adherence_breach`` feeds the risk model only."""

URGENT_RULES = frozenset({"hard_call", "hard_call_streak"})
MENTOR_CHECKIN_DAYS = (7, 30, 60, 90)
ASSIGN_MENTOR_AFTER = timedelta(days=3)

MEANINGFUL_TOUCH_KINDS = frozenset({"one_on_one", "coaching", "recognition", "care_action"})
"""Records that count as a meaningful touch (the 14-day guarantee)."""

INTERVENTION_KINDS = frozenset(
    {"one_on_one", "coaching", "care_action", "warning", "training_referral", "mentoring_session"}
)
"""Records that count against the intervention cap when written without a task (praise is
not an intervention)."""

_DUE = {
    "hard_call": timedelta(minutes=10),
    "aht_drift": timedelta(days=2),
    "csat_drop": timedelta(days=2),
    "long_aux": timedelta(days=1),
    "absent": timedelta(days=1),
    "late_login": timedelta(days=1),
    "team_qa_pattern": timedelta(days=2),
    "assign_mentor": timedelta(days=1),
    "checkin_request": timedelta(days=2),
    "under_cared": timedelta(days=2),
}


@dataclass(frozen=True)
class Policy:
    touch_interval_days: int
    max_interventions: int
    intervention_window_days: int
    checkin_interval_days: int
    rule_cooldown_hours: dict[str, float]

    @property
    def window(self) -> timedelta:
        return timedelta(days=self.intervention_window_days)


def due_at(rule: str, at: datetime, *, shift_end: datetime | None, day_end: datetime) -> datetime:
    """When the task should be done. "Today" means the end of the agent's shift if known."""
    if rule == "hard_call_streak":
        return shift_end if shift_end is not None and shift_end > at else day_end
    return at + _DUE.get(rule, timedelta(days=1))


def suggested_action(rule: str, name: str, facts: dict[str, Any]) -> str:
    if rule == "hard_call":
        tags = ", ".join(facts.get("tags", [])) or "a hard call"
        by = facts.get("check_in_by")
        return (
            f"{name} just had a hard call ({tags}). Offer a care break now — a few minutes "
            f"away from the queue to let the emotion settle — and check in with them before "
            f"their shift ends{f' (by {by})' if by else ''}. Listen first; this is not a "
            "performance talk."
        )
    if rule == "hard_call_streak":
        return (
            f"{name} has had {len(facts.get('calls', [])) or 'several'} hard calls within "
            f"{facts.get('window_minutes', 60)} minutes. Hold a one-on-one today: ask how they "
            "are, acknowledge what they absorbed, and agree on relief (a break, a lighter queue)."
        )
    if rule in ("aht_drift", "csat_drop"):
        what = (
            "average handle time has drifted well above the team's"
            if rule == "aht_drift"
            else "recent customer satisfaction scores have dropped"
        )
        return (
            f"{name}'s {what}. Within two days, hold a coaching conversation: start from the "
            "facts (the figures and a call or two), ask what gets in the way, agree on one "
            "concrete change and a follow-up date."
        )
    if rule in ("long_aux", "absent", "late_login"):
        what = {
            "long_aux": "stayed in an aux state well past its usual length",
            "absent": "did not log in for a scheduled shift",
            "late_login": "logged in late for a scheduled shift",
        }[rule]
        return (
            f"{name} {what}. Within a day, talk privately: state the facts first, without "
            "judgement, then listen — there may be a need behind it (health, family, "
            "schedule). Agree on what happens next; no penalty without this conversation."
        )
    if rule == "team_qa_pattern":
        category = facts.get("error_category", "one error category")
        return (
            f"Several agents made the same quality error ({category}). Hold a short team "
            "briefing on it within two days: one agent's mistake is the whole team's lesson. "
            "Walk through a real example and the right way, without naming anyone."
        )
    if rule == "mentor_checkin":
        day = facts.get("day")
        mentor = facts.get("mentor_name")
        with_mentor = f" with their mentor {mentor}" if mentor else ""
        return (
            f"Day {day} of {name}'s first 90 days: check in{with_mentor}. Ask what is going "
            "well, what is hard, and whether the mentoring helps; most new hires who leave do "
            "so in their first three months."
        )
    if rule == "assign_mentor":
        return (
            f"{name} started {facts.get('days_since_start', 3)} days ago and has no mentor. "
            "Pair them with an experienced agent (mentor and apprentice) this week."
        )
    if rule == "checkin_request":
        return (
            f"{name} has not recorded a check-in for {facts.get('days_without', 14)} days. "
            "Ask them, kindly, for a quick mood and stress check-in."
        )
    if rule == "under_cared":
        return (
            f"Nobody has had a meaningful touch with {name} for "
            f"{facts.get('days_without', 14)} days. Book a one-on-one, or recognise something "
            "they did well: nobody should be neglected."
        )
    return f"Look into {rule} for {name}."


@dataclass(frozen=True)
class TaskRef:
    id: str
    opened_at: datetime
    is_open: bool


@dataclass(frozen=True)
class GateFacts:
    """What the gate needs to know about the agent at the trigger's time."""

    interventions: list[datetime]
    """Times of the non-urgent interventions inside the window before the trigger."""
    open_task: TaskRef | None
    """The agent's most recent open non-urgent task."""
    last_same_rule: TaskRef | None
    """The agent's most recent task of the same rule."""


@dataclass(frozen=True)
class Decision:
    outcome: Outcome
    reason: str | None = None
    task_id: str | None = None
    """The task merged into (``merged``), or whose cool-down applied (``cooled_down``)."""
    available_at: datetime | None = None
    """When a deferred task opens."""


def decide(rule: str, at: datetime, policy: Policy, facts: GateFacts) -> Decision:
    if rule in URGENT_RULES:
        return Decision("opened")
    cooldown_h = policy.rule_cooldown_hours.get(rule, 0)
    last = facts.last_same_rule
    if cooldown_h > 0 and last is not None and at - last.opened_at < timedelta(hours=cooldown_h):
        reason = f"cool-down: a {rule} task was opened {_ago(at - last.opened_at)} ago"
        if last.is_open:
            return Decision("merged", reason, task_id=last.id)
        return Decision("cooled_down", f"{reason} (cool-down {cooldown_h:g} h)", task_id=last.id)
    in_window = sorted(t for t in facts.interventions if at - policy.window < t <= at)
    if len(in_window) >= policy.max_interventions:
        reason = (
            f"cap: {len(in_window)} non-urgent interventions in the last "
            f"{policy.intervention_window_days} days (at most {policy.max_interventions})"
        )
        if facts.open_task is not None:
            return Decision("merged", reason, task_id=facts.open_task.id)
        free_at = in_window[len(in_window) - policy.max_interventions] + policy.window
        return Decision("deferred", reason, available_at=free_at)
    return Decision("opened")


def _ago(delta: timedelta) -> str:
    hours = delta.total_seconds() / 3600
    return f"{hours:.1f} h" if hours < 48 else f"{hours / 24:.1f} days"
