"""The whole stack behind a real gateway, in one process: roster, metrics and care apps on
their own migrated databases (each test's changes rolled back), reached by the gateway through
in-process ASGI transports instead of the network, and a small floor seeded consistently in
all three (people and teams in the roster, membership in metrics, the roster copy in care)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import date
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from services.care.app import create_app as create_care
from services.care.directory.service import apply_roster_batch as care_roster
from services.care.settings import CareSettings
from services.gateway.app import create_app as create_gateway
from services.gateway.settings import GatewaySettings
from services.metrics.app import create_app as create_metrics
from services.metrics.ingest.service import apply_roster_batch as metrics_roster
from services.metrics.settings import MetricsSettings
from services.roster.app import create_app as create_roster
from services.roster.people.models import Person
from services.roster.settings import RosterSettings
from services.roster.teams.models import Team
from shared.auth import issue_token
from shared.db import make_engine
from tests.care.conftest import floor_events
from tests.conftest import rolled_back_session, wire_app

SERVICES = {
    "roster": (RosterSettings, create_roster),
    "metrics": (MetricsSettings, create_metrics),
    "care": (CareSettings, create_care),
    "gateway": (GatewaySettings, None),
}

PEOPLE = [
    # id, role, team
    ("L1", "team_lead", None),
    ("L2", "team_lead", None),
    ("M", "manager", None),
    ("AD", "admin", None),
    ("OP", "ops", None),
    ("QA", "qa", None),
    ("TR", "trainer", None),
    ("A1", "agent", "T1"),
    ("A2", "agent", "T1"),
    ("A3", "agent", "T1"),
    ("B1", "agent", "T2"),
    ("N1", "agent", "T1"),
]


@pytest.fixture(scope="session")
async def stack_settings(migrated_database: Any, kafka_bootstrap: str) -> dict[str, Any]:
    settings = {}
    for name, (settings_class, _) in SERVICES.items():
        url = await migrated_database(name, suffix="_gw")
        settings[name] = settings_class(
            database_url=url,
            kafka_bootstrap_servers=kafka_bootstrap,
            environment="test",
            log_json=False,
        )
    # Joining a consumer group takes the embedded broker seconds, and a lifespan that ends
    # mid-join waits for it: only the tests of the CTI identities run their consumer.
    settings["gateway"] = settings["gateway"].model_copy(update={"cti_identities_consumer": False})
    return settings


@pytest.fixture(scope="session")
async def stack_engines(stack_settings) -> AsyncIterator[dict[str, AsyncEngine]]:
    engines = {n: make_engine(s.sqlalchemy_url, pool_size=3) for n, s in stack_settings.items()}
    yield engines
    for engine in engines.values():
        await engine.dispose()


Transport = Callable[[str, httpx.AsyncBaseTransport], httpx.AsyncBaseTransport]


@dataclass
class Stack:
    apps: dict[str, FastAPI]
    sessions: dict[str, AsyncSession]
    settings: dict[str, Any]

    def headers(self, who: str, role: str, teams: list[str] | None = None) -> dict[str, str]:
        token, _ = issue_token(
            self.settings["gateway"], subject=who, role=role, team_ids=teams or []
        )
        return {"Authorization": f"Bearer {token}"}


@pytest.fixture
async def stack(stack_settings, stack_engines) -> AsyncIterator[Stack]:
    async with AsyncExitStack() as exits:
        sessions = {
            name: await exits.enter_async_context(rolled_back_session(engine))
            for name, engine in stack_engines.items()
        }
        apps = {
            name: wire_app(
                factory(stack_settings[name]),
                stack_settings[name],
                stack_engines[name],
                sessions[name],
            )
            for name, (_, factory) in SERVICES.items()
            if factory is not None
        }
        await seed(sessions)
        yield Stack(apps=apps, sessions=sessions, settings=stack_settings)


async def seed(sessions: dict[str, AsyncSession]) -> None:
    roster = sessions["roster"]
    roster.add_all(
        Person(
            id=pid,
            employee_no=f"E-{pid}",
            name=f"Person {pid}",
            role=role,
            status="active",
            hire_date=date(2025, 1, 6),
        )
        for pid, role, _ in PEOPLE
    )
    await roster.flush()
    roster.add_all(
        [Team(id="T1", name="Team T1", lead_id="L1"), Team(id="T2", name="Team T2", lead_id="L2")]
    )
    await roster.flush()
    for pid, _, team in PEOPLE:
        if team:
            person = await roster.get(Person, pid)
            assert person is not None
            person.team_id = team
    await roster.flush()
    events = floor_events()
    await metrics_roster(sessions["metrics"], events)
    await care_roster(sessions["care"], events)
    for session in sessions.values():
        await session.flush()


class OneAtATime(httpx.AsyncBaseTransport):
    """Each service's test app shares one rolled-back session, which takes one request at a
    time; requests to different services still run concurrently."""

    def __init__(self, app: FastAPI) -> None:
        self.inner = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        self.lock = asyncio.Lock()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        async with self.lock:
            response = await self.inner.handle_async_request(request)
            await response.aread()
            return response


def in_process(stack: Stack, wrap: Transport | None = None):
    def transport(service: str) -> httpx.AsyncBaseTransport:
        inner = OneAtATime(stack.apps[service])
        return wrap(service, inner) if wrap else inner

    return transport


@pytest.fixture
def gateway_client(stack: Stack, stack_engines):
    """``async with gateway_client(wrap=…, **settings) as client`` — a gateway in front of the
    stack; ``wrap(service, transport)`` may replace a service's transport (slow, down)."""

    def make(wrap: Transport | None = None, **overrides: Any):
        settings = stack.settings["gateway"].model_copy(update=overrides)
        app = create_gateway(settings, transport=in_process(stack, wrap))
        wire_app(app, settings, stack_engines["gateway"], stack.sessions["gateway"])

        class Client:
            async def __aenter__(self) -> httpx.AsyncClient:
                self._lifespan = app.router.lifespan_context(app)
                await self._lifespan.__aenter__()
                self._client = httpx.AsyncClient(
                    transport=httpx.ASGITransport(app=app, raise_app_exceptions=False),
                    base_url="http://gateway",
                )
                return await self._client.__aenter__()

            async def __aexit__(self, *exc: object) -> None:
                await self._client.__aexit__(*exc)
                await self._lifespan.__aexit__(*exc)

        return Client()

    return make
