from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, status

from services.care.feedback import service
from services.care.feedback.schemas import (
    FeedbackCreate,
    FeedbackList,
    FeedbackRead,
    FeedbackReceipt,
    FeedbackRespond,
    FeedbackScope,
)
from services.care.settings import CareSettings
from shared.app import SessionDep
from shared.auth import CurrentUser
from shared.pagination import PageDep

router = APIRouter(prefix="/v1/care/feedback", tags=["care: feedback"])


def _settings(request: Request) -> CareSettings:
    return request.app.state.settings


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Send anonymous feedback to your team or the center (a few a day)",
)
async def submit_feedback(
    body: FeedbackCreate, request: Request, session: SessionDep, user: CurrentUser
) -> FeedbackReceipt:
    return service.to_receipt(await service.submit(session, user, body, _settings(request)))


@router.get("", summary="A team's or the center's feedback, once it has enough entries")
async def list_feedback(
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    page: PageDep,
    scope: Annotated[FeedbackScope, Query()],
    team_id: Annotated[str | None, Query(description="scope=team; default: your team")] = None,
) -> FeedbackList:
    return await service.list_visible(
        session,
        user,
        page,
        scope=scope,
        team_id=team_id,
        threshold=_settings(request).feedback_team_threshold,
    )


@router.post("/{entry_id}/response", summary="Answer an entry publicly")
async def respond_to_feedback(
    entry_id: str, body: FeedbackRespond, request: Request, session: SessionDep, user: CurrentUser
) -> FeedbackRead:
    entry = await service.respond(
        session, user, entry_id, body, threshold=_settings(request).feedback_team_threshold
    )
    return service.to_read(entry)
