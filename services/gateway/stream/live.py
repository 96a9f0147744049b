"""The live stream's parts for one gateway process, opened and closed in the app lifespan."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass

from fastapi import FastAPI

from services.gateway.settings import GatewaySettings
from services.gateway.stream.hub import Hub
from services.gateway.stream.sources import CareTaskFeed, MetricsPoller
from shared.app import Resource


@dataclass
class LiveStream:
    hub: Hub
    poller: MetricsPoller
    care_tasks: CareTaskFeed
    settings: GatewaySettings


def stream_resource(settings: GatewaySettings) -> Resource:
    """Needs the upstream clients: list it after :func:`upstreams_resource`. On the way out,
    every open stream ends (with a ``closing`` event) before the sources stop."""

    @contextlib.asynccontextmanager
    async def open_stream(app: FastAPI) -> AsyncIterator[None]:
        hub = Hub(
            buffer_size=settings.stream_buffer_size,
            max_pending=settings.stream_client_queue_size,
        )
        live = LiveStream(
            hub=hub,
            poller=MetricsPoller(hub, app.state.upstreams, settings),
            care_tasks=CareTaskFeed(hub, settings),
            settings=settings,
        )
        app.state.stream = live
        await live.poller.start()
        await live.care_tasks.start()
        try:
            yield
        finally:
            hub.close()
            await live.poller.stop()
            await live.care_tasks.stop()

    return open_stream
