"""Check-ins: a person records their own mood, stress and an optional note; they, the leads of
their team, managers and admins follow the trend (``services.care.access``).

Nobody records a check-in in someone else's name. A check-in keeps the team the person was in
when they recorded it, so moving teams later does not rewrite who saw what.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from services.care.access import readable_agent
from services.care.checkins import trend as maths
from services.care.checkins.models import CheckIn
from services.care.checkins.schemas import (
    CheckInCreate,
    CheckInRead,
    CheckInTrend,
    LastCheckIn,
    TrendPoint,
)
from services.care.directory.models import Person
from shared.auth import Principal
from shared.errors import Forbidden, ValidationFailed
from shared.pagination import PageParams


def to_read(checkin: CheckIn) -> CheckInRead:
    return CheckInRead.model_validate(checkin, from_attributes=True)


async def record(
    session: AsyncSession, principal: Principal, data: CheckInCreate, *, now: datetime | None = None
) -> CheckIn:
    person = await session.get(Person, principal.id)
    if person is None or person.status == "departed":
        raise Forbidden("Only current staff record check-ins.")
    checkin = CheckIn(
        agent_id=person.id,
        team_id=person.team_id,
        mood=data.mood,
        stress=data.stress,
        note=data.note,
        created_at=now or datetime.now(UTC),
    )
    session.add(checkin)
    await session.flush()
    return checkin


def _after(values: list | None) -> tuple[datetime, str] | None:
    """The (created_at, id) a cursor carries; anything else is a client error, not a 500."""
    if values is None:
        return None
    try:
        created_at, checkin_id = values
        moment = datetime.fromisoformat(created_at)
    except (TypeError, ValueError):
        moment = None
    if moment is None or moment.tzinfo is None or not isinstance(checkin_id, str):
        raise ValidationFailed("cursor is not a cursor this API returned")
    return moment, checkin_id


async def list_visible(
    session: AsyncSession, principal: Principal, page: PageParams, *, agent_id: str
) -> tuple[list[CheckIn], str | None]:
    """The agent's check-ins, newest first."""
    await readable_agent(session, principal, agent_id)
    query = (
        select(CheckIn)
        .where(CheckIn.agent_id == agent_id)
        .order_by(CheckIn.created_at.desc(), CheckIn.id.desc())
        .limit(page.limit + 1)
    )
    after = _after(page.after)
    if after is not None:
        query = query.where(tuple_(CheckIn.created_at, CheckIn.id) < after)
    rows = list((await session.scalars(query)).all())
    return page.page(rows, key=lambda c: [c.created_at.isoformat(), c.id])


async def trend(
    session: AsyncSession,
    principal: Principal,
    agent_id: str,
    *,
    days: int,
    timezone: str,
    now: datetime | None = None,
) -> CheckInTrend:
    """Daily averages over the last ``days`` local days (today included); the last check-in
    and the directions come from the same window, so an old check-in never reads as current."""
    await readable_agent(session, principal, agent_id)
    now = now or datetime.now(UTC)
    rows = await session.execute(
        select(CheckIn.created_at, CheckIn.mood, CheckIn.stress)
        .where(
            CheckIn.agent_id == agent_id,
            CheckIn.created_at >= maths.window_start(now, days, timezone),
            CheckIn.created_at <= now,
        )
        .order_by(CheckIn.created_at, CheckIn.id)
    )
    samples = [maths.Sample(created_at=c, mood=m, stress=s) for c, m, s in rows]
    last = samples[-1] if samples else None
    return CheckInTrend(
        agent_id=agent_id,
        days=days,
        points=[
            TrendPoint(date=p.date, mood=p.mood, stress=p.stress)
            for p in maths.daily_points(samples, timezone)
        ],
        last=LastCheckIn(mood=last.mood, stress=last.stress, created_at=last.created_at)
        if last
        else None,
        mood_direction=maths.direction([s.mood for s in samples]),
        stress_direction=maths.direction([s.stress for s in samples]),
    )
