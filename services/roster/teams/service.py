"""Teams, their leads and members, and the span-of-control norm (1 lead : 20 agents).

Managers and admins create and change teams and move people between them. Managers, admins,
ops, QA and trainers read every team (the directory); a team lead the teams they lead; an agent
their own team. A team's lead is a current person with role team_lead or manager.
"""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.roster.access import DIRECTORY_READERS
from services.roster.events import emit_person_event, emit_team_changed
from services.roster.people import repository as people_repo
from services.roster.people.models import LEAD_ROLES, Person
from services.roster.teams import repository
from services.roster.teams.models import Team
from services.roster.teams.schemas import MembersAdd, TeamCreate, TeamRead, TeamUpdate, TeamWarning
from shared.auth import Principal
from shared.errors import Conflict, Forbidden, NotFound, RuleViolation
from shared.events import EventType
from shared.pagination import PageParams


def visible_team_ids(principal: Principal) -> frozenset[str] | None:
    """Teams a caller may read; ``None`` means all of them."""
    if principal.sees_everything or principal.role in DIRECTORY_READERS:
        return None
    return principal.team_ids


def _require_manager(principal: Principal) -> None:
    if not principal.sees_everything:
        raise Forbidden("Only managers and admins change teams.")


async def get_visible(session: AsyncSession, principal: Principal, team_id: str) -> Team:
    visible = visible_team_ids(principal)
    team = await repository.get(session, team_id)
    if team is None or (visible is not None and team.id not in visible):
        raise NotFound(f"Team {team_id} not found.")
    return team


async def _check_lead(session: AsyncSession, lead_id: str | None) -> None:
    if lead_id is None:
        return
    lead = await people_repo.get(session, lead_id)
    if lead is None or lead.role not in LEAD_ROLES or lead.status == "departed":
        raise RuleViolation(
            "lead_role", "A team's lead must be a current person with role team_lead or manager."
        )


async def to_read(session: AsyncSession, teams: list[Team], span_limit: int) -> list[TeamRead]:
    members = await repository.member_ids(session, [t.id for t in teams])
    agents = await repository.agent_counts(session, [t.id for t in teams])
    spans = await repository.agents_led_by(session, [t.lead_id for t in teams if t.lead_id])
    result = []
    for team in teams:
        span = spans.get(team.lead_id) if team.lead_id else None
        warnings = []
        if span is not None and span > span_limit:
            warnings.append(
                TeamWarning(
                    code="span_of_control_exceeded",
                    message=(
                        f"This team's lead leads {span} agents; the norm is at most "
                        f"{span_limit} per team leader (1:{span_limit})."
                    ),
                )
            )
        result.append(
            TeamRead(
                id=team.id,
                name=team.name,
                lead_id=team.lead_id,
                member_ids=members[team.id],
                agent_count=agents[team.id],
                span_of_control=span,
                warnings=warnings,
                created_at=team.created_at,
                updated_at=team.updated_at,
            )
        )
    return result


async def create(session: AsyncSession, principal: Principal, data: TeamCreate) -> Team:
    _require_manager(principal)
    if await repository.name_taken(session, data.name):
        raise Conflict(f"A team named {data.name!r} already exists.")
    await _check_lead(session, data.lead_id)
    team = Team(name=data.name, lead_id=data.lead_id)
    session.add(team)
    await _flush_unique_name(session, data.name)
    await session.refresh(team)
    await emit_team_changed(session, team)
    return team


async def update(
    session: AsyncSession, principal: Principal, team_id: str, data: TeamUpdate
) -> Team:
    team = await get_visible(session, principal, team_id)
    _require_manager(principal)
    changes = {
        field: value
        for field, value in data.model_dump(exclude_unset=True).items()
        if getattr(team, field) != value
    }
    if not changes:
        return team
    if "name" in changes:
        if changes["name"] is None:
            raise RuleViolation("name_required", "A team's name cannot be removed.")
        if await repository.name_taken(session, changes["name"], except_id=team.id):
            raise Conflict(f"A team named {changes['name']!r} already exists.")
    if "lead_id" in changes:
        await _check_lead(session, changes["lead_id"])
    for field, value in changes.items():
        setattr(team, field, value)
    await _flush_unique_name(session, team.name)
    await session.refresh(team)
    await emit_team_changed(session, team)
    return team


async def _flush_unique_name(session: AsyncSession, name: str) -> None:
    """Covers a concurrent request that took the name between the check and the write."""
    try:
        await session.flush()
    except IntegrityError:
        raise Conflict(f"A team named {name!r} already exists.") from None


async def add_members(
    session: AsyncSession, principal: Principal, team_id: str, data: MembersAdd
) -> Team:
    """Move people into the team; each team they leave hears about it too."""
    team = await get_visible(session, principal, team_id)
    _require_manager(principal)
    joined: list[str] = []
    left_by_team: dict[str, list[str]] = {}
    for person_id in dict.fromkeys(data.person_ids):
        person = await people_repo.get(session, person_id, for_update=True)
        if person is None:
            raise RuleViolation("unknown_person", f"Person {person_id} does not exist.")
        if person.status == "departed":
            raise RuleViolation("person_departed", f"Person {person_id} has departed.")
        if person.team_id == team.id:
            continue
        if person.team_id is not None:
            left_by_team.setdefault(person.team_id, []).append(person.id)
        await _set_team(session, person, team.id)
        joined.append(person.id)
    for old_team_id, left in left_by_team.items():
        old_team = await repository.get(session, old_team_id)
        if old_team is not None:
            await emit_team_changed(session, old_team, left=left)
    if joined:
        await emit_team_changed(session, team, joined=joined)
    return team


async def remove_member(
    session: AsyncSession, principal: Principal, team_id: str, person_id: str
) -> Team:
    team = await get_visible(session, principal, team_id)
    _require_manager(principal)
    person = await people_repo.get(session, person_id, for_update=True)
    if person is None or person.team_id != team.id:
        raise NotFound(f"Person {person_id} is not a member of team {team_id}.")
    await _set_team(session, person, None)
    await emit_team_changed(session, team, left=[person.id])
    return team


async def _set_team(session: AsyncSession, person: Person, team_id: str | None) -> None:
    person.team_id = team_id
    await session.flush()
    await emit_person_event(session, EventType.PERSON_UPDATED, person, changed=["team_id"])


async def list_visible(
    session: AsyncSession, principal: Principal, page: PageParams
) -> tuple[list[Team], str | None]:
    visible = visible_team_ids(principal)
    teams = await repository.list_teams(
        session,
        only_ids=sorted(visible) if visible is not None else None,
        after_id=page.after[0] if page.after else None,
        limit=page.limit,
    )
    return page.page(teams, key=lambda t: [t.id])
