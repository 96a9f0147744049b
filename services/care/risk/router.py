from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request

from services.care.risk import service
from services.care.risk.schemas import RiskReport
from shared.app import SessionDep
from shared.auth import CurrentUser

router = APIRouter(prefix="/v1/care/risk", tags=["care: risk"])


@router.get("", summary="Attrition risk per agent, with each factor's contribution")
async def team_risk(
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    team_id: Annotated[str | None, Query(description="one team; default: all you oversee")] = None,
) -> RiskReport:
    settings = request.app.state.settings
    return await service.team_risk(session, user, settings, team_id, datetime.now(UTC))
