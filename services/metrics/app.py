"""The metrics service: CTI events into exact real-time and historical KPIs."""

from __future__ import annotations

from datetime import datetime

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from services.metrics.db import InboxMessage, OutboxMessage
from services.metrics.ingest.care_breaks import apply_care_batch
from services.metrics.ingest.service import apply_cti_batch, apply_roster_batch
from services.metrics.kpi.router import router as kpi_router
from services.metrics.realtime.router import router as realtime_router
from services.metrics.settings import MetricsSettings
from services.metrics.signals import service as signals
from shared.app import ConsumerSpec, PeriodicSpec, ServiceSpec, create_service_app
from shared.events import CloudEvent
from shared.events.types import Topic


def create_app(settings: MetricsSettings | None = None) -> FastAPI:
    settings = settings or MetricsSettings()

    async def handle_cti(session: AsyncSession, events: list[CloudEvent]) -> None:
        await apply_cti_batch(session, events, settings)

    async def scan_signals(session: AsyncSession, now: datetime) -> None:
        await signals.scan(session, settings, now)

    return create_service_app(
        ServiceSpec(
            name="metrics",
            settings=settings,
            description=__doc__ or "",
            routers=[kpi_router, realtime_router],
            outbox_model=OutboxMessage,
            produces=[Topic.METRICS_SIGNALS],
            inbox_model=InboxMessage,
            consumers=[
                ConsumerSpec("cti", [Topic.CTI_EVENTS], handle_cti),
                ConsumerSpec("roster", [Topic.ROSTER_CHANGES], apply_roster_batch),
                ConsumerSpec("care", [Topic.CARE_EVENTS], apply_care_batch),
            ],
            periodic=[PeriodicSpec("signals", settings.signal_scan_interval_s, scan_signals)],
        )
    )
