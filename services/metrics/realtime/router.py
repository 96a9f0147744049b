from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request

from services.metrics import access
from services.metrics.kpi.schemas import AgentNow, QueueNow
from services.metrics.realtime import service
from shared.app import SessionDep
from shared.auth import CurrentUser, Role

router = APIRouter(prefix="/v1/realtime", tags=["realtime"])


@router.get("/agents", summary="Each visible agent's current state")
async def agents_now(
    session: SessionDep,
    user: CurrentUser,
    team_id: Annotated[str | None, Query()] = None,
) -> list[AgentNow]:
    if team_id is not None:
        access.check_team(user, team_id)
        teams: list[str] | None = [team_id]
    elif user.role in access.READ_ALL:
        teams = None
    elif user.role == Role.TEAM_LEAD:
        teams = sorted(user.team_ids)
    else:
        return [a for a in await service.agents_now(session, None) if a.agent_id == user.id]
    return await service.agents_now(session, teams)


@router.get("/queues", summary="Calls waiting, longest wait and today's running service level")
async def queues_now(request: Request, session: SessionDep, user: CurrentUser) -> list[QueueNow]:
    access.check_queues(user)
    settings = request.app.state.settings
    return await service.queues_now(
        session, datetime.now(UTC), settings.center_timezone, settings.service_level_threshold_s
    )
