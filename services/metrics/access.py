"""Who may read which figures: agents themselves, team leads their teams, ops, QA, managers
and admins everything. Anything else is a 404."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services.metrics.kpi.service import current_team_of
from shared.auth import Principal, Role
from shared.errors import NotFound

READ_ALL = frozenset({Role.OPS, Role.QA, Role.MANAGER, Role.ADMIN})


async def check_agent(session: AsyncSession, principal: Principal, agent_id: str) -> None:
    if principal.role in READ_ALL or principal.id == agent_id:
        return
    if principal.role == Role.TEAM_LEAD and principal.leads(
        await current_team_of(session, agent_id)
    ):
        return
    raise NotFound(f"No figures for agent {agent_id}.")


def check_team(principal: Principal, team_id: str) -> None:
    if principal.role in READ_ALL or principal.leads(team_id):
        return
    raise NotFound(f"No figures for team {team_id}.")


def check_queues(principal: Principal) -> None:
    if principal.role in READ_ALL or principal.role == Role.TEAM_LEAD:
        return
    raise NotFound("Queue figures are for team leads, ops, QA, managers and admins.")
