from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.roster.people.models import Person
from services.roster.teams.models import Team


async def get(session: AsyncSession, team_id: str, *, for_update: bool = False) -> Team | None:
    query = select(Team).where(Team.id == team_id)
    if for_update:
        query = query.with_for_update()
    return await session.scalar(query)


async def led_by(session: AsyncSession, person_id: str) -> list[str]:
    """Ids of the teams the person leads, in id order."""
    query = select(Team.id).where(Team.lead_id == person_id).order_by(Team.id)
    return list(await session.scalars(query))


async def name_taken(session: AsyncSession, name: str, *, except_id: str | None = None) -> bool:
    query = select(Team.id).where(func.lower(Team.name) == name.lower())
    if except_id is not None:
        query = query.where(Team.id != except_id)
    return await session.scalar(query) is not None


async def member_ids(session: AsyncSession, team_ids: Sequence[str]) -> dict[str, list[str]]:
    """Current (not departed) members per team, in id order."""
    rows = await session.execute(
        select(Person.team_id, Person.id)
        .where(Person.team_id.in_(team_ids), Person.status != "departed")
        .order_by(Person.id)
    )
    members: dict[str, list[str]] = {team_id: [] for team_id in team_ids}
    for team_id, person_id in rows:
        members[team_id].append(person_id)
    return members


async def agent_counts(session: AsyncSession, team_ids: Sequence[str]) -> dict[str, int]:
    rows = await session.execute(
        select(Person.team_id, func.count(Person.id))
        .where(Person.team_id.in_(team_ids), Person.role == "agent", Person.status != "departed")
        .group_by(Person.team_id)
    )
    counts = {team_id: 0 for team_id in team_ids}
    counts.update({team_id: n for team_id, n in rows})
    return counts


async def agents_led_by(session: AsyncSession, lead_ids: Sequence[str]) -> dict[str, int]:
    """Span of control: active agents in all the teams each lead leads."""
    rows = await session.execute(
        select(Team.lead_id, func.count(Person.id))
        .join(Person, Person.team_id == Team.id)
        .where(Team.lead_id.in_(lead_ids), Person.role == "agent", Person.status != "departed")
        .group_by(Team.lead_id)
    )
    counts = {lead_id: 0 for lead_id in lead_ids}
    counts.update({lead_id: n for lead_id, n in rows})
    return counts


async def list_teams(
    session: AsyncSession, *, only_ids: Sequence[str] | None, after_id: str | None, limit: int
) -> list[Team]:
    query = select(Team).order_by(Team.id).limit(limit + 1)
    if only_ids is not None:
        query = query.where(Team.id.in_(only_ids))
    if after_id is not None:
        query = query.where(Team.id > after_id)
    return list((await session.scalars(query)).all())
