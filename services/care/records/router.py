from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, status

from services.care.records import service
from services.care.records.schemas import (
    CareBreakGrant,
    Category,
    Kind,
    RecordCreate,
    RecordRead,
)
from shared.app import SessionDep
from shared.auth import CurrentUser
from shared.pagination import Page, PageDep

router = APIRouter(prefix="/v1/care/records", tags=["care: records"])
care_breaks_router = APIRouter(prefix="/v1/care/care-breaks", tags=["care: records"])


@router.post("", status_code=status.HTTP_201_CREATED, summary="Write a care record")
async def create_record(
    body: RecordCreate, request: Request, session: SessionDep, user: CurrentUser
) -> RecordRead:
    return await service.create(session, request.app.state.settings, user, body)


@router.get("", summary="Care records the caller may read, newest first")
async def list_records(
    session: SessionDep,
    user: CurrentUser,
    page: PageDep,
    agent_id: Annotated[str | None, Query(max_length=36)] = None,
    kind: Annotated[Kind | None, Query()] = None,
    category: Annotated[Category | None, Query()] = None,
) -> Page[RecordRead]:
    items, cursor = await service.list_visible(
        session, user, page, agent_id=agent_id, kind=kind, category=category
    )
    return Page(items=items, next_cursor=cursor)


@router.get("/{record_id}", summary="Read a care record")
async def get_record(record_id: str, session: SessionDep, user: CurrentUser) -> RecordRead:
    return await service.get_visible(session, user, record_id)


@care_breaks_router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Grant a care break (a care_action record; metrics treats that aux time as sanctioned)",
)
async def grant_care_break(
    body: CareBreakGrant, request: Request, session: SessionDep, user: CurrentUser
) -> RecordRead:
    return await service.grant_care_break(session, request.app.state.settings, user, body)
