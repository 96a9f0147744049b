"""Attrition risk: a transparent, additive score — named factors, weights from settings, no
black box. Pure functions, no I/O.

Each factor is a yes/no rule over one agent's facts as of ``now``. An active factor adds its
weight (``CARE_RISK_WEIGHTS``, points out of 100), an inactive one adds nothing; the score is
the sum of contributions rounded half up and capped at 100. Every factor comes back with its
weight, whether it holds, its contribution and the facts it looked at, so a team lead sees
*why*, not only how much.

Windows include their start: "in the last 7 days" means ``now - 7 days <= at <= now``. Facts
dated after ``now`` are ignored. Signals are metrics' ``metrics.signals``, one per episode
(a call counts once however often its signal was delivered).

- ``new_hire``: tenure below 90 days — ``today - hire_date`` in calendar days, ``today`` being
  the date of ``now`` in the center's time zone (89 days: active; 90: not). Unknown hire date:
  inactive. Most new hires who leave do so in their first three months.
- ``mood_falling``: the last 3 check-ins (by time) have strictly decreasing mood, e.g. 4, 3, 2;
  fewer than 3 check-ins: inactive (the check-in trend's rule, ``checkins.trend.mood_falling``).
- ``high_stress``: the latest check-in has stress 4 or 5 (of 5).
- ``hard_calls``: at least 3 ``hard_call`` signals (calls tagged abusive customer, complaint or
  escalation) in the last 7 days. ``hard_call_streak`` signals are not counted again.
- ``adherence_falling``: at least 2 ``adherence_breach`` signals in the last 14 days. Care does
  not hold adherence figures; a breach is metrics' judgement that the agent stayed out of their
  scheduled activity longer than its threshold, so repeated breaches are read as adherence
  falling.
- ``complaints``: at least 1 ``hard_call`` signal tagged ``complaint`` or ``escalation`` in the
  last 30 days.
- ``no_recognition``: no ``recognition`` care record in the last 60 days. A person known to care
  for less than 60 days without one counts too: newcomers get no grace period.
- ``recent_warning``: a ``warning`` care record in the last 30 days.
- ``leave_denied``: a leave request of theirs denied in the last 30 days.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from services.care.checkins.trend import DIRECTION_SPAN, mood_falling

FACTORS = (
    "new_hire",
    "mood_falling",
    "high_stress",
    "hard_calls",
    "adherence_falling",
    "complaints",
    "no_recognition",
    "recent_warning",
    "leave_denied",
)

NEW_HIRE_DAYS = 90
MOOD_RUN = DIRECTION_SPAN
"""Check-ins that make a mood trend (shared with the check-in trend, ``checkins.trend``)."""
HIGH_STRESS = 4
HARD_CALLS_MIN = 3
HARD_CALLS_WINDOW = timedelta(days=7)
ADHERENCE_BREACHES_MIN = 2
ADHERENCE_WINDOW = timedelta(days=14)
COMPLAINT_TAGS = frozenset({"complaint", "escalation"})
COMPLAINTS_WINDOW = timedelta(days=30)
RECOGNITION_WINDOW = timedelta(days=60)
WARNING_WINDOW = timedelta(days=30)
LEAVE_DENIED_WINDOW = timedelta(days=30)
SIGNAL_LOOKBACK = max(HARD_CALLS_WINDOW, ADHERENCE_WINDOW, COMPLAINTS_WINDOW)
"""How far back the service needs signals for any factor."""


@dataclass(frozen=True, slots=True)
class CheckInFact:
    at: datetime
    mood: int
    stress: int


@dataclass(frozen=True, slots=True)
class HardCall:
    at: datetime
    tags: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class AgentFacts:
    """What the model knows about one agent; the service loads at least the windows above."""

    hire_date: date | None = None
    known_since: datetime | None = None
    checkins: tuple[CheckInFact, ...] = ()
    hard_calls: tuple[HardCall, ...] = ()
    adherence_breaches: tuple[datetime, ...] = ()
    last_recognition_at: datetime | None = None
    last_warning_at: datetime | None = None
    last_leave_denied_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Factor:
    factor: str
    weight: float
    active: bool
    contribution: float
    evidence: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Risk:
    score: int
    factors: tuple[Factor, ...]


def effective_weights(weights: Mapping[str, float]) -> dict[str, float]:
    """Every factor's weight in model order; a factor left out weighs 0 (switched off).

    An unknown name or a negative weight is a configuration error, not something to guess at.
    """
    unknown = sorted(set(weights) - set(FACTORS))
    if unknown:
        raise ValueError(f"unknown risk factors in risk_weights: {', '.join(unknown)}")
    negative = sorted(name for name, weight in weights.items() if weight < 0)
    if negative:
        raise ValueError(f"negative risk weights: {', '.join(negative)}")
    return {name: float(weights.get(name, 0.0)) for name in FACTORS}


def assess(facts: AgentFacts, weights: Mapping[str, float], now: datetime) -> Risk:
    """The agent's score and every factor with its evidence, in ``FACTORS`` order.

    ``now`` must be timezone-aware; its date, in its own zone, is "today" for tenure, so pass
    it in the center's time zone.
    """
    effective = effective_weights(weights)
    holds = _evaluate(facts, now)
    factors = tuple(
        Factor(
            factor=name,
            weight=weight,
            active=holds[name][0],
            contribution=weight if holds[name][0] else 0.0,
            evidence=holds[name][1],
        )
        for name, weight in effective.items()
    )
    total = sum(f.contribution for f in factors)
    return Risk(score=min(100, math.floor(total + 0.5)), factors=factors)


def _within(at: datetime | None, now: datetime, window: timedelta) -> bool:
    return at is not None and now - window <= at <= now


def _days_ago(at: datetime | None, now: datetime) -> int | None:
    return None if at is None else (now - at).days


def _evaluate(facts: AgentFacts, now: datetime) -> dict[str, tuple[bool, dict[str, Any]]]:
    tenure = None if facts.hire_date is None else (now.date() - facts.hire_date).days
    checkins = sorted((c for c in facts.checkins if c.at <= now), key=lambda c: c.at)
    moods = [c.mood for c in checkins[-MOOD_RUN:]]
    last = checkins[-1] if checkins else None
    hard_7d = sum(_within(c.at, now, HARD_CALLS_WINDOW) for c in facts.hard_calls)
    breaches = sum(_within(at, now, ADHERENCE_WINDOW) for at in facts.adherence_breaches)
    complaints = sum(
        _within(c.at, now, COMPLAINTS_WINDOW) and bool(c.tags & COMPLAINT_TAGS)
        for c in facts.hard_calls
    )
    recognised = _within(facts.last_recognition_at, now, RECOGNITION_WINDOW)
    return {
        "new_hire": (
            tenure is not None and tenure < NEW_HIRE_DAYS,
            {
                "hire_date": facts.hire_date.isoformat() if facts.hire_date else None,
                "tenure_days": tenure,
            },
        ),
        "mood_falling": (mood_falling(moods), {"last_moods": moods}),
        "high_stress": (
            last is not None and last.stress >= HIGH_STRESS,
            {
                "last_stress": last.stress if last else None,
                "last_checkin_days_ago": _days_ago(last.at if last else None, now),
            },
        ),
        "hard_calls": (hard_7d >= HARD_CALLS_MIN, {"hard_calls_7d": hard_7d}),
        "adherence_falling": (
            breaches >= ADHERENCE_BREACHES_MIN,
            {"adherence_breaches_14d": breaches},
        ),
        "complaints": (complaints >= 1, {"complaints_30d": complaints}),
        "no_recognition": (
            not recognised,
            {
                "last_recognition_days_ago": _days_ago(facts.last_recognition_at, now),
                "known_for_days": _days_ago(facts.known_since, now),
            },
        ),
        "recent_warning": (
            _within(facts.last_warning_at, now, WARNING_WINDOW),
            {"last_warning_days_ago": _days_ago(facts.last_warning_at, now)},
        ),
        "leave_denied": (
            _within(facts.last_leave_denied_at, now, LEAVE_DENIED_WINDOW),
            {"last_denied_days_ago": _days_ago(facts.last_leave_denied_at, now)},
        ),
    }
