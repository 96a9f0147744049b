"""The gateway: the one public door. Auth at the door, every public path of roster, metrics and
care forwarded, aggregations in one round trip, CTI ingest, one merged OpenAPI document."""

from __future__ import annotations

from fastapi import FastAPI

from services.gateway import edge, openapi
from services.gateway.aggregate.router import router as aggregate_router
from services.gateway.apikeys import auth as apikeys_auth
from services.gateway.apikeys.router import router as apikeys_router
from services.gateway.cti.identities import service as identities
from services.gateway.cti.identities.directory import identities_resource
from services.gateway.cti.publisher import publisher_resource
from services.gateway.cti.router import router as cti_router
from services.gateway.db import InboxMessage
from services.gateway.proxy.router import router as proxy_router
from services.gateway.settings import GatewaySettings
from services.gateway.stream.live import stream_resource
from services.gateway.stream.router import router as stream_router
from services.gateway.upstreams import TransportFactory, upstreams_resource
from shared.app import ConsumerSpec, ServiceSpec, create_service_app
from shared.events.types import Topic


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
            routers=[aggregate_router, stream_router, apikeys_router, cti_router, proxy_router],
            resources=[
                upstreams_resource(settings, transport),
                stream_resource(settings),
                publisher_resource(settings),
                identities_resource(settings),
            ],
            inbox_model=InboxMessage,
            consumers=[
                ConsumerSpec("identities", [Topic.ROSTER_CHANGES], identities.apply_roster_batch)
            ]
            if settings.cti_identities_consumer
            else [],
            uses_broker=True,
        )
    )
    openapi.install(app)
    edge.install(app, settings)
    apikeys_auth.install(app, settings, ingest_routers=[cti_router])
    return app
