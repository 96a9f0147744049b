"""First start: the admin once, the demo center only into an empty roster, nothing twice."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from pydantic import ValidationError
from sqlalchemy import func, select

from services.roster.app import create_app
from services.roster.auth.service import IssuedToken, sign_in
from services.roster.bootstrap import (
    AGENTS_PER_TEAM,
    DEMO_PASSWORD,
    TEAMS,
    BootstrapSettings,
    run,
)
from services.roster.db import OutboxMessage
from services.roster.models import Person, Schedule, Team
from services.roster.settings import RosterSettings
from shared.db import make_engine, make_sessionmaker
from shared.defaults import DEFAULT_ADMIN_EMPLOYEE_NO, DEFAULT_ADMIN_PASSWORD
from shared.events import parse_event
from tests.conftest import rolled_back_session, wire_app

pytestmark = pytest.mark.slow


@pytest.fixture
async def fresh_settings(migrated_database: Any, kafka_bootstrap: str) -> RosterSettings:
    url = await migrated_database("roster", suffix="_boot")
    return RosterSettings(
        database_url=url,
        kafka_bootstrap_servers=kafka_bootstrap,
        center_timezone="Asia/Shanghai",
        environment="test",
        log_json=False,
    )


async def counts(settings: RosterSettings) -> dict[str, int]:
    engine = make_engine(settings.sqlalchemy_url, pool_size=1)
    try:
        async with make_sessionmaker(engine)() as session:
            return {
                name: await session.scalar(select(func.count()).select_from(model))
                for name, model in (
                    ("people", Person),
                    ("teams", Team),
                    ("schedules", Schedule),
                    ("events", OutboxMessage),
                )
            }
    finally:
        await engine.dispose()


async def test_admin_only_then_demo_then_nothing_more(fresh_settings: RosterSettings) -> None:
    boot = BootstrapSettings(admin_employee_no="root", admin_password="s3cret-enough!", demo=False)
    await run(fresh_settings, boot)
    assert await counts(fresh_settings) == {"people": 1, "teams": 0, "schedules": 0, "events": 1}

    await run(fresh_settings, boot.model_copy(update={"demo": True}))
    seeded = await counts(fresh_settings)
    agents = len(TEAMS) * AGENTS_PER_TEAM
    assert seeded["people"] == 1 + 3 + len(TEAMS) + agents
    assert seeded["teams"] == len(TEAMS)
    assert seeded["schedules"] == agents

    await run(fresh_settings, boot.model_copy(update={"demo": True}))
    assert await counts(fresh_settings) == seeded

    await check_demo_center(fresh_settings)


async def check_demo_center(settings: RosterSettings) -> None:
    engine = make_engine(settings.sqlalchemy_url, pool_size=2)
    try:
        async with rolled_back_session(engine) as session:
            issued = await sign_in(session, settings, "root", "s3cret-enough!")
            assert isinstance(issued, IssuedToken) and issued.role == "admin"

            for payload in await session.scalars(select(OutboxMessage.payload)):
                parse_event(payload)  # every event is one a consumer can read

            today = datetime.now(ZoneInfo(settings.center_timezone)).date()
            schedules = (await session.scalars(select(Schedule))).all()
            assert {(s.day, s.status) for s in schedules} == {(today, "published")}

            tenure_by_team: dict[str, list[int]] = defaultdict(list)
            agents = await session.scalars(select(Person).where(Person.role == "agent"))
            for agent in agents:
                assert agent.hire_date is not None and agent.team_id is not None
                tenure_by_team[agent.team_id].append((today - agent.hire_date).days)
            for tenures in tenure_by_team.values():
                assert min(tenures) < 90 <= 180 <= max(tenures)

            app = wire_app(create_app(settings), settings, engine, session)
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://roster") as client:
                await check_through_the_api(client, today.isoformat())
    finally:
        await engine.dispose()


async def check_through_the_api(client: httpx.AsyncClient, today: str) -> None:
    signed_in = await client.post(
        "/v1/auth/token", json={"employee_no": "L001", "password": DEMO_PASSWORD}
    )
    assert signed_in.status_code == 200, signed_in.text
    lead = signed_in.json()
    headers = {"Authorization": f"Bearer {lead['access_token']}"}
    [team] = (await client.get("/v1/teams", headers=headers)).json()["items"]
    assert team["name"] == TEAMS[0] and team["lead_id"] == lead["person_id"]
    assert team["agent_count"] == AGENTS_PER_TEAM and team["warnings"] == []
    schedules = await client.get(
        "/v1/schedules", params={"day": today, "limit": 50}, headers=headers
    )
    assert len(schedules.json()["items"]) == AGENTS_PER_TEAM

    agent = await client.post(
        "/v1/auth/token", json={"employee_no": "A1001", "password": DEMO_PASSWORD}
    )
    assert agent.json()["team_ids"] == [team["id"]]
    own = await client.get(
        f"/v1/people/{agent.json()['person_id']}",
        headers={"Authorization": f"Bearer {agent.json()['access_token']}"},
    )
    body = own.json()
    assert set(body["external_ids"]) == {"asterisk", "amazon-connect"}
    assert body["external_ids"]["asterisk"] == "Agent/1001"
    assert body["personality_colour"] is None  # a team-leader aid, hidden from the agent


def test_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("ADMIN_EMPLOYEE_NO", "ADMIN_PASSWORD", "DEMO", "ENVIRONMENT"):
        monkeypatch.delenv(name, raising=False)
    defaults = BootstrapSettings()
    assert (defaults.admin_employee_no, defaults.admin_password, defaults.demo) == (
        DEFAULT_ADMIN_EMPLOYEE_NO,
        DEFAULT_ADMIN_PASSWORD,
        True,
    )
    monkeypatch.setenv("ADMIN_EMPLOYEE_NO", "boss")
    monkeypatch.setenv("ADMIN_PASSWORD", "a-long-enough-secret")
    monkeypatch.setenv("DEMO", "0")
    configured = BootstrapSettings()
    assert (configured.admin_employee_no, configured.demo) == ("boss", False)


def test_an_admin_password_shorter_than_the_api_allows_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ADMIN_PASSWORD", "short")
    with pytest.raises(ValidationError, match="admin_password"):
        BootstrapSettings()


def test_production_refuses_the_default_admin_password(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ENVIRONMENT", "production")
    monkeypatch.delenv("ADMIN_PASSWORD", raising=False)
    with pytest.raises(ValidationError, match="ADMIN_PASSWORD"):
        BootstrapSettings()
