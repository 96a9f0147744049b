"""Reading figures: an agent's, a team's (its members' sums at the time) and a queue's.

Closed segments, contacts and answers come from the tables the ingest keeps; the open segment
comes from the agent's snapshot, cut at "now". Everything is then bucketed by the same pure
functions the tests hold to DESIGN §4.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.metrics.domain.adherence import Planned, day_adherence
from services.metrics.domain.kpis import (
    INTERVAL_US,
    AgentBucket,
    agent_buckets,
    agent_day_fields,
    agent_fields,
    local_day,
    roll_up,
)
from services.metrics.domain.queues import Call, QueueBucket, queue_buckets, queue_fields
from services.metrics.domain.timeline import Contact, Segment, Timeline, from_us, to_us
from services.metrics.ingest.care_breaks import granted_breaks
from services.metrics.ingest.models import (
    AgentAnswer,
    AgentContact,
    AgentSegment,
    AgentSnapshot,
    CtiEvent,
    PublishedSchedule,
    QueueCall,
    TeamMembership,
)
from shared.events import EventType, validate_event

QUALITY_TYPES = (
    EventType.SURVEY_COMPLETED.value,
    EventType.QA_EVALUATION_COMPLETED.value,
    EventType.COMPLAINT_RECEIVED.value,
)


@dataclass(frozen=True)
class Window:
    start: datetime
    end: datetime
    granularity: str
    timezone: str

    @property
    def lo(self) -> int:
        return to_us(self.start)

    @property
    def hi(self) -> int:
        return to_us(self.end)


async def load_agent(
    session: AsyncSession, agent_id: str, lo: int, hi: int, now: int
) -> tuple[Timeline, list]:
    """An agent's timeline clipped to ``[lo, hi)`` (the open segment cut at ``now``) and the
    quality events in it."""
    rows = await session.scalars(
        select(AgentSegment).where(
            AgentSegment.agent_id == agent_id, AgentSegment.end_us > lo, AgentSegment.start_us < hi
        )
    )
    segments = [
        Segment(max(s.start_us, lo), min(s.end_us, hi), s.state, s.reason, s.call_id) for s in rows
    ]
    snapshot = await session.get(AgentSnapshot, agent_id)
    if snapshot is not None:
        state = snapshot.state
        since = state.get("since")
        if state["state"] != "logged_out" and since is not None:
            start, end = max(since, lo), min(now, hi)
            if end > start:
                call = (state.get("contact") or {}).get("call_id")
                segments.append(Segment(start, end, state["state"], state.get("reason"), call))
    contacts = [
        Contact(c.call_id, c.answered_us, c.handled_us, c.talk_us, c.hold_us, c.acw_us)
        for c in await session.scalars(
            select(AgentContact).where(
                AgentContact.agent_id == agent_id,
                AgentContact.handled_us >= lo,
                AgentContact.handled_us < hi,
            )
        )
    ]
    answers = [
        (a.answered_us, a.call_id)
        for a in await session.scalars(
            select(AgentAnswer).where(
                AgentAnswer.agent_id == agent_id,
                AgentAnswer.answered_us >= lo,
                AgentAnswer.answered_us < hi,
            )
        )
    ]
    quality = [
        validate_event(e)
        for e in await session.scalars(
            select(CtiEvent.envelope).where(
                CtiEvent.agent_id == agent_id,
                CtiEvent.type.in_(QUALITY_TYPES),
                CtiEvent.time >= from_us(lo),
                CtiEvent.time < from_us(hi),
            )
        )
    ]
    return Timeline(segments, contacts, answers), quality


async def schedule_days(
    session: AsyncSession, agent_id: str, timeline: Timeline, lo: int, hi: int, timezone: str
) -> dict[date, AgentBucket]:
    """Adherence, attendance and lateness per local day, from the published schedules.

    Activities are clipped to ``[lo, hi)``, so a partial window judges the part it covers.
    """
    first, last = local_day(lo, timezone), local_day(hi - 1, timezone)
    schedules = await session.scalars(
        select(PublishedSchedule).where(
            PublishedSchedule.agent_id == agent_id,
            PublishedSchedule.day >= first.isoformat(),
            PublishedSchedule.day <= last.isoformat(),
        )
    )
    days: dict[date, AgentBucket] = {}
    for schedule in schedules:
        plan = [
            Planned(a["kind"], max(lo, to_us(_parse(a["start"]))), min(hi, to_us(_parse(a["end"]))))
            for a in schedule.activities
        ]
        plan = [p for p in plan if p.end > p.start]
        if not plan:
            continue
        granted = await granted_breaks(
            session, agent_id, min(p.start for p in plan), max(p.end for p in plan)
        )
        result = day_adherence(timeline.segments, plan, granted)
        days[date.fromisoformat(schedule.day)] = AgentBucket(
            scheduled_us=result.scheduled_us,
            adherent_us=result.adherent_us,
            shifts_scheduled=1,
            shifts_attended=int(result.attended),
            late_us=result.late_us,
        )
    return days


def _parse(value: str) -> datetime:
    return datetime.fromisoformat(value)


def shape(
    window: Window,
    buckets: dict[int, Any],
    fields_of: Callable[[Any], dict],
    empty: Callable[[], Any],
    *,
    day_fields_of: Callable[[Any], dict] | None = None,
    day_extras: dict[date, Any] | None = None,
) -> dict:
    """``{"start", "end", "granularity", "buckets": [...], "total": {...}}`` for any bucket kind.

    ``day_extras`` are per-day figures that belong to no interval (adherence, attendance).
    """
    total = empty()
    for bucket in buckets.values():
        total.add(bucket)
    if window.granularity == "day":
        tz = ZoneInfo(window.timezone)
        by_day = roll_up(buckets, lambda start: local_day(start, window.timezone))
        for day, extra in (day_extras or {}).items():
            by_day.setdefault(day, empty()).add(extra)
            total.add(extra)
        render = day_fields_of or fields_of
        items = []
        for day in sorted(by_day):
            begin = datetime.combine(day, datetime.min.time(), tzinfo=tz)
            items.append(
                {
                    "start": begin.isoformat(),
                    "end": (begin + timedelta(days=1)).isoformat(),
                    **render(by_day[day]),
                }
            )
    else:
        render = fields_of
        items = [
            {
                "start": from_us(start).isoformat(),
                "end": from_us(start + INTERVAL_US).isoformat(),
                **fields_of(bucket),
            }
            for start, bucket in sorted(buckets.items())
        ]
    return {
        "start": window.start.isoformat(),
        "end": window.end.isoformat(),
        "granularity": window.granularity,
        "buckets": items,
        "total": render(total),
    }


async def agent_figures(
    session: AsyncSession, agent_id: str, window: Window, now: datetime
) -> dict:
    timeline, quality = await load_agent(session, agent_id, window.lo, window.hi, to_us(now))
    buckets = {k: v for k, v in agent_buckets(timeline, quality).items() if not v.is_empty()}
    extras = None
    if window.granularity == "day":
        extras = await schedule_days(
            session, agent_id, timeline, window.lo, window.hi, window.timezone
        )
    figures = shape(
        window,
        buckets,
        agent_fields,
        AgentBucket,
        day_fields_of=agent_day_fields,
        day_extras=extras,
    )
    return {"agent_id": agent_id, **figures}


async def memberships(
    session: AsyncSession, team_id: str, lo: int, hi: int
) -> list[tuple[str, int, int]]:
    """``(person, from, to)`` spans of the team's membership overlapping ``[lo, hi)``."""
    rows = await session.scalars(
        select(TeamMembership).where(
            TeamMembership.team_id == team_id,
            TeamMembership.valid_from < from_us(hi),
            or_(TeamMembership.valid_to.is_(None), TeamMembership.valid_to > from_us(lo)),
        )
    )
    spans = []
    for m in rows:
        start = max(lo, to_us(m.valid_from))
        end = min(hi, to_us(m.valid_to) if m.valid_to else hi)
        if end > start:
            spans.append((m.person_id, start, end))
    return spans


