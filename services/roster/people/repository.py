from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Select, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from services.roster.people.models import Person, PersonExternalId

_WITH_DETAILS = (
    selectinload(Person.external_ids),
    selectinload(Person.skills),
    selectinload(Person.certifications),
)


async def get(
    session: AsyncSession, person_id: str, *, for_update: bool = False, fresh: bool = False
) -> Person | None:
    """``fresh`` reloads a person already in the session (after its collections changed)."""
    query = select(Person).where(Person.id == person_id).options(*_WITH_DETAILS)
    if fresh:
        query = query.execution_options(populate_existing=True)
    if for_update:
        query = query.with_for_update(of=Person)
    return (await session.scalars(query)).one_or_none()


async def get_by_employee_no(session: AsyncSession, employee_no: str) -> Person | None:
    return await session.scalar(select(Person).where(Person.employee_no == employee_no))


async def employee_no_taken(session: AsyncSession, employee_no: str) -> bool:
    return (
        await session.scalar(select(Person.id).where(Person.employee_no == employee_no)) is not None
    )


async def external_id_owner(session: AsyncSession, source: str, external_id: str) -> str | None:
    return await session.scalar(
        select(PersonExternalId.person_id).where(
            PersonExternalId.source == source, PersonExternalId.external_id == external_id
        )
    )


def list_query(
    *,
    team_ids: Sequence[str] | None,
    include_person_id: str | None,
    team_id: str | None,
    role: str | None,
    status: str | None,
    after_id: str | None,
    limit: int,
) -> Select[tuple[Person]]:
    """People in id order; ``team_ids``/``include_person_id`` restrict to what a caller sees."""
    query = select(Person).options(*_WITH_DETAILS).order_by(Person.id).limit(limit + 1)
    if team_ids is not None:
        scope = [Person.team_id.in_(team_ids)]
        if include_person_id:
            scope.append(Person.id == include_person_id)
        query = query.where(or_(*scope))
    if team_id is not None:
        query = query.where(Person.team_id == team_id)
    if role is not None:
        query = query.where(Person.role == role)
    if status is not None:
        query = query.where(Person.status == status)
    if after_id is not None:
        query = query.where(Person.id > after_id)
    return query


async def list_people(session: AsyncSession, **filters) -> list[Person]:
    return list((await session.scalars(list_query(**filters))).all())


async def lock_active_admin_ids(session: AsyncSession) -> list[str]:
    """Row-locked, so two admins cannot take each other's role away at the same time."""
    query = (
        select(Person.id)
        .where(Person.role == "admin", Person.status != "departed")
        .order_by(Person.id)
        .with_for_update()
    )
    return list(await session.scalars(query))
