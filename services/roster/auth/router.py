from __future__ import annotations

from fastapi import APIRouter, Request, Response

from services.roster.auth import service
from services.roster.auth.schemas import Me, TokenRequest, TokenResponse
from shared.app import SessionDep
from shared.auth import CurrentUser
from shared.errors import Problem, problem_response

router = APIRouter(prefix="/v1/auth", tags=["auth"])


@router.post(
    "/token",
    response_model=TokenResponse,
    summary="Exchange employee number and password for an access token",
    responses={401: {"description": "Wrong credentials"}, 429: {"description": "Throttled"}},
)
async def issue_token(
    body: TokenRequest, request: Request, session: SessionDep
) -> TokenResponse | Response:
    issued = await service.sign_in(
        session, request.app.state.settings, body.employee_no, body.password
    )
    if isinstance(issued, Problem):
        return problem_response(issued, request)
    return TokenResponse(
        access_token=issued.access_token,
        expires_in=issued.expires_in,
        person_id=issued.person_id,
        role=issued.role,
        team_ids=issued.team_ids,
    )


@router.get("/me", summary="The caller, as their token describes them")
async def me(user: CurrentUser) -> Me:
    return Me(person_id=user.id, role=user.role.value, team_ids=sorted(user.team_ids))
