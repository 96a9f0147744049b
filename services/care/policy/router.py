from __future__ import annotations

from fastapi import APIRouter, Request

from services.care.policy import service
from services.care.policy.schemas import PolicyRead, PolicyWrite
from shared.app import SessionDep
from shared.auth import CurrentUser

router = APIRouter(prefix="/v1/care/policies", tags=["care: policy"])


@router.get("/{team_id}", summary="A team's degree-of-care policy (its own or the defaults)")
async def get_policy(
    team_id: str, request: Request, session: SessionDep, user: CurrentUser
) -> PolicyRead:
    return await service.read(session, request.app.state.settings, user, team_id)


@router.put("/{team_id}", summary="Set a team's policy (managers and admins)")
async def put_policy(
    team_id: str, body: PolicyWrite, request: Request, session: SessionDep, user: CurrentUser
) -> PolicyRead:
    return await service.write(session, request.app.state.settings, user, team_id, body)
