from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.roster.mentorships.models import Mentorship
from services.roster.people.models import Person


async def get(
    session: AsyncSession, mentorship_id: str, *, for_update: bool = False
) -> Mentorship | None:
    query = select(Mentorship).where(Mentorship.id == mentorship_id)
    if for_update:
        query = query.with_for_update()
    return await session.scalar(query)


async def active_for(session: AsyncSession, person_id: str) -> list[Mentorship]:
    """Pairings not yet ended in which the person is mentor or mentee."""
    rows = await session.scalars(
        select(Mentorship).where(
            Mentorship.ended_at.is_(None),
            or_(Mentorship.mentor_id == person_id, Mentorship.mentee_id == person_id),
        )
    )
    return list(rows)


async def active_mentor_of(session: AsyncSession, mentee_id: str) -> Mentorship | None:
    return await session.scalar(
        select(Mentorship).where(Mentorship.mentee_id == mentee_id, Mentorship.ended_at.is_(None))
    )


async def list_mentorships(
    session: AsyncSession,
    *,
    visible_person_ids: list[str] | None,
    visible_team_ids: list[str] | None,
    mentor_id: str | None,
    mentee_id: str | None,
    active: bool | None,
    after_id: str | None,
    limit: int,
) -> list[Mentorship]:
    query = select(Mentorship).order_by(Mentorship.id).limit(limit + 1)
    if visible_person_ids is not None or visible_team_ids is not None:
        scope = []
        if visible_person_ids:
            scope += [
                Mentorship.mentor_id.in_(visible_person_ids),
                Mentorship.mentee_id.in_(visible_person_ids),
            ]
        if visible_team_ids:
            in_teams = select(Person.id).where(Person.team_id.in_(visible_team_ids))
            scope += [Mentorship.mentee_id.in_(in_teams)]
        if not scope:
            return []
        query = query.where(or_(*scope))
    if mentor_id is not None:
        query = query.where(Mentorship.mentor_id == mentor_id)
    if mentee_id is not None:
        query = query.where(Mentorship.mentee_id == mentee_id)
    if active is True:
        query = query.where(Mentorship.ended_at.is_(None))
    elif active is False:
        query = query.where(Mentorship.ended_at.is_not(None))
    if after_id is not None:
        query = query.where(Mentorship.id > after_id)
    return list((await session.scalars(query)).all())
