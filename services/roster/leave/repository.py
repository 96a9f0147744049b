from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.roster.leave.models import LeaveRequest
from services.roster.people.models import Person


async def get(
    session: AsyncSession, leave_id: str, *, for_update: bool = False
) -> LeaveRequest | None:
    query = select(LeaveRequest).where(LeaveRequest.id == leave_id)
    if for_update:
        query = query.with_for_update()
    return await session.scalar(query)


async def overlapping(session: AsyncSession, agent_id: str, start: date, end: date) -> bool:
    """A pending or approved request of the agent that shares a day with [start, end]."""
    found = await session.scalar(
        select(LeaveRequest.id).where(
            LeaveRequest.agent_id == agent_id,
            LeaveRequest.status.in_(("pending", "approved")),
            LeaveRequest.start_date <= end,
            LeaveRequest.end_date >= start,
        )
    )
    return found is not None


async def list_requests(
    session: AsyncSession,
    *,
    team_ids: Sequence[str] | None,
    self_id: str | None,
    agent_id: str | None,
    status: str | None,
    after_id: str | None,
    limit: int,
) -> list[LeaveRequest]:
    query = select(LeaveRequest).order_by(LeaveRequest.id).limit(limit + 1)
    if team_ids is not None:
        members = select(Person.id).where(Person.team_id.in_(team_ids))
        query = query.where(
            or_(LeaveRequest.agent_id.in_(members), LeaveRequest.agent_id == self_id)
        )
    if agent_id is not None:
        query = query.where(LeaveRequest.agent_id == agent_id)
    if status is not None:
        query = query.where(LeaveRequest.status == status)
    if after_id is not None:
        query = query.where(LeaveRequest.id > after_id)
    return list((await session.scalars(query)).all())
