"""Who is at the door: the bearer token verified once here (the services verify it again),
and the caller's rate limit taken. Failed attempts count against the client's address."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from shared.auth import Principal
from shared.errors import Unauthorized


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def limit_anonymous(request: Request) -> None:
    request.app.state.limits.anonymous.check(f"ip:{client_address(request)}", "address")


async def authenticate(request: Request) -> Principal:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    try:
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthorized("A bearer token is required.")
        principal: Principal = await request.app.state.token_verifier.verify(token.strip())
    except Unauthorized:
        limit_anonymous(request)  # guessing tokens costs the address its budget
        raise
    request.state.principal_id = principal.id
    request.app.state.limits.users.check(f"user:{principal.id}", "user")
    return principal


bearer = HTTPBearer(auto_error=False, description="JWT access token from POST /v1/auth/token")
"""The services' scheme, so the gateway's own paths are documented as secured alike."""


async def authenticated_user(
    request: Request,
    _documented: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Principal:
    return await authenticate(request)


User = Annotated[Principal, Depends(authenticated_user)]
"""A verified, rate-limited caller."""
