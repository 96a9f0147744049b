"""Metrics fixtures: a migrated database, a rolled-back session per test, an app and client."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from services.metrics.app import create_app
from services.metrics.settings import MetricsSettings
from shared.auth import issue_token
from shared.db import make_engine
from tests.conftest import rolled_back_session, wire_app


@pytest.fixture(scope="session")
async def metrics_db_url(migrated_database: Any) -> str:
    return await migrated_database("metrics")


@pytest.fixture(scope="session")
def metrics_settings(metrics_db_url: str, kafka_bootstrap: str) -> MetricsSettings:
    return MetricsSettings(
        database_url=metrics_db_url,
        kafka_bootstrap_servers=kafka_bootstrap,
        environment="test",
        log_json=False,
    )


@pytest.fixture(scope="session")
async def metrics_engine(metrics_settings: MetricsSettings) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(metrics_settings.sqlalchemy_url, pool_size=5)
    yield engine
    await engine.dispose()


@pytest.fixture
async def mdb(metrics_engine: AsyncEngine) -> AsyncIterator[AsyncSession]:
    """A metrics session inside a transaction rolled back after the test."""
    async with rolled_back_session(metrics_engine) as session:
        yield session


@pytest.fixture
async def metrics_client(metrics_settings, metrics_engine, mdb) -> AsyncIterator[httpx.AsyncClient]:
    app = wire_app(create_app(metrics_settings), metrics_settings, metrics_engine, mdb)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://metrics") as client:
        yield client


@pytest.fixture
def metrics_token(metrics_settings) -> Callable[..., dict[str, str]]:
    def make(sub: str, role: str, team_ids: list[str] | None = None) -> dict[str, str]:
        token, _ = issue_token(metrics_settings, subject=sub, role=role, team_ids=team_ids or [])
        return {"Authorization": f"Bearer {token}"}

    return make
