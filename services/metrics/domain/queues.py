"""Queue KPIs (DESIGN §4), pure.

``offered`` counts a call in the interval of its offer. Every other count takes each call once,
in the interval where it was answered or abandoned, with wait = that moment - its
``cti.call.offered`` time. An answer or abandonment whose offer has not arrived yet is held back
and counted when the offer arrives (order of arrival never changes a number). A call's first
outcome wins.

* ``short_abandoned``: abandoned with wait < 5 s;
* ``answered_in_sl``: answered with wait ≤ T (T default 20 s, per queue);
* ``asa_s`` = Σ wait of answered / answered;
* ``service_level`` = answered_in_sl / (answered + abandoned - short_abandoned);
* ``abandon_rate`` = (abandoned - short_abandoned) / (answered + abandoned - short_abandoned).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, fields

from services.metrics.domain.kpis import US, interval_of, ratio, seconds
from services.metrics.domain.timeline import to_us
from shared.events import CloudEvent, EventType

SHORT_ABANDON_US = 5 * US


@dataclass
class QueueBucket:
    offered: int = 0
    answered: int = 0
    abandoned: int = 0
    short_abandoned: int = 0
    answered_in_sl: int = 0
    answered_wait_us: int = 0

    def add(self, other: QueueBucket) -> None:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))


@dataclass
class Call:
    call_id: str
    queue_id: str | None = None
    offered_at: int | None = None
    outcome: str | None = None
    outcome_at: int | None = None


def calls_from(events: Iterable[CloudEvent]) -> dict[str, Call]:
    """Fold a call's queue events (any order, duplicates allowed) into one record."""
    calls: dict[str, Call] = {}
    for event in sorted({e.id: e for e in events}.values(), key=lambda e: (to_us(e.time), e.id)):
        if event.type not in (
            EventType.CALL_OFFERED,
            EventType.CALL_ANSWERED,
            EventType.CALL_ABANDONED,
        ):
            continue
        call = calls.setdefault(event.data.call_id, Call(event.data.call_id))
        call.queue_id = call.queue_id or event.data.queue_id
        at = to_us(event.time)
        if event.type == EventType.CALL_OFFERED:
            call.offered_at = at if call.offered_at is None else min(call.offered_at, at)
        elif call.outcome is None:
            call.outcome = "answered" if event.type == EventType.CALL_ANSWERED else "abandoned"
            call.outcome_at = at
    return calls


def queue_buckets(
    calls: Iterable[Call], sl_threshold_s: float = 20
) -> dict[tuple[str, int], QueueBucket]:
    """Buckets by ``(queue_id, interval_start)``."""
    threshold_us = round(sl_threshold_s * US)
    buckets: dict[tuple[str, int], QueueBucket] = defaultdict(QueueBucket)
    for call in calls:
        if call.queue_id is None or call.offered_at is None:
            continue
        buckets[(call.queue_id, interval_of(call.offered_at))].offered += 1
        if call.outcome is None or call.outcome_at is None:
            continue
        bucket = buckets[(call.queue_id, interval_of(call.outcome_at))]
        wait = max(0, call.outcome_at - call.offered_at)
        if call.outcome == "answered":
            bucket.answered += 1
            bucket.answered_wait_us += wait
            bucket.answered_in_sl += wait <= threshold_us
        else:
            bucket.abandoned += 1
            bucket.short_abandoned += wait < SHORT_ABANDON_US
    return dict(buckets)


def queue_fields(bucket: QueueBucket) -> dict[str, object]:
    counted = bucket.answered + bucket.abandoned - bucket.short_abandoned
    return {
        "offered": bucket.offered,
        "answered": bucket.answered,
        "abandoned": bucket.abandoned,
        "short_abandoned": bucket.short_abandoned,
        "answered_in_sl": bucket.answered_in_sl,
        "asa_s": ratio(seconds(bucket.answered_wait_us), bucket.answered),
        "service_level": ratio(bucket.answered_in_sl, counted),
        "abandon_rate": ratio(bucket.abandoned - bucket.short_abandoned, counted),
    }
