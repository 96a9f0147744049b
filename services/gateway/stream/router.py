from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Request

from services.gateway.door import authenticate, limit_anonymous
from services.gateway.stream import PROTOCOL
from services.gateway.stream.live import LiveStream
from services.gateway.stream.response import EventStreamResponse
from services.gateway.stream.sse import render
from shared.auth import Principal
from shared.errors import Unauthorized

router = APIRouter(tags=["live stream"])


async def stream_caller(
    request: Request,
    access_token: Annotated[
        str | None,
        Query(
            description="The bearer token, for browsers' EventSource, which cannot send an "
            "Authorization header. Accepted on this path only; never logged."
        ),
    ] = None,
) -> Principal:
    """The bearer token at the door, or the same token in ``?access_token=``."""
    if access_token is None or "authorization" in request.headers:
        return await authenticate(request)
    try:
        principal: Principal = await request.app.state.token_verifier.verify(access_token)
    except Unauthorized:
        limit_anonymous(request)
        raise
    request.state.principal_id = principal.id
    request.app.state.limits.users.check(f"user:{principal.id}", "user")
    return principal


@router.get(
    "/v1/stream",
    summary="Live agent states, queue figures and care tasks (Server-Sent Events)",
    description=PROTOCOL,
    response_class=EventStreamResponse,
    status_code=200,
    response_description="An endless text/event-stream (see above).",
)
async def stream(
    request: Request,
    user: Annotated[Principal, Depends(stream_caller)],
    last_event_id: Annotated[
        str | None,
        Header(max_length=100, description="Sent by EventSource when it reconnects: resume."),
    ] = None,
) -> EventStreamResponse:
    live: LiveStream = request.app.state.stream
    settings = live.settings
    await live.poller.ensure_fresh(settings.part_timeout_s)
    subscription = live.hub.subscribe(user, last_event_id)
    return EventStreamResponse(
        render(
            subscription,
            heartbeat_s=settings.stream_heartbeat_s,
            retry_ms=settings.stream_retry_ms,
            expires_at=user.expires_at,
        ),
        send_timeout_s=settings.stream_send_timeout_s,
        on_close=lambda: live.hub.unsubscribe(subscription),
    )
