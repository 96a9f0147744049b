"""KPI maths (DESIGN §4), pure: timelines and quality events into 15-minute buckets, then
the exact fields the API returns. Durations are integer microseconds until the very end.

* Intervals are 15 minutes aligned to UTC; a segment is split across interval boundaries.
* ``logged_in_s = available_s + talk_s + hold_s + acw_s + aux_s`` holds by construction.
* ``answered`` counts in the interval of the answer; ``handled`` and ``handle_s`` in the
  interval where ACW ended, with that contact's talk + hold + ACW wherever they fell.
* Quality (surveys, QA evaluations, complaints) counts in the interval of its own event time.
* A ratio with a zero denominator is ``None`` (``null``), never 0.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, fields
from datetime import date, datetime
from zoneinfo import ZoneInfo

from services.metrics.domain.timeline import (
    ACW,
    AUX,
    AVAILABLE,
    HOLD,
    TALK,
    Timeline,
    from_us,
    to_us,
)
from shared.events import CloudEvent, EventType

INTERVAL_US = 15 * 60 * 1_000_000
US = 1_000_000


def interval_of(us: int) -> int:
    return us - us % INTERVAL_US


def split_by_interval(start: int, end: int) -> Iterator[tuple[int, int]]:
    """``(interval_start, microseconds)`` pieces of ``[start, end)``."""
    cursor = start
    while cursor < end:
        bucket = interval_of(cursor)
        stop = min(end, bucket + INTERVAL_US)
        yield bucket, stop - cursor
        cursor = stop


@dataclass
class AgentBucket:
    """Additive counters of one agent over one span; buckets add up into days and teams."""

    available_us: int = 0
    talk_us: int = 0
    hold_us: int = 0
    acw_us: int = 0
    aux_us: int = 0
    aux_by_reason_us: dict[str, int] = field(default_factory=dict)
    answered: int = 0
    handled: int = 0
    handle_us: int = 0
    csat_count: int = 0
    csat_sum: int = 0
    csat_top2: int = 0
    fcr_answered: int = 0
    fcr_yes: int = 0
    qa_count: int = 0
    qa_sum: float = 0.0
    complaints: int = 0
    escalated_complaints: int = 0
    scheduled_us: int = 0
    adherent_us: int = 0
    shifts_scheduled: int = 0
    shifts_attended: int = 0
    late_us: int = 0

    @property
    def logged_in_us(self) -> int:
        return self.available_us + self.talk_us + self.hold_us + self.acw_us + self.aux_us

    def add(self, other: AgentBucket) -> None:
        for f in fields(self):
            if f.name == "aux_by_reason_us":
                for reason, us in other.aux_by_reason_us.items():
                    self.aux_by_reason_us[reason] = self.aux_by_reason_us.get(reason, 0) + us
            else:
                setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))

    def is_empty(self) -> bool:
        return self == AgentBucket()


STATE_FIELD = {AVAILABLE: "available_us", TALK: "talk_us", HOLD: "hold_us", ACW: "acw_us"}


def agent_buckets(timeline: Timeline, quality: Iterable[CloudEvent] = ()) -> dict[int, AgentBucket]:
    """One agent's buckets by interval start (microseconds)."""
    buckets: dict[int, AgentBucket] = defaultdict(AgentBucket)
    for segment in timeline.segments:
        for bucket_start, us in split_by_interval(segment.start, segment.end):
            bucket = buckets[bucket_start]
            if segment.state == AUX:
                reason = segment.reason or "unspecified"
                bucket.aux_us += us
                bucket.aux_by_reason_us[reason] = bucket.aux_by_reason_us.get(reason, 0) + us
            else:
                name = STATE_FIELD[segment.state]
                setattr(bucket, name, getattr(bucket, name) + us)
    for at, _call_id in timeline.answers:
        buckets[interval_of(at)].answered += 1
    for contact in timeline.contacts:
        bucket = buckets[interval_of(contact.handled_at)]
        bucket.handled += 1
        bucket.handle_us += contact.handle_us
    for event in {e.id: e for e in quality}.values():
        add_quality(buckets[interval_of(to_us(event.time))], event)
    return dict(buckets)


