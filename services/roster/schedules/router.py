from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request

from services.roster.schedules import service
from services.roster.schedules.schemas import (
    PublishRequest,
    PublishResult,
    ScheduleRead,
    ScheduleWrite,
)
from shared.app import SessionDep
from shared.auth import CurrentUser
from shared.pagination import Page, PageDep

router = APIRouter(prefix="/v1/schedules", tags=["schedules"])


def _timezone(request: Request) -> str:
    return request.app.state.settings.center_timezone


@router.get("", summary="List schedules the caller may see, by day")
async def list_schedules(
    session: SessionDep,
    user: CurrentUser,
    page: PageDep,
    day: Annotated[date | None, Query(description="exactly this day")] = None,
    start: Annotated[date | None, Query(alias="from", description="first day")] = None,
    end: Annotated[date | None, Query(alias="to", description="last day (inclusive)")] = None,
    agent_id: Annotated[str | None, Query()] = None,
    team_id: Annotated[str | None, Query()] = None,
    status: Annotated[Literal["draft", "published"] | None, Query()] = None,
) -> Page[ScheduleRead]:
    rows, next_cursor = await service.list_visible(
        session,
        user,
        page,
        agent_id=agent_id,
        team_id=team_id,
        start=day or start,
        end=day or end,
        status=status,
    )
    return Page(items=[service.to_read(s) for s in rows], next_cursor=next_cursor)


@router.post("/publish", summary="Publish a day's drafts (one event per agent)")
async def publish_day(
    body: PublishRequest, request: Request, session: SessionDep, user: CurrentUser
) -> PublishResult:
    published = await service.publish_day(session, user, body.day, body.team_id, _timezone(request))
    return PublishResult(day=body.day, published=[service.to_read(s) for s in published])


@router.get("/{agent_id}/{day}", summary="Read an agent's schedule for a day")
async def get_schedule(
    agent_id: str, day: date, session: SessionDep, user: CurrentUser
) -> ScheduleRead:
    return service.to_read(await service.get(session, user, agent_id, day))


@router.put("/{agent_id}/{day}", summary="Create or replace an agent's draft for a day")
async def put_schedule(
    agent_id: str,
    day: date,
    body: ScheduleWrite,
    request: Request,
    session: SessionDep,
    user: CurrentUser,
) -> ScheduleRead:
    schedule = await service.put(session, user, agent_id, day, body.activities, _timezone(request))
    return service.to_read(schedule)
