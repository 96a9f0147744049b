from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy import Select, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from services.roster.leave.models import LeaveRequest
from services.roster.people.models import Person
from services.roster.schedules.models import Schedule


async def get(
    session: AsyncSession, agent_id: str, day: date, *, for_update: bool = False
) -> Schedule | None:
    query = (
        select(Schedule)
        .where(Schedule.agent_id == agent_id, Schedule.day == day)
        .options(selectinload(Schedule.activities))
    )
    if for_update:
        query = query.with_for_update(of=Schedule)
    return (await session.scalars(query)).one_or_none()


async def approved_leave_on(session: AsyncSession, agent_id: str, day: date) -> bool:
    found = await session.scalar(
        select(LeaveRequest.id).where(
            LeaveRequest.agent_id == agent_id,
            LeaveRequest.status == "approved",
            LeaveRequest.start_date <= day,
            LeaveRequest.end_date >= day,
        )
    )
    return found is not None


def _scoped(query: Select, team_ids: Sequence[str] | None, self_id: str | None) -> Select:
    if team_ids is None:
        return query
    members = select(Person.id).where(Person.team_id.in_(team_ids))
    if self_id is not None:
        return query.where((Schedule.agent_id.in_(members)) | (Schedule.agent_id == self_id))
    return query.where(Schedule.agent_id.in_(members))


async def drafts_for_day(
    session: AsyncSession, day: date, *, team_ids: Sequence[str] | None
) -> list[Schedule]:
    query = (
        select(Schedule)
        .where(Schedule.day == day, Schedule.status == "draft")
        .options(selectinload(Schedule.activities))
        .order_by(Schedule.agent_id)
        .with_for_update(of=Schedule)
    )
    return list((await session.scalars(_scoped(query, team_ids, None))).all())


async def in_range(session: AsyncSession, agent_id: str, start: date, end: date) -> list[Schedule]:
    query = (
        select(Schedule)
        .where(Schedule.agent_id == agent_id, Schedule.day >= start, Schedule.day <= end)
        .options(selectinload(Schedule.activities))
        .with_for_update(of=Schedule)
    )
    return list((await session.scalars(query)).all())


async def list_schedules(
    session: AsyncSession,
    *,
    team_ids: Sequence[str] | None,
    self_id: str | None,
    agent_id: str | None,
    team_id: str | None,
    start: date | None,
    end: date | None,
    status: str | None,
    after: tuple[str, str] | None,
    limit: int,
) -> list[Schedule]:
    query = (
        select(Schedule)
        .options(selectinload(Schedule.activities))
        .order_by(Schedule.day, Schedule.id)
        .limit(limit + 1)
    )
    query = _scoped(query, team_ids, self_id)
    if agent_id is not None:
        query = query.where(Schedule.agent_id == agent_id)
    if team_id is not None:
        query = query.where(
            Schedule.agent_id.in_(select(Person.id).where(Person.team_id == team_id))
        )
    if start is not None:
        query = query.where(Schedule.day >= start)
    if end is not None:
        query = query.where(Schedule.day <= end)
    if status is not None:
        query = query.where(Schedule.status == status)
    if after is not None:
        query = query.where(
            tuple_(Schedule.day, Schedule.id) > (date.fromisoformat(after[0]), after[1])
        )
    return list((await session.scalars(query)).all())
