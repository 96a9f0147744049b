"""Bearer-token authentication shared by every service.

Tokens are JWTs with the claims ``sub`` (person id), ``role``, ``team_ids`` and ``exp``. HS256
tokens are signed with ``JWT_SECRET``; RS256 tokens from an external identity provider are
verified against its JWKS. Every service verifies tokens itself, so a request that bypasses the
gateway is still refused without a valid token.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Annotated, Any

import jwt
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from shared.errors import Unauthorized
from shared.settings import ServiceSettings


class Role(StrEnum):
    AGENT = "agent"
    TEAM_LEAD = "team_lead"
    MANAGER = "manager"
    QA = "qa"
    TRAINER = "trainer"
    OPS = "ops"
    ADMIN = "admin"


ALL_ACCESS_ROLES = frozenset({Role.MANAGER, Role.ADMIN})


@dataclass(frozen=True, slots=True)
class Principal:
    """The authenticated caller, as the token describes them."""

    id: str
    role: Role
    team_ids: frozenset[str] = field(default_factory=frozenset)
    expires_at: float | None = None
    """The token's ``exp`` (Unix seconds): what outlives one request, a live stream, ends then."""

    @property
    def sees_everything(self) -> bool:
        return self.role in ALL_ACCESS_ROLES

    def leads(self, team_id: str | None) -> bool:
        return self.role == Role.TEAM_LEAD and team_id is not None and team_id in self.team_ids


class TokenVerifier:
    """Verifies bearer tokens; built once per app in its lifespan."""

    def __init__(self, settings: ServiceSettings) -> None:
        self._algorithm = settings.jwt_algorithm
        self._secret = settings.jwt_secret.get_secret_value()
        self._issuer = settings.jwt_issuer
        self._jwks = (
            jwt.PyJWKClient(settings.jwks_url, cache_keys=True, lifespan=300)
            if settings.jwt_algorithm == "RS256" and settings.jwks_url
            else None
        )

    async def verify(self, token: str) -> Principal:
        try:
            if self._jwks is not None:
                # PyJWKClient fetches over blocking urllib; keep it off the event loop.
                signing_key = await asyncio.to_thread(self._jwks.get_signing_key_from_jwt, token)
                key: Any = signing_key.key
            else:
                key = self._secret
            claims = jwt.decode(
                token,
                key,
                algorithms=[self._algorithm],
                options={"require": ["sub", "role", "exp"]},
                issuer=self._issuer if self._jwks is None else None,
            )
            role = Role(claims["role"])
            team_ids = claims.get("team_ids") or []
            if not isinstance(team_ids, list):
                raise ValueError("team_ids must be a list")
        except (jwt.PyJWTError, ValueError, KeyError) as exc:
            raise Unauthorized(f"Invalid bearer token: {exc}") from None
        return Principal(
            id=str(claims["sub"]),
            role=role,
            team_ids=frozenset(map(str, team_ids)),
            expires_at=float(claims["exp"]),
        )


def issue_token(
    settings: ServiceSettings, *, subject: str, role: str, team_ids: list[str]
) -> tuple[str, int]:
    """Sign an HS256 access token for a local account; returns the token and its lifetime."""
    now = int(time.time())
    ttl = settings.access_token_ttl_s
    claims = {
        "sub": subject,
        "role": role,
        "team_ids": sorted(team_ids),
        "iss": settings.jwt_issuer,
        "iat": now,
        "exp": now + ttl,
    }
    return jwt.encode(claims, settings.jwt_secret.get_secret_value(), algorithm="HS256"), ttl


_bearer = HTTPBearer(auto_error=False, description="JWT access token from POST /v1/auth/token")


async def current_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthorized("A bearer token is required.")
    verifier: TokenVerifier = request.app.state.token_verifier
    principal = await verifier.verify(credentials.credentials)
    request.state.principal_id = principal.id
    return principal


CurrentUser = Annotated[Principal, Depends(current_principal)]
