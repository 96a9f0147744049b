"""Who may see and write care data (DESIGN §6, issue 4 §1).

- An agent reads their own records (never the private notes), check-ins and trend.
- A team lead reads and writes everything about the agents of the teams they lead.
- Managers and admins read and write everything.
- ``ops``, ``qa`` and ``trainer`` never read care data.

Whatever a caller may not see is a 404, so its existence is not revealed either.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services.care.directory.models import Person
from shared.auth import Principal, Role
from shared.errors import Forbidden, NotFound

RECORD_READERS = frozenset({Role.AGENT, Role.TEAM_LEAD, Role.MANAGER, Role.ADMIN})
"""Ops, QA and trainers never read care records, not even records about themselves."""


def check_record_reader(principal: Principal) -> None:
    if principal.role not in RECORD_READERS:
        raise NotFound("Care records are for the agent, their team leads and managers.")


def can_read(principal: Principal, agent_id: str, team_id: str | None) -> bool:
    return principal.sees_everything or principal.id == agent_id or principal.leads(team_id)


def can_write(principal: Principal, agent_id: str, team_id: str | None) -> bool:
    """Leads of the agent's team, managers and admins — never about themselves."""
    return principal.id != agent_id and (principal.sees_everything or principal.leads(team_id))


def sees_private_notes(principal: Principal, agent_id: str, team_id: str | None) -> bool:
    return principal.id != agent_id and (principal.sees_everything or principal.leads(team_id))


def led_teams(principal: Principal) -> frozenset[str] | None:
    """The teams whose care data a caller oversees: ``None`` means all; 404 for non-leaders."""
    if principal.sees_everything:
        return None
    if principal.role == Role.TEAM_LEAD:
        return principal.team_ids
    raise NotFound("Care data is for team leads, managers and admins.")


def check_team(principal: Principal, team_id: str) -> None:
    if not (principal.sees_everything or principal.leads(team_id)):
        raise NotFound(f"No care data for team {team_id}.")


async def readable_agent(session: AsyncSession, principal: Principal, agent_id: str) -> Person:
    person = await session.get(Person, agent_id)
    if person is None or not can_read(principal, agent_id, person.team_id):
        raise NotFound(f"No care data for person {agent_id}.")
    return person


async def writable_agent(session: AsyncSession, principal: Principal, agent_id: str) -> Person:
    person = await readable_agent(session, principal, agent_id)
    if not can_write(principal, agent_id, person.team_id):
        raise Forbidden("Only the agent's team lead, managers and admins write care data.")
    return person
