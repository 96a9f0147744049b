from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request

from services.care.balance import service
from services.care.balance.schemas import BalanceRead
from shared.app import SessionDep
from shared.auth import CurrentUser

router = APIRouter(prefix="/v1/care/balance", tags=["care: balance"])


@router.get("", summary="The degree of care per agent: under-cared, balanced or over-cared")
async def get_balance(
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    team_id: Annotated[str | None, Query(max_length=36)] = None,
) -> BalanceRead:
    settings = request.app.state.settings
    return await service.balance(session, settings, user, team_id, datetime.now(UTC))
