"""The metrics service: CTI events into exact real-time and historical KPIs."""

from __future__ import annotations

from fastapi import FastAPI

from services.metrics.db import InboxMessage, OutboxMessage
from services.metrics.ingest.service import apply_cti_batch, apply_roster_batch
from services.metrics.kpi.router import router as kpi_router
from services.metrics.realtime.router import router as realtime_router
from services.metrics.settings import MetricsSettings
from shared.app import ConsumerSpec, ServiceSpec, create_service_app
from shared.events.types import Topic


def create_app(settings: MetricsSettings | None = None) -> FastAPI:
    return create_service_app(
        ServiceSpec(
            name="metrics",
            settings=settings or MetricsSettings(),
            description=__doc__ or "",
            routers=[kpi_router, realtime_router],
            outbox_model=OutboxMessage,
            produces=[Topic.METRICS_SIGNALS],
            inbox_model=InboxMessage,
            consumers=[
                ConsumerSpec("cti", [Topic.CTI_EVENTS], apply_cti_batch),
                ConsumerSpec("roster", [Topic.ROSTER_CHANGES], apply_roster_batch),
            ],
        )
    )
