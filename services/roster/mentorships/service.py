"""Mentor/apprentice pairings: started under the tenure rules, ended but never forgotten."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.roster.access import can_read_person
from services.roster.events import emit_mentorship_event
from services.roster.mentorships import repository
from services.roster.mentorships.models import Mentorship
from services.roster.mentorships.rules import Candidate, pairing_violation
from services.roster.mentorships.schemas import MentorshipCreate, MentorshipRead
from services.roster.people import repository as people_repo
from services.roster.settings import RosterSettings
from shared.auth import Principal, Role
from shared.errors import Conflict, Forbidden, NotFound, RuleViolation
from shared.events import EventType
from shared.pagination import PageParams

READ_ALL = frozenset({Role.MANAGER, Role.ADMIN, Role.TRAINER})


def to_read(mentorship: Mentorship) -> MentorshipRead:
    return MentorshipRead(
        id=mentorship.id,
        mentor_id=mentorship.mentor_id,
        mentee_id=mentorship.mentee_id,
        started_at=mentorship.started_at,
        ended_at=mentorship.ended_at,
        end_reason=mentorship.end_reason,
        active=mentorship.ended_at is None,
    )


async def _mentee_team(session: AsyncSession, mentorship: Mentorship) -> str | None:
    mentee = await people_repo.get(session, mentorship.mentee_id)
    return mentee.team_id if mentee else None


async def _can_read(session: AsyncSession, principal: Principal, mentorship: Mentorship) -> bool:
    if principal.role in READ_ALL or principal.id in (mentorship.mentor_id, mentorship.mentee_id):
        return True
    return principal.leads(await _mentee_team(session, mentorship))


async def get_visible(
    session: AsyncSession, principal: Principal, mentorship_id: str, *, for_update: bool = False
) -> Mentorship:
    mentorship = await repository.get(session, mentorship_id, for_update=for_update)
    if mentorship is None or not await _can_read(session, principal, mentorship):
        raise NotFound(f"Mentorship {mentorship_id} not found.")
    return mentorship


def _require_manager_of(principal: Principal, mentee_team_id: str | None) -> None:
    if not (principal.sees_everything or principal.leads(mentee_team_id)):
        raise Forbidden("Only the mentee's team lead, managers and admins pair mentors.")


async def start(
    session: AsyncSession, principal: Principal, data: MentorshipCreate, settings: RosterSettings
) -> Mentorship:
    if not (principal.sees_everything or principal.role == Role.TEAM_LEAD):
        raise Forbidden("Only team leads, managers and admins pair mentors.")
    mentee = await people_repo.get(session, data.mentee_id, for_update=True)
    if mentee is None or not can_read_person(principal, mentee.id, mentee.team_id):
        raise RuleViolation("unknown_mentee", f"Mentee {data.mentee_id} does not exist.")
    _require_manager_of(principal, mentee.team_id)
    mentor = await people_repo.get(session, data.mentor_id)
    if mentor is None:
        raise RuleViolation("unknown_mentor", f"Mentor {data.mentor_id} does not exist.")
    started_at = data.started_at or datetime.now(UTC)
    violation = pairing_violation(
        Candidate(mentor.id, mentor.status, mentor.hire_date),
        Candidate(mentee.id, mentee.status, mentee.hire_date),
        started_at.date(),
        mentor_min_tenure_days=settings.mentor_min_tenure_days,
        mentee_max_tenure_days=settings.mentee_max_tenure_days,
    )
    if violation is not None:
        raise RuleViolation(*violation)
    if await repository.active_mentor_of(session, mentee.id) is not None:
        raise RuleViolation("one_active_mentor", "The mentee already has an active mentor.")
    mentorship = Mentorship(mentor_id=mentor.id, mentee_id=mentee.id, started_at=started_at)
    session.add(mentorship)
    try:
        await session.flush()
    except IntegrityError:  # a concurrent pairing won the race on the partial unique index
        raise RuleViolation(
            "one_active_mentor", "The mentee already has an active mentor."
        ) from None
    await session.refresh(mentorship)
    await emit_mentorship_event(session, EventType.MENTORSHIP_STARTED, mentorship)
    return mentorship


async def end(
    session: AsyncSession, principal: Principal, mentorship_id: str, reason: str | None
) -> Mentorship:
    mentorship = await get_visible(session, principal, mentorship_id, for_update=True)
    _require_manager_of(principal, await _mentee_team(session, mentorship))
    if mentorship.ended_at is not None:
        raise Conflict("This mentorship has already ended.")
    mentorship.ended_at = datetime.now(UTC)
    mentorship.end_reason = reason
    await session.flush()
    await emit_mentorship_event(session, EventType.MENTORSHIP_ENDED, mentorship)
    return mentorship


async def list_visible(
    session: AsyncSession,
    principal: Principal,
    page: PageParams,
    *,
    mentor_id: str | None,
    mentee_id: str | None,
    active: bool | None,
) -> tuple[list[Mentorship], str | None]:
    if principal.role in READ_ALL:
        people, teams = None, None
    else:
        people = [principal.id]
        teams = sorted(principal.team_ids) if principal.role == Role.TEAM_LEAD else []
    rows = await repository.list_mentorships(
        session,
        visible_person_ids=people,
        visible_team_ids=teams,
        mentor_id=mentor_id,
        mentee_id=mentee_id,
        active=active,
        after_id=page.after[0] if page.after else None,
        limit=page.limit,
    )
    return page.page(rows, key=lambda m: [m.id])
