"""The gateway: the one public door. Auth at the door, every public path of roster, metrics and
care forwarded, aggregations in one round trip, CTI ingest, one merged OpenAPI document."""

from __future__ import annotations

from fastapi import FastAPI

from services.gateway import edge, openapi
from services.gateway.aggregate.router import router as aggregate_router
from services.gateway.proxy.router import router as proxy_router
from services.gateway.settings import GatewaySettings
from services.gateway.stream.live import stream_resource
from services.gateway.stream.router import router as stream_router
from services.gateway.upstreams import TransportFactory, upstreams_resource
from shared.app import ServiceSpec, create_service_app


def create_app(
    settings: GatewaySettings | None = None, *, transport: TransportFactory | None = None
) -> FastAPI:
    """``transport`` replaces the network transport to the services (tests pass in-process
    ASGI transports to the real service apps)."""
    settings = settings or GatewaySettings()
    app = create_service_app(
        ServiceSpec(
            name="gateway",
            settings=settings,
            description=__doc__ or "",
            routers=[aggregate_router, stream_router, proxy_router],
            resources=[upstreams_resource(settings, transport), stream_resource(settings)],
        )
    )
    openapi.install(app)
    edge.install(app, settings)
    return app
