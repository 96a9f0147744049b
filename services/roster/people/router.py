from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from services.roster.people import service
from services.roster.people.schemas import (
    DepartRequest,
    PasswordSet,
    PersonCreate,
    PersonRead,
    PersonUpdate,
    Role,
    Status,
)
from shared.app import SessionDep
from shared.auth import CurrentUser
from shared.pagination import Page, PageDep

router = APIRouter(prefix="/v1/people", tags=["people"])


@router.post("", status_code=status.HTTP_201_CREATED, summary="Create a person")
async def create_person(body: PersonCreate, session: SessionDep, user: CurrentUser) -> PersonRead:
    return service.to_read(user, await service.create(session, user, body))


@router.get("", summary="List the people the caller may see")
async def list_people(
    session: SessionDep,
    user: CurrentUser,
    page: PageDep,
    team_id: Annotated[str | None, Query()] = None,
    role: Annotated[Role | None, Query()] = None,
    status: Annotated[Status | None, Query()] = None,
) -> Page[PersonRead]:
    people, next_cursor = await service.list_visible(
        session, user, page, team_id=team_id, role=role, status=status
    )
    return Page(items=[service.to_read(user, p) for p in people], next_cursor=next_cursor)


@router.get("/{person_id}", summary="Read a person")
async def get_person(person_id: str, session: SessionDep, user: CurrentUser) -> PersonRead:
    return service.to_read(user, await service.get_visible(session, user, person_id))


@router.patch("/{person_id}", summary="Change a person's record")
async def update_person(
    person_id: str, body: PersonUpdate, session: SessionDep, user: CurrentUser
) -> PersonRead:
    return service.to_read(user, await service.update(session, user, person_id, body))


@router.post("/{person_id}/depart", summary="Record a departure (never a hard delete)")
async def depart_person(
    person_id: str, session: SessionDep, user: CurrentUser, body: DepartRequest | None = None
) -> PersonRead:
    reason = body.reason if body else None
    return service.to_read(user, await service.depart(session, user, person_id, reason))


@router.put(
    "/{person_id}/password",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Set a person's local password (admins only)",
)
async def set_password(
    person_id: str, body: PasswordSet, session: SessionDep, user: CurrentUser
) -> None:
    await service.set_password(session, user, person_id, body.password)
