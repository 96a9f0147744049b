"""Team-lead assessments: ability x cooperation and a personality colour, kept as a history.

Only the agent's team lead, managers and admins ever see them. Agents never do, not even their
own: a quadrant is a lead's working hypothesis for a conversation, not a verdict to hand out.
Everyone else gets a 404, as if there were nothing.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from services.care.access import check_team, writable_agent
from services.care.assessments import repository
from services.care.assessments.models import Assessment
from services.care.assessments.quadrant import colour_tips, quadrant
from services.care.assessments.schemas import (
    AgentLatest,
    AssessmentCreate,
    AssessmentRead,
    TeamLatest,
)
from services.care.directory.models import Person
from shared.auth import Principal, Role
from shared.errors import NotFound, RuleViolation, ValidationFailed
from shared.pagination import PageParams


def to_read(assessment: Assessment) -> AssessmentRead:
    q = quadrant(assessment.ability, assessment.cooperation)
    return AssessmentRead(
        id=assessment.id,
        agent_id=assessment.agent_id,
        team_id=assessment.team_id,
        author_id=assessment.author_id,
        ability=assessment.ability,
        cooperation=assessment.cooperation,
        quadrant=q.name,
        approach=q.approach,
        advice=q.advice,
        colour=assessment.colour,  # type: ignore[arg-type]
        colour_tips=colour_tips(assessment.colour),
        note=assessment.note,
        assessed_at=assessment.assessed_at,
    )


def _check_assessor(principal: Principal) -> None:
    """Before any lookup: an agent asking about themselves gets the same 404 as anyone else."""
    if not (principal.sees_everything or principal.role == Role.TEAM_LEAD):
        raise NotFound("Assessments are for team leads, managers and admins.")


async def create(
    session: AsyncSession, principal: Principal, data: AssessmentCreate, now: datetime
) -> Assessment:
    _check_assessor(principal)
    person = await writable_agent(session, principal, data.agent_id)
    if person.role != "agent":
        raise NotFound(f"No agent {person.id} to assess.")
    if person.status == "departed":
        raise RuleViolation("agent_departed", f"Agent {person.id} has left; assessments stop.")
    assessment = Assessment(
        agent_id=person.id,
        team_id=person.team_id,
        author_id=principal.id,
        ability=data.ability,
        cooperation=data.cooperation,
        colour=data.colour,
        note=data.note,
        assessed_at=now,
    )
    session.add(assessment)
    await session.flush()
    return assessment


async def history(
    session: AsyncSession, principal: Principal, agent_id: str, page: PageParams
) -> tuple[list[Assessment], str | None]:
    """An agent's assessments, newest first, for the lead of their current team and above —
    never for the assessed person themselves."""
    person = await session.get(Person, agent_id)
    if (
        person is None
        or principal.id == agent_id
        or not (principal.sees_everything or principal.leads(person.team_id))
    ):
        raise NotFound(f"No care data for person {agent_id}.")
    rows = await repository.history(session, person.id, after=_after(page), limit=page.limit)
    return page.page(rows, key=lambda a: [a.assessed_at.isoformat(), a.id])


async def latest_for_team(session: AsyncSession, principal: Principal, team_id: str) -> TeamLatest:
    """The quadrant grid: every current agent of the team with their latest assessment."""
    check_team(principal, team_id)
    if not await repository.team_exists(session, team_id):
        raise NotFound(f"No care data for team {team_id}.")
    people = await repository.team_agents(session, team_id)
    latest = await repository.latest_for(session, [p.id for p in people])
    return TeamLatest(
        team_id=team_id,
        agents=[
            AgentLatest(
                agent_id=p.id,
                name=p.name,
                assessment=to_read(latest[p.id]) if p.id in latest else None,
            )
            for p in people
        ],
    )


def _after(page: PageParams) -> tuple[datetime, str] | None:
    if not page.after:
        return None
    try:
        at, assessment_id = page.after
        after = datetime.fromisoformat(at), str(assessment_id)
    except (TypeError, ValueError):
        after = None
    if after is None or after[0].tzinfo is None:
        raise ValidationFailed("cursor is not a cursor this API returned")
    return after
