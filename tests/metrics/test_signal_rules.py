"""Signal rules on hand-computed facts."""

from __future__ import annotations

from services.metrics.signals.rules import (
    aht_drifted,
    csat_dropped,
    hard_tags,
    streak_triggers,
)

MIN = 60_000_000


def test_hard_tags() -> None:
    assert hard_tags(["vip", "escalation", "abusive_customer"]) == [
        "abusive_customer",
        "escalation",
    ]
    assert hard_tags(["vip"]) == []


def test_a_streak_fires_once_per_spell() -> None:
    times = [0, 20 * MIN, 40 * MIN, 50 * MIN, 70 * MIN]  # one long bad spell
    assert streak_triggers(times, window_us=60 * MIN, min_count=3) == [40 * MIN]
    apart = [0, 10 * MIN, 20 * MIN, 200 * MIN, 210 * MIN, 220 * MIN]
    assert streak_triggers(apart, window_us=60 * MIN, min_count=3) == [20 * MIN, 220 * MIN]
    assert streak_triggers([0, 30 * MIN, 61 * MIN], window_us=60 * MIN, min_count=3) == []
    assert streak_triggers(list(reversed(times)), window_us=60 * MIN, min_count=3) == [40 * MIN]


def test_csat_drop_uses_the_last_three() -> None:
    assert not csat_dropped([1, 1], window=3, threshold=2)
    assert csat_dropped([5, 2, 2, 2], window=3, threshold=2)
    assert csat_dropped([1, 2, 3], window=3, threshold=2)
    assert not csat_dropped([1, 2, 4], window=3, threshold=2)


def test_aht_drift_needs_enough_contacts_and_a_real_gap() -> None:
    team = [300.0, 320.0, 280.0, 310.0, 290.0]
    assert aht_drifted([600.0] * 4, team, factor=1.5, min_contacts=5)[0] is False
    drifted, aht, median = aht_drifted([600.0] * 5, team, factor=1.5, min_contacts=5)
    assert (drifted, aht, median) == (True, 600.0, 300.0)
    assert aht_drifted([450.0] * 5, team, factor=1.5, min_contacts=5)[0] is False
