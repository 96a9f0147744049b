"""Forwards every public path of roster, metrics and care (``upstreams.ROUTES``).

The gateway verifies the bearer token at the door (only ``POST /v1/auth/token`` is open), then
passes the caller's token on: each service checks it again and applies its own object-level
rules, so a request that bypasses the gateway is refused too.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from services.gateway.door import authenticate, limit_anonymous
from services.gateway.proxy.forwarding import forward
from services.gateway.upstreams import owner_of
from shared.errors import NotFound

router = APIRouter()

PUBLIC = frozenset({("POST", "/v1/auth/token")})
METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]


@router.api_route("/v1/{path:path}", methods=METHODS, include_in_schema=False)
async def proxy(path: str, request: Request) -> Response:
    full_path = "/v1/" + path
    service = owner_of(full_path)
    if service is None:
        raise NotFound(f"No such path: {full_path}.")
    if (request.method, full_path) in PUBLIC:
        limit_anonymous(request)
    else:
        await authenticate(request)
    return await forward(request, service, full_path)
