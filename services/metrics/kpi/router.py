from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Request

from services.metrics import access
from services.metrics.kpi import service
from services.metrics.kpi.schemas import (
    AgentFigures,
    QueueFigures,
    TeamFigures,
    WindowDep,
    WindowQuery,
)
from shared.app import SessionDep
from shared.auth import CurrentUser

router = APIRouter(prefix="/v1/metrics", tags=["metrics"])


def _window(request: Request, query: WindowQuery) -> service.Window:
    return service.Window(
        query.start, query.end, query.granularity, request.app.state.settings.center_timezone
    )


@router.get("/agents/{agent_id}", summary="An agent's KPIs by interval or day")
async def agent_metrics(
    agent_id: str, query: WindowDep, request: Request, session: SessionDep, user: CurrentUser
) -> AgentFigures:
    await access.check_agent(session, user, agent_id)
    figures = await service.agent_figures(
        session, agent_id, _window(request, query), datetime.now(UTC)
    )
    return AgentFigures.model_validate(figures)


@router.get("/teams/{team_id}", summary="A team's KPIs: its members' sums at the time")
async def team_metrics(
    team_id: str, query: WindowDep, request: Request, session: SessionDep, user: CurrentUser
) -> TeamFigures:
    access.check_team(user, team_id)
    figures = await service.team_figures(
        session, team_id, _window(request, query), datetime.now(UTC)
    )
    return TeamFigures.model_validate(figures)


@router.get("/queues/{queue_id}", summary="A queue's service level, ASA and abandonment")
async def queue_metrics(
    queue_id: str, query: WindowDep, request: Request, session: SessionDep, user: CurrentUser
) -> QueueFigures:
    access.check_queues(user)
    figures = await service.queue_figures(
        session,
        queue_id,
        _window(request, query),
        request.app.state.settings.service_level_threshold_s,
    )
    return QueueFigures.model_validate(figures)
