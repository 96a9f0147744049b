"""Server-Sent Events framing (the WHATWG ``text/event-stream`` format) and the per-client writer
loop. Pure asyncio: no web framework here."""

from __future__ import annotations

import math
import time
from collections.abc import AsyncIterator, Callable, Mapping
from typing import TYPE_CHECKING, Any

import orjson

if TYPE_CHECKING:
    from services.gateway.stream.hub import Subscription

HEARTBEAT = b": heartbeat\n\n"
"""A comment line: keeps proxies from timing the connection out; EventSource ignores it."""


def frame(kind: str, data: Mapping[str, Any], event_id: str | None = None) -> bytes:
    """One event. orjson writes no newlines, so the payload fits on one ``data:`` line."""
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {kind}\n".encode() + b"data: " + orjson.dumps(data) + b"\n\n"


def retry_hint(retry_ms: int) -> bytes:
    return f"retry: {retry_ms}\n\n".encode()


TOKEN_EXPIRED = frame("closing", {"reason": "token_expired"})


async def render(
    subscription: Subscription,
    *,
    heartbeat_s: float,
    retry_ms: int,
    expires_at: float | None = None,
    clock: Callable[[], float] = time.time,
) -> AsyncIterator[bytes]:
    """The bytes of one client's stream: the retry hint, then its events as they come (several
    at once when it fell behind), a heartbeat whenever ``heartbeat_s`` passes without one, until
    its subscription ends — or its token expires (``expires_at``, Unix seconds): the stream then
    ends with a ``closing`` event and the client reconnects with a fresh token, resuming."""
    yield retry_hint(retry_ms)
    while True:
        left = math.inf if expires_at is None else expires_at - clock()
        if left <= 0:
            yield TOKEN_EXPIRED
            return
        events = await subscription.wait(min(heartbeat_s, left))
        if events is None:
            return
        if events:
            yield b"".join(event.frame for event in events)
        elif left > heartbeat_s:
            yield HEARTBEAT
