"""The care service: care records, check-ins, anonymous feedback, care tasks raised by signals
and roster events, and the degree of care (balance, attrition risk, assessments)."""

from __future__ import annotations

from datetime import datetime

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from services.care.assessments.router import router as assessments_router
from services.care.balance.router import router as balance_router
from services.care.checkins.router import router as checkins_router
from services.care.db import InboxMessage, OutboxMessage
from services.care.directory.service import apply_roster_batch
from services.care.feedback import service as feedback
from services.care.feedback.router import router as feedback_router
from services.care.policy.router import router as policy_router
from services.care.records.router import care_breaks_router
from services.care.records.router import router as records_router
from services.care.risk.router import router as risk_router
from services.care.settings import CareSettings
from services.care.tasks import triggers
from services.care.tasks.router import router as tasks_router
from shared.app import ConsumerSpec, PeriodicSpec, ServiceSpec, create_service_app
from shared.events import CloudEvent
from shared.events.types import Topic


def create_app(settings: CareSettings | None = None) -> FastAPI:
    settings = settings or CareSettings()

    async def handle_signals(session: AsyncSession, events: list[CloudEvent]) -> None:
        await triggers.apply_signal_batch(session, events, settings)

    async def handle_roster(session: AsyncSession, events: list[CloudEvent]) -> None:
        await apply_roster_batch(session, events)
        await triggers.apply_roster_triggers(session, events, settings)

    async def scan(session: AsyncSession, now: datetime) -> None:
        await triggers.scan(session, settings, now)

    async def scrub_feedback_quota(session: AsyncSession, now: datetime) -> None:
        await feedback.scrub_quota(session, settings, now)

    return create_service_app(
        ServiceSpec(
            name="care",
            settings=settings,
            description=__doc__ or "",
            routers=[
                records_router,
                care_breaks_router,
                checkins_router,
                feedback_router,
                tasks_router,
                policy_router,
                balance_router,
                risk_router,
                assessments_router,
            ],
            outbox_model=OutboxMessage,
            produces=[Topic.CARE_EVENTS],
            inbox_model=InboxMessage,
            consumers=[
                ConsumerSpec("signals", [Topic.METRICS_SIGNALS], handle_signals),
                ConsumerSpec("roster", [Topic.ROSTER_CHANGES], handle_roster),
            ],
            periodic=[
                PeriodicSpec("scan", settings.scan_interval_s, scan),
                PeriodicSpec("feedback-quota", settings.scan_interval_s, scrub_feedback_quota),
            ],
        )
    )
