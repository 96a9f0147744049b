"""Queue KPIs on hand-computed data."""

from __future__ import annotations

import random

from services.metrics.domain.kpis import interval_of
from services.metrics.domain.queues import calls_from, queue_buckets, queue_fields
from services.metrics.domain.timeline import to_us
from shared.events import EventType
from tests.metrics.events import at, event


def offered(clock, call, queue="q1"):
    return event(EventType.CALL_OFFERED, clock, call_id=call, queue_id=queue)


def answered(clock, call, queue="q1", agent="a1"):
    return event(EventType.CALL_ANSWERED, clock, call_id=call, queue_id=queue, agent_id=agent)


def abandoned(clock, call, queue="q1"):
    return event(EventType.CALL_ABANDONED, clock, call_id=call, queue_id=queue)


EVENTS = [
    offered("09:00:00", "c1"),
    answered("09:00:10", "c1"),  # wait 10 s: in SL
    offered("09:00:00", "c2"),
    answered("09:00:30", "c2"),  # wait 30 s: outside SL
    offered("09:01:00", "c3"),
    abandoned("09:01:03", "c3"),  # short abandon (3 s)
    offered("09:02:00", "c4"),
    abandoned("09:02:40", "c4"),  # abandon after 40 s
    offered("09:14:50", "c5"),
    answered("09:15:05", "c5"),  # offered in one interval, answered in the next
    offered("09:05:00", "c6", queue="q2"),  # still waiting
]


def fields(events, threshold=20):
    buckets = queue_buckets(calls_from(events).values(), threshold)
    return {(q, start): queue_fields(b) for (q, start), b in buckets.items()}


def test_hand_computed_interval() -> None:
    got = fields(EVENTS)
    first = got[("q1", interval_of(to_us(at("09:00"))))]
    assert first == {
        "offered": 5,
        "answered": 2,
        "abandoned": 2,
        "short_abandoned": 1,
        "answered_in_sl": 1,
        "asa_s": 20.0,
        "service_level": 1 / 3,
        "abandon_rate": 1 / 3,
    }
    second = got[("q1", interval_of(to_us(at("09:15"))))]
    assert (second["offered"], second["answered"], second["answered_in_sl"], second["asa_s"]) == (
        0,
        1,
        1,
        15.0,
    )
    assert second["service_level"] == 1.0 and second["abandon_rate"] == 0.0
    waiting = got[("q2", interval_of(to_us(at("09:05"))))]
    assert waiting["offered"] == 1 and waiting["service_level"] is None and waiting["asa_s"] is None


def test_threshold_is_inclusive_and_per_queue() -> None:
    events = [offered("09:00:00", "c1"), answered("09:00:20", "c1")]
    assert next(iter(fields(events, threshold=20).values()))["answered_in_sl"] == 1
    assert next(iter(fields(events, threshold=19.999).values()))["answered_in_sl"] == 0


def test_an_answer_waits_for_its_offer_and_arrival_order_does_not_matter() -> None:
    without_offer = fields([answered("09:00:10", "c1")])
    assert without_offer == {}
    shuffled = EVENTS + EVENTS[:3]
    random.Random(7).shuffle(shuffled)
    assert fields(shuffled) == fields(EVENTS)


def test_only_the_first_outcome_counts() -> None:
    events = [offered("09:00:00", "c1"), abandoned("09:00:08", "c1"), answered("09:00:09", "c1")]
    [got] = fields(events).values()
    assert (got["answered"], got["abandoned"]) == (0, 1)
