from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, tuple_
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.ext.asyncio import AsyncSession

from services.care.assessments.models import Assessment
from services.care.directory.models import Person, Team


async def team_exists(session: AsyncSession, team_id: str) -> bool:
    return await session.get(Team, team_id) is not None


async def history(
    session: AsyncSession, agent_id: str, *, after: tuple[datetime, str] | None, limit: int
) -> list[Assessment]:
    """Newest first; ``after`` is the (assessed_at, id) of the last row of the previous page."""
    query = (
        select(Assessment)
        .where(Assessment.agent_id == agent_id)
        .order_by(Assessment.assessed_at.desc(), Assessment.id.desc())
        .limit(limit + 1)
    )
    if after is not None:
        query = query.where(tuple_(Assessment.assessed_at, Assessment.id) < after)
    return list((await session.scalars(query)).all())


async def team_agents(session: AsyncSession, team_id: str) -> list[Person]:
    query = (
        select(Person)
        .where(Person.team_id == team_id, Person.role == "agent", Person.status != "departed")
        .order_by(Person.name, Person.id)
    )
    return list((await session.scalars(query)).all())


async def latest_for(session: AsyncSession, agent_ids: list[str]) -> dict[str, Assessment]:
    """Each agent's latest assessment, in one query."""
    if not agent_ids:
        return {}
    query = (
        select(Assessment)
        .where(Assessment.agent_id.in_(agent_ids))
        .ext(distinct_on(Assessment.agent_id))
        .order_by(Assessment.agent_id, Assessment.assessed_at.desc(), Assessment.id.desc())
    )
    return {a.agent_id: a for a in (await session.scalars(query)).all()}
