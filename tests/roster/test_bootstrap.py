"""First start: the admin once, the demo center only into an empty roster, nothing twice."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError
from sqlalchemy import func, select

from services.roster.auth.service import IssuedToken, sign_in
from services.roster.bootstrap import AGENTS_PER_TEAM, TEAMS, BootstrapSettings, run
from services.roster.db import OutboxMessage
from services.roster.models import Person, Schedule, Team
from services.roster.settings import RosterSettings
from shared.db import make_engine, make_sessionmaker

pytestmark = pytest.mark.slow


@pytest.fixture
async def fresh_settings(migrated_database: Any, kafka_bootstrap: str) -> RosterSettings:
    url = await migrated_database("roster", suffix="_boot")
    return RosterSettings(database_url=url, kafka_bootstrap_servers=kafka_bootstrap)


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

    engine = make_engine(fresh_settings.sqlalchemy_url, pool_size=1)
    try:
        async with make_sessionmaker(engine)() as session:
            issued = await sign_in(session, fresh_settings, "root", "s3cret-enough!")
            assert isinstance(issued, IssuedToken) and issued.role == "admin"
    finally:
        await engine.dispose()

    await run(fresh_settings, boot.model_copy(update={"demo": True}))
    seeded = await counts(fresh_settings)
    agents = len(TEAMS) * AGENTS_PER_TEAM
    assert seeded["people"] == 1 + 3 + len(TEAMS) + agents
    assert seeded["teams"] == len(TEAMS)
    assert seeded["schedules"] == agents

    await run(fresh_settings, boot.model_copy(update={"demo": True}))
    assert await counts(fresh_settings) == seeded


def test_production_refuses_the_default_admin_password(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ENVIRONMENT", "production")
    monkeypatch.delenv("ADMIN_PASSWORD", raising=False)
    with pytest.raises(ValidationError, match="ADMIN_PASSWORD"):
        BootstrapSettings()
