from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Request

from services.gateway.aggregate import service
from services.gateway.aggregate.schemas import PersonOverview, TeamDashboard
from services.gateway.door import User

router = APIRouter(tags=["aggregations"])


def _fetcher(request: Request) -> service.Fetcher:
    return service.Fetcher(
        upstreams=request.app.state.upstreams,
        headers={
            "authorization": request.headers["authorization"],
            "x-request-id": request.state.request_id,
        },
        timeout_s=request.app.state.settings.part_timeout_s,
    )


@router.get(
    "/v1/people/{person_id}/overview",
    summary="Profile, today's KPIs, current state, open care tasks, last check-in, risk",
)
async def person_overview(person_id: str, request: Request, user: User) -> PersonOverview:
    body = await service.person_overview(
        _fetcher(request),
        user.id,
        person_id,
        request.app.state.settings.center_timezone,
        datetime.now(UTC),
    )
    return PersonOverview.model_validate(body)


@router.get(
    "/v1/teams/{team_id}/dashboard",
    summary="Team KPIs today, agent states, care balance summary, open care tasks",
)
async def team_dashboard(team_id: str, request: Request, user: User) -> TeamDashboard:
    body = await service.team_dashboard(
        _fetcher(request), team_id, request.app.state.settings.center_timezone, datetime.now(UTC)
    )
    return TeamDashboard.model_validate(body)
