"""Builds the roster's change events and writes them to the outbox in the caller's transaction."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from services.roster.db import outbox
from services.roster.mentorships.models import Mentorship
from services.roster.people.models import Person
from services.roster.teams import repository as teams_repo
from services.roster.teams.models import Team
from shared.events import EventType, make_event
from shared.events.roster import MentorshipChanged, PersonSnapshot, TeamChanged

SOURCE = "roster"


async def emit_person_event(
    session: AsyncSession, type_: EventType, person: Person, *, changed: list[str] | None = None
) -> None:
    """``person`` must have its external ids loaded (the repository's ``get`` does that)."""
    data = PersonSnapshot(
        person_id=person.id,
        employee_no=person.employee_no,
        name=person.name,
        role=person.role,
        status=person.status,
        team_id=person.team_id,
        hire_date=person.hire_date,
        external_ids={e.source: e.external_id for e in person.external_ids},
        changed_fields=sorted(changed or []),
    )
    await outbox.add(session, make_event(type_, data, source=SOURCE))


async def emit_team_changed(
    session: AsyncSession,
    team: Team,
    *,
    joined: list[str] | None = None,
    left: list[str] | None = None,
) -> None:
    await session.flush()
    members = (await teams_repo.member_ids(session, [team.id]))[team.id]
    data = TeamChanged(
        team_id=team.id,
        name=team.name,
        lead_id=team.lead_id,
        member_ids=members,
        joined=joined or [],
        left=left or [],
        effective_at=datetime.now(UTC),
    )
    await outbox.add(session, make_event(EventType.TEAM_CHANGED, data, source=SOURCE))


async def emit_mentorship_event(
    session: AsyncSession, type_: EventType, mentorship: Mentorship
) -> None:
    data = MentorshipChanged(
        mentorship_id=mentorship.id,
        mentor_id=mentorship.mentor_id,
        mentee_id=mentorship.mentee_id,
        started_at=mentorship.started_at,
        ended_at=mentorship.ended_at,
        end_reason=mentorship.end_reason,
    )
    await outbox.add(session, make_event(type_, data, source=SOURCE))