def add_quality(bucket: AgentBucket, event: CloudEvent) -> None:
    data = event.data
    if event.type == EventType.SURVEY_COMPLETED:
        bucket.csat_count += 1
        bucket.csat_sum += data.csat
        bucket.csat_top2 += data.csat >= 4
        if data.fcr is not None:
            bucket.fcr_answered += 1
            bucket.fcr_yes += data.fcr
    elif event.type == EventType.QA_EVALUATION_COMPLETED:
        bucket.qa_count += 1
        bucket.qa_sum += data.score
    elif event.type == EventType.COMPLAINT_RECEIVED:
        bucket.complaints += 1
        bucket.escalated_complaints += data.escalated


def ratio(numerator: float, denominator: float) -> float | None:
    return numerator / denominator if denominator else None


def seconds(us: int) -> float:
    return us / US


def agent_day_fields(bucket: AgentBucket) -> dict[str, object]:
    """Day granularity adds schedule adherence, attendance and lateness."""
    return {
        **agent_fields(bucket),
        "adherence": ratio(bucket.adherent_us, bucket.scheduled_us),
        "attendance_rate": ratio(bucket.shifts_attended, bucket.shifts_scheduled),
        "late_s": seconds(bucket.late_us) if bucket.shifts_scheduled else None,
    }


def agent_fields(bucket: AgentBucket) -> dict[str, object]:
    """The DESIGN §4 field names, seconds as numbers, ratios ``None`` when undefined."""
    working = bucket.talk_us + bucket.hold_us + bucket.acw_us
    logged_in = bucket.logged_in_us
    return {
        "logged_in_s": seconds(logged_in),
        "available_s": seconds(bucket.available_us),
        "talk_s": seconds(bucket.talk_us),
        "hold_s": seconds(bucket.hold_us),
        "acw_s": seconds(bucket.acw_us),
        "aux_s": seconds(bucket.aux_us),
        "aux_by_reason": {r: seconds(us) for r, us in sorted(bucket.aux_by_reason_us.items())},
        "answered": bucket.answered,
        "handled": bucket.handled,
        "handle_s": seconds(bucket.handle_us),
        "aht_s": ratio(seconds(bucket.handle_us), bucket.handled),
        "occupancy": ratio(working, working + bucket.available_us),
        "utilization": ratio(working, logged_in),
        "aux_ratio": ratio(bucket.aux_us, logged_in),
        "csat_count": bucket.csat_count,
        "csat_avg": ratio(bucket.csat_sum, bucket.csat_count),
        "csat_top2": ratio(bucket.csat_top2, bucket.csat_count),
        "fcr_rate": ratio(bucket.fcr_yes, bucket.fcr_answered),
        "qa_count": bucket.qa_count,
        "qa_avg": ratio(bucket.qa_sum, bucket.qa_count),
        "complaints": bucket.complaints,
        "escalated_complaints": bucket.escalated_complaints,
    }


def local_day(interval_start_us: int, timezone: str) -> date:
    """The center-local day an interval belongs to.

    Every UTC offset in use is a multiple of 15 minutes, so an interval never straddles two
    local days.
    """
    return from_us(interval_start_us).astimezone(ZoneInfo(timezone)).date()


def roll_up(buckets: dict[int, AgentBucket], key) -> dict[object, AgentBucket]:
    """Sum buckets under ``key(interval_start)`` (a day, a range …)."""
    totals: dict[object, AgentBucket] = defaultdict(AgentBucket)
    for start, bucket in buckets.items():
        totals[key(start)].add(bucket)
    return dict(totals)


def window(
    buckets: dict[int, AgentBucket], start: datetime, end: datetime
) -> dict[int, AgentBucket]:
    """Buckets whose interval starts in ``[start, end)``."""
    lo, hi = to_us(start), to_us(end)
    return {k: v for k, v in buckets.items() if lo <= k < hi}
