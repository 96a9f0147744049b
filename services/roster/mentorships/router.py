from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, status

from services.roster.mentorships import service
from services.roster.mentorships.schemas import MentorshipCreate, MentorshipEnd, MentorshipRead
from shared.app import SessionDep
from shared.auth import CurrentUser
from shared.pagination import Page, PageDep

router = APIRouter(prefix="/v1/mentorships", tags=["mentorships"])


@router.post("", status_code=status.HTTP_201_CREATED, summary="Pair a mentor with a new hire")
async def start_mentorship(
    body: MentorshipCreate, request: Request, session: SessionDep, user: CurrentUser
) -> MentorshipRead:
    mentorship = await service.start(session, user, body, request.app.state.settings)
    return service.to_read(mentorship)


@router.get("", summary="List pairings the caller may see")
async def list_mentorships(
    session: SessionDep,
    user: CurrentUser,
    page: PageDep,
    mentor_id: Annotated[str | None, Query()] = None,
    mentee_id: Annotated[str | None, Query()] = None,
    active: Annotated[bool | None, Query()] = None,
) -> Page[MentorshipRead]:
    rows, next_cursor = await service.list_visible(
        session, user, page, mentor_id=mentor_id, mentee_id=mentee_id, active=active
    )
    return Page(items=[service.to_read(m) for m in rows], next_cursor=next_cursor)


@router.get("/{mentorship_id}", summary="Read a pairing")
async def get_mentorship(
    mentorship_id: str, session: SessionDep, user: CurrentUser
) -> MentorshipRead:
    return service.to_read(await service.get_visible(session, user, mentorship_id))


@router.post("/{mentorship_id}/end", summary="End a pairing (its history is kept)")
async def end_mentorship(
    mentorship_id: str, session: SessionDep, user: CurrentUser, body: MentorshipEnd | None = None
) -> MentorshipRead:
    reason = body.reason if body else None
    return service.to_read(await service.end(session, user, mentorship_id, reason))
