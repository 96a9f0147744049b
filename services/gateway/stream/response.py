"""An endless ``text/event-stream`` response that notices a client leaving at once.

Starlette's StreamingResponse, under servers speaking ASGI 2.4 (uvicorn), learns of a
disconnect only when a write fails: an idle stream would keep its subscription until the next
heartbeat. This one always listens for ``http.disconnect`` while it writes, and gives up on a
client that does not take a write within ``send_timeout_s`` (a stalled socket)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

from starlette.responses import StreamingResponse
from starlette.types import Message, Receive, Scope, Send

HEADERS = {
    "cache-control": "no-cache",
    "x-accel-buffering": "no",  # nginx: pass each event on instead of buffering the body
}


class EventStreamResponse(StreamingResponse):
    media_type = "text/event-stream"

    def __init__(
        self,
        content: AsyncIterator[bytes],
        *,
        send_timeout_s: float,
        on_close: Callable[[], None],
    ) -> None:
        super().__init__(content, headers=HEADERS)
        self.send_timeout_s = send_timeout_s
        self.on_close = on_close

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def send_in_time(message: Message) -> None:
            async with asyncio.timeout(self.send_timeout_s):
                await send(message)

        writing = asyncio.create_task(self.stream_response(send_in_time))
        leaving = asyncio.create_task(self.listen_for_disconnect(receive))
        try:
            await asyncio.wait({writing, leaving}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            writing.cancel()
            leaving.cancel()
            outcomes = await asyncio.gather(writing, leaving, return_exceptions=True)
            self.on_close()
        failure = outcomes[0]
        if isinstance(failure, BaseException) and not isinstance(
            failure, asyncio.CancelledError | OSError | TimeoutError
        ):
            raise failure
