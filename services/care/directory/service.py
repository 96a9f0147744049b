"""Applies ``roster.changes`` to care's copy of the roster (people, teams, mentorships, leave
decisions, shifts). Idempotent, and order-proof: a row only takes a fact newer than its own."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.care.directory.models import LeaveDecision, Mentorship, Person, Shift, Team
from shared.events import CloudEvent, EventType
from shared.events.roster import (
    LeaveDecided,
    MentorshipChanged,
    PersonSnapshot,
    SchedulePublished,
    TeamChanged,
)


async def apply_roster_batch(session: AsyncSession, events: list[CloudEvent]) -> None:
    for event in sorted(events, key=lambda e: (e.time, e.id)):
        data = event.data
        if isinstance(data, PersonSnapshot):
            await _person(session, event.type, data, event.time)
        elif isinstance(data, TeamChanged):
            await _team(session, data, event.time)
        elif isinstance(data, MentorshipChanged):
            await _mentorship(session, data)
        elif isinstance(data, LeaveDecided):
            await _leave(session, data)
        elif isinstance(data, SchedulePublished):
            await _shift(session, data)


async def _person(session: AsyncSession, type_: str, data: PersonSnapshot, at: datetime) -> None:
    new_hire = type_ == EventType.PERSON_CREATED and data.status == "onboarding"
    values = {
        "name": data.name,
        "role": data.role,
        "status": data.status,
        "team_id": data.team_id,
        "hire_date": data.hire_date,
        "as_of": at,
    }
    stmt = insert(Person).values(
        id=data.person_id, known_since=at, onboarding_since=at if new_hire else None, **values
    )
    excluded = stmt.excluded
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=[Person.id],
            set_={name: getattr(excluded, name) for name in values},
            where=Person.as_of <= excluded.as_of,
        )
    )
    # A created event that arrives after an update still marks the new hire and the start.
    await session.execute(
        update(Person)
        .where(Person.id == data.person_id, Person.known_since > at)
        .values(known_since=at)
    )
    if new_hire:
        await session.execute(
            update(Person).where(Person.id == data.person_id).values(onboarding_since=at)
        )


async def _team(session: AsyncSession, data: TeamChanged, at: datetime) -> None:
    stmt = insert(Team).values(id=data.team_id, name=data.name, lead_id=data.lead_id, as_of=at)
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=[Team.id],
            set_={"name": stmt.excluded.name, "lead_id": stmt.excluded.lead_id, "as_of": at},
            where=Team.as_of <= stmt.excluded.as_of,
        )
    )
    if data.joined:
        await session.execute(
            update(Person)
            .where(Person.id.in_(data.joined), Person.as_of <= at)
            .values(team_id=data.team_id, as_of=at)
        )
    if data.left:
        await session.execute(
            update(Person)
            .where(Person.id.in_(data.left), Person.team_id == data.team_id, Person.as_of <= at)
            .values(team_id=None, as_of=at)
        )


async def _mentorship(session: AsyncSession, data: MentorshipChanged) -> None:
    stmt = insert(Mentorship).values(
        id=data.mentorship_id,
        mentor_id=data.mentor_id,
        mentee_id=data.mentee_id,
        started_at=data.started_at,
        ended_at=data.ended_at,
    )
    # An end, once known, stays: a replayed "started" never reopens the mentorship.
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=[Mentorship.id],
            set_={"ended_at": stmt.excluded.ended_at},
            where=Mentorship.ended_at.is_(None),
        )
    )


async def _leave(session: AsyncSession, data: LeaveDecided) -> None:
    stmt = insert(LeaveDecision).values(
        leave_request_id=data.leave_request_id,
        agent_id=data.agent_id,
        status=data.status,
        decided_at=data.decided_at,
    )
    await session.execute(stmt.on_conflict_do_nothing())


async def _shift(session: AsyncSession, data: SchedulePublished) -> None:
    work = [a for a in data.activities if a.kind == "work"]
    if not work:
        await session.execute(
            delete(Shift).where(
                Shift.agent_id == data.agent_id, Shift.day == data.day, Shift.version < data.version
            )
        )
        return
    stmt = insert(Shift).values(
        agent_id=data.agent_id,
        day=data.day,
        start=min(a.start for a in work),
        end=max(a.end for a in work),
        version=data.version,
    )
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=[Shift.agent_id, Shift.day],
            set_={"start": stmt.excluded.start, "end": stmt.excluded.end, "version": data.version},
            where=Shift.version < stmt.excluded.version,
        )
    )
