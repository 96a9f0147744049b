"""Builds a service's FastAPI app: lifespan-owned clients, errors, health, metrics, logging.

A service passes its settings, routers and what it owns (outbox model, consumers); everything
that connects somewhere is created in the lifespan, never at import time.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from shared.auth import TokenVerifier
from shared.db import make_engine, make_sessionmaker, transactional_session
from shared.errors import install_problem_handlers
from shared.events.types import Topic
from shared.messaging.inbox import BatchHandler, InboxConsumer, InboxMixin
from shared.messaging.kafka import broker_reachable, topic_names
from shared.messaging.outbox import OutboxMixin, OutboxRelay
from shared.observability import RequestContextMiddleware, configure_logging
from shared.periodic import Job, PeriodicJob
from shared.settings import ServiceSettings


@dataclass
class ConsumerSpec:
    """A consumer group the service runs: which topics, and the batch handler to apply."""

    name: str
    topics: Sequence[Topic]
    handler: BatchHandler


@dataclass
class PeriodicSpec:
    """A job the service runs every ``interval_s`` seconds (see ``shared.periodic``)."""

    name: str
    interval_s: float
    job: Job


Resource = Callable[[FastAPI], AbstractAsyncContextManager[None]]
"""A client the service opens in its lifespan (e.g. the gateway's upstream pool)."""


@dataclass
class ServiceSpec:
    name: str
    settings: ServiceSettings
    routers: Sequence[APIRouter]
    description: str = ""
    outbox_model: type[OutboxMixin] | None = None
    produces: Sequence[Topic] = ()
    inbox_model: type[InboxMixin] | None = None
    consumers: Sequence[ConsumerSpec] = ()
    periodic: Sequence[PeriodicSpec] = ()
    resources: Sequence[Resource] = ()
    uses_broker: bool = False
    """Whether ``/readyz`` checks the broker (implied by an outbox or consumers)."""


def libpq_dsn(sqlalchemy_url: str) -> str:
    """asyncpg wants ``postgresql://`` where SQLAlchemy wants ``postgresql+asyncpg://``."""
    return sqlalchemy_url.replace("postgresql+asyncpg://", "postgresql://", 1)


def create_service_app(spec: ServiceSpec) -> FastAPI:
    settings = spec.settings
    configure_logging(settings.log_level, json=settings.log_json)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = make_engine(settings.sqlalchemy_url, pool_size=settings.db_pool_size)
        sessionmaker = make_sessionmaker(engine)
        app.state.settings = settings
        app.state.engine = engine
        app.state.sessionmaker = sessionmaker
        app.state.token_verifier = TokenVerifier(settings)
        background: list[OutboxRelay | InboxConsumer | PeriodicJob] = []
        if spec.outbox_model is not None:
            background.append(
                OutboxRelay(
                    model=spec.outbox_model,
                    sessionmaker=sessionmaker,
                    bootstrap_servers=settings.kafka_bootstrap_servers,
                    topics=topic_names(spec.produces),
                    partitions=settings.kafka_topic_partitions,
                    replication_factor=settings.kafka_replication_factor,
                    listen_dsn=libpq_dsn(settings.sqlalchemy_url),
                    client_id=f"{spec.name}-outbox",
                    poll_interval_s=settings.outbox_poll_interval_s,
                )
            )
        for consumer in spec.consumers:
            assert spec.inbox_model is not None, "a consuming service needs an inbox table"
            background.append(
                InboxConsumer(
                    name=f"{spec.name}.{consumer.name}",
                    topics=[t.value for t in consumer.topics],
                    group_id=f"{spec.name}.{consumer.name}",
                    bootstrap_servers=settings.kafka_bootstrap_servers,
                    sessionmaker=sessionmaker,
                    inbox_model=spec.inbox_model,
                    handler=consumer.handler,
                    partitions=settings.kafka_topic_partitions,
                    replication_factor=settings.kafka_replication_factor,
                )
            )
        for periodic in spec.periodic:
            background.append(
                PeriodicJob(
                    name=f"{spec.name}.{periodic.name}",
                    interval_s=periodic.interval_s,
                    job=periodic.job,
                    sessionmaker=sessionmaker,
                )
            )
        app.state.outbox_relay = next((b for b in background if isinstance(b, OutboxRelay)), None)
        app.state.consumers = [b for b in background if isinstance(b, InboxConsumer)]
        try:
            async with contextlib.AsyncExitStack() as resources:
                for resource in spec.resources:
                    await resources.enter_async_context(resource(app))
                for worker in background:
                    await worker.start()
                try:
                    yield
                finally:
                    for worker in reversed(background):
                        await worker.stop()
        finally:
            await engine.dispose()

    app = FastAPI(
        title=f"CallPulse {spec.name}",
        description=spec.description,
        version="0.1.0",
        lifespan=lifespan,
    )
    install_problem_handlers(app)
    app.add_middleware(RequestContextMiddleware, service=spec.name)
    app.include_router(
        health_router(uses_broker=spec.uses_broker or bool(spec.outbox_model or spec.consumers))
    )
    for router in spec.routers:
        app.include_router(router)
    return app


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    async for session in transactional_session(request.app.state.sessionmaker):
        yield session


SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]
"""The request's session; it commits before the response is sent, or rolls back on error."""


def health_router(*, uses_broker: bool) -> APIRouter:
    router = APIRouter(tags=["health"])

    @router.get("/healthz", summary="The process is up")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @router.get("/readyz", summary="The database (and broker) answer")
    async def readyz(request: Request) -> JSONResponse:
        checks: dict[str, str] = {}
        try:
            async with request.app.state.engine.connect() as conn:
                await asyncio.wait_for(conn.execute(text("SELECT 1")), 2)
            checks["database"] = "ok"
        except Exception as exc:
            checks["database"] = f"unavailable: {type(exc).__name__}"
        if uses_broker:
            bootstrap = request.app.state.settings.kafka_bootstrap_servers
            checks["broker"] = "ok" if await broker_reachable(bootstrap) else "unavailable"
        ready = all(v == "ok" for v in checks.values())
        return JSONResponse(
            {"status": "ready" if ready else "unavailable", "checks": checks},
            status_code=200 if ready else 503,
        )

    @router.get("/metrics", summary="Prometheus metrics", include_in_schema=False)
    async def metrics() -> PlainTextResponse:
        return PlainTextResponse(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return router
