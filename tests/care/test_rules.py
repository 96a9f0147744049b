"""The degree-of-care gate and the balance states, pure (no I/O)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from services.care.balance.model import CareHistory, state
from services.care.tasks.rules import Decision, GateFacts, Policy, TaskRef, decide, due_at

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
POLICY = Policy(
    touch_interval_days=14,
    max_interventions=3,
    intervention_window_days=7,
    checkin_interval_days=14,
    rule_cooldown_hours={"aht_drift": 72},
)


def facts(interventions=(), open_task=None, last_same_rule=None) -> GateFacts:
    return GateFacts(list(interventions), open_task, last_same_rule)


def days_ago(n: float) -> datetime:
    return NOW - timedelta(days=n)


def test_urgent_rules_always_open_even_over_the_cap_and_in_a_cool_down():
    full = facts([days_ago(1), days_ago(2), days_ago(3), days_ago(4)])
    assert decide("hard_call", NOW, POLICY, full) == Decision("opened")
    assert decide("hard_call_streak", NOW, POLICY, full) == Decision("opened")


def test_below_the_cap_opens():
    assert decide("csat_drop", NOW, POLICY, facts([days_ago(1), days_ago(2)])).outcome == "opened"


def test_interventions_older_than_the_window_do_not_count():
    old = facts([days_ago(7), days_ago(8), days_ago(1)])  # exactly 7 days ago is outside
    assert decide("csat_drop", NOW, POLICY, old).outcome == "opened"


def test_at_the_cap_merges_into_the_open_task():
    open_task = TaskRef("t-open", days_ago(1), True)
    decision = decide(
        "csat_drop", NOW, POLICY, facts([days_ago(1), days_ago(2), days_ago(3)], open_task)
    )
    assert decision.outcome == "merged"
    assert decision.task_id == "t-open"
    assert "at most 3" in (decision.reason or "")


def test_at_the_cap_without_an_open_task_defers_until_the_oldest_leaves_the_window():
    decision = decide("csat_drop", NOW, POLICY, facts([days_ago(1), days_ago(2), days_ago(5)]))
    assert decision.outcome == "deferred"
    assert decision.available_at == days_ago(5) + timedelta(days=7)


def test_over_the_cap_defers_until_enough_leave_the_window():
    times = [days_ago(1), days_ago(2), days_ago(5), days_ago(6)]
    decision = decide("csat_drop", NOW, POLICY, facts(times))
    # 4 in the window: below 3 only once the two oldest (6 and 5 days ago) have left.
    assert decision.available_at == days_ago(5) + timedelta(days=7)


def test_cool_down_merges_into_the_same_rules_open_task():
    last = TaskRef("t-aht", NOW - timedelta(hours=10), True)
    decision = decide("aht_drift", NOW, POLICY, facts(last_same_rule=last))
    assert (decision.outcome, decision.task_id) == ("merged", "t-aht")
    assert decision.reason is not None and decision.reason.startswith("cool-down")


def test_cool_down_after_a_closed_task_is_recorded_not_opened():
    last = TaskRef("t-aht", NOW - timedelta(hours=71), False)
    assert decide("aht_drift", NOW, POLICY, facts(last_same_rule=last)).outcome == "cooled_down"
    after = TaskRef("t-aht", NOW - timedelta(hours=72), False)
    assert decide("aht_drift", NOW, POLICY, facts(last_same_rule=after)).outcome == "opened"


def test_rules_without_a_cool_down_ignore_the_last_task():
    last = TaskRef("t", NOW - timedelta(minutes=5), False)
    assert decide("long_aux", NOW, POLICY, facts(last_same_rule=last)).outcome == "opened"


def test_due_times():
    day_end = datetime(2026, 11, 21, tzinfo=UTC)
    assert due_at("hard_call", NOW, shift_end=None, day_end=day_end) == NOW + timedelta(minutes=10)
    assert due_at("aht_drift", NOW, shift_end=None, day_end=day_end) == NOW + timedelta(days=2)
    assert due_at("absent", NOW, shift_end=None, day_end=day_end) == NOW + timedelta(days=1)
    shift_end = NOW + timedelta(hours=3)
    assert due_at("hard_call_streak", NOW, shift_end=shift_end, day_end=day_end) == shift_end
    assert due_at("hard_call_streak", NOW, shift_end=None, day_end=day_end) == day_end


def test_balance_states():
    known = days_ago(100)
    touched_10 = CareHistory(known, days_ago(10), ())
    assert state(touched_10, POLICY, NOW) == "balanced"
    assert state(CareHistory(known, days_ago(14), ()), POLICY, NOW) == "balanced"
    assert state(CareHistory(known, days_ago(14.01), ()), POLICY, NOW) == "under_cared"
    assert state(CareHistory(known, None, ()), POLICY, NOW) == "under_cared"
    assert state(CareHistory(days_ago(3), None, ()), POLICY, NOW) == "balanced"  # new: not yet
    three = (days_ago(1), days_ago(2), days_ago(3))
    assert state(CareHistory(known, days_ago(1), three), POLICY, NOW) == "balanced"
    four = (*three, days_ago(4))
    assert state(CareHistory(known, days_ago(1), four), POLICY, NOW) == "over_cared"
    # neglect is reported first
    assert state(CareHistory(known, days_ago(20), four), POLICY, NOW) == "under_cared"
