from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, status

from services.care.checkins import service
from services.care.checkins.schemas import MAX_TREND_DAYS, CheckInCreate, CheckInRead, CheckInTrend
from shared.app import SessionDep
from shared.auth import CurrentUser
from shared.pagination import Page, PageDep

router = APIRouter(prefix="/v1/care/checkins", tags=["care: checkins"])


@router.post("", status_code=status.HTTP_201_CREATED, summary="Record your own check-in")
async def record_checkin(
    body: CheckInCreate, session: SessionDep, user: CurrentUser
) -> CheckInRead:
    return service.to_read(await service.record(session, user, body))


@router.get("", summary="An agent's check-ins, newest first (default: your own)")
async def list_checkins(
    session: SessionDep,
    user: CurrentUser,
    page: PageDep,
    agent_id: Annotated[str | None, Query()] = None,
) -> Page[CheckInRead]:
    rows, next_cursor = await service.list_visible(
        session, user, page, agent_id=agent_id or user.id
    )
    return Page(items=[service.to_read(r) for r in rows], next_cursor=next_cursor)


@router.get("/trend", summary="Daily mood and stress averages and their direction")
async def checkin_trend(
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    agent_id: Annotated[str | None, Query()] = None,
    days: Annotated[int, Query(ge=1, le=MAX_TREND_DAYS)] = 30,
) -> CheckInTrend:
    return await service.trend(
        session,
        user,
        agent_id or user.id,
        days=days,
        timezone=request.app.state.settings.center_timezone,
    )
