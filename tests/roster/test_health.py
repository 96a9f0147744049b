"""Health endpoints of a real roster app: /readyz names what is unreachable."""

from __future__ import annotations

import httpx
from sqlalchemy.engine import make_url

from services.roster.app import create_app
from services.roster.settings import RosterSettings
from shared.db import make_engine
from shared.embedded import free_port


async def readyz(app) -> httpx.Response:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://roster") as client:
        return await client.get("/readyz")


async def test_ready_when_database_and_broker_answer(roster_app) -> None:
    response = await readyz(roster_app)
    assert response.status_code == 200
    assert response.json() == {"status": "ready", "checks": {"database": "ok", "broker": "ok"}}


async def test_not_ready_names_the_broker_and_the_database(roster_settings: RosterSettings) -> None:
    settings = roster_settings.model_copy(
        update={
            "kafka_bootstrap_servers": f"127.0.0.1:{free_port()}",
            "database_url": make_url(roster_settings.database_url)
            .set(database="no_such_database")
            .render_as_string(hide_password=False),
        }
    )
    app = create_app(settings)
    app.state.settings = settings
    app.state.engine = make_engine(settings.sqlalchemy_url, pool_size=1)
    try:
        response = await readyz(app)
    finally:
        await app.state.engine.dispose()
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["broker"] == "unavailable"
    assert body["checks"]["database"].startswith("unavailable")


async def test_healthz_needs_nothing(roster_app) -> None:
    transport = httpx.ASGITransport(app=roster_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://roster") as client:
        assert (await client.get("/healthz")).json() == {"status": "ok"}
        metrics = await client.get("/metrics")
        assert metrics.status_code == 200 and "callpulse_http_requests_total" in metrics.text
