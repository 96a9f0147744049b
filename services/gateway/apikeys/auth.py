"""API-key authentication for the CTI ingest endpoints, and the rule that a key does nothing else.

* An ingest endpoint depends on :data:`IngestKeyDep`: the ``X-API-Key`` header must hold an
  active key (else 401, counted against the client address like any failed attempt), and the
  key's rate limit is taken (429 with ``Retry-After``). Bearer tokens do not ingest, not even an
  admin's: a CTI feed is a system with a key an admin can revoke, never a person's session.
* A request that carries ``X-API-Key`` to any other path is refused with 401 before it reaches
  a route (:class:`ConfineApiKeys`), whatever else it carries.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, Request, Security
from fastapi.routing import APIRoute
from fastapi.security import APIKeyHeader
from starlette.middleware import Middleware
from starlette.types import ASGIApp, Receive, Scope, Send

from services.gateway.apikeys.service import IngestKey, KeyCache
from services.gateway.door import limit_anonymous
from services.gateway.settings import GatewaySettings
from shared.app import SessionDep
from shared.errors import Unauthorized, problem_response

HEADER = "X-API-Key"

api_key_header = APIKeyHeader(
    name=HEADER,
    auto_error=False,
    scheme_name="ApiKey",
    description="A CTI system's key (admins create them at /v1/cti/api-keys); ingest only.",
)


async def ingest_key(
    request: Request,
    session: SessionDep,
    presented: Annotated[str | None, Security(api_key_header)],
) -> IngestKey:
    if not presented:
        limit_anonymous(request)
        raise Unauthorized(f"An API key ({HEADER}) is required to ingest CTI events.")
    cache: KeyCache = request.app.state.api_keys
    key = await cache.authenticate(session, presented)
    if key is None:
        limit_anonymous(request)  # guessing keys costs the address its budget
        raise Unauthorized("Unknown or revoked API key.")
    request.state.principal_id = f"api-key:{key.id}"
    request.app.state.limits.api_keys.check(f"key:{key.id}", "API key")
    return key


IngestKeyDep = Annotated[IngestKey, Depends(ingest_key)]


class ConfineApiKeys:
    """Refuses (401) any HTTP request carrying ``X-API-Key`` outside the ingest paths."""

    def __init__(self, app: ASGIApp, *, allowed: frozenset[str]) -> None:
        self.app = app
        self.allowed = allowed

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "http"
            and scope["path"] not in self.allowed
            and any(name == b"x-api-key" for name, _ in scope["headers"])
        ):
            problem = Unauthorized(f"An API key may only be used to ingest CTI events ({HEADER}).")
            await problem_response(problem)(scope, receive, send)
            return
        await self.app(scope, receive, send)


def ingest_paths(routers: Sequence[APIRouter]) -> frozenset[str]:
    """The paths of every route of ``routers`` that authenticates with an API key."""

    def uses_key(dependant) -> bool:  # type: ignore[no-untyped-def]
        return any(d.call is ingest_key or uses_key(d) for d in dependant.dependencies)

    return frozenset(
        route.path
        for router in routers
        for route in router.routes
        if isinstance(route, APIRoute) and uses_key(route.dependant)
    )


def install(app: FastAPI, settings: GatewaySettings, ingest_routers: Sequence[APIRouter]) -> None:
    """The key cache, and keys confined to the ingest routes (the innermost middleware, so
    refusals still get the access log and security headers)."""
    app.state.api_keys = KeyCache(
        ttl_s=settings.api_key_cache_ttl_s,
        use_record_every_s=settings.api_key_last_used_every_s,
    )
    allowed = ingest_paths(ingest_routers)
    app.user_middleware.append(Middleware(ConfineApiKeys, allowed=allowed))