async def team_figures(session: AsyncSession, team_id: str, window: Window, now: datetime) -> dict:
    """Members' sums (never averages of averages), each member counted while in the team."""
    totals: dict[int, AgentBucket] = {}
    extras: dict[date, AgentBucket] = {}
    for person_id, start, end in await memberships(session, team_id, window.lo, window.hi):
        timeline, quality = await load_agent(session, person_id, start, end, to_us(now))
        for key, bucket in agent_buckets(timeline, quality).items():
            totals.setdefault(key, AgentBucket()).add(bucket)
        if window.granularity == "day":
            days = await schedule_days(session, person_id, timeline, start, end, window.timezone)
            for day, bucket in days.items():
                extras.setdefault(day, AgentBucket()).add(bucket)
    totals = {k: v for k, v in totals.items() if not v.is_empty()}
    figures = shape(
        window,
        totals,
        agent_fields,
        AgentBucket,
        day_fields_of=agent_day_fields,
        day_extras=extras,
    )
    return {"team_id": team_id, **figures}


async def current_team_of(session: AsyncSession, person_id: str) -> str | None:
    return await session.scalar(
        select(TeamMembership.team_id).where(
            TeamMembership.person_id == person_id, TeamMembership.valid_to.is_(None)
        )
    )


async def queue_window_buckets(
    session: AsyncSession, queue_id: str, lo: int, hi: int, threshold_s: float
) -> dict[int, QueueBucket]:
    rows = await session.scalars(
        select(QueueCall).where(
            QueueCall.queue_id == queue_id,
            or_(
                and_(QueueCall.offered_us >= lo, QueueCall.offered_us < hi),
                and_(QueueCall.outcome_us >= lo, QueueCall.outcome_us < hi),
            ),
        )
    )
    calls = [Call(r.call_id, r.queue_id, r.offered_us, r.outcome, r.outcome_us) for r in rows]
    return {
        start: bucket
        for (_, start), bucket in queue_buckets(calls, threshold_s).items()
        if lo <= start < hi
    }


async def queue_figures(
    session: AsyncSession, queue_id: str, window: Window, threshold_s: float
) -> dict:
    buckets = await queue_window_buckets(session, queue_id, window.lo, window.hi, threshold_s)
    return {"queue_id": queue_id, **shape(window, buckets, queue_fields, QueueBucket)}


def sum_buckets(buckets: Iterable[QueueBucket]) -> QueueBucket:
    total = QueueBucket()
    for bucket in buckets:
        total.add(bucket)
    return total
