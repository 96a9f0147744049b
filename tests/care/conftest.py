"""Care fixtures: a migrated database, a rolled-back session per test, an app and client, and
a small roster (fed through the real roster-event consumer) to care about."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from services.care.app import create_app
from services.care.directory.service import apply_roster_batch
from services.care.settings import CareSettings
from shared.auth import issue_token
from shared.db import make_engine
from shared.events import EventType, make_event
from shared.events.roster import MentorshipChanged, PersonSnapshot, TeamChanged
from tests.conftest import rolled_back_session, wire_app


@pytest.fixture(scope="session")
async def care_db_url(migrated_database: Any) -> str:
    return await migrated_database("care")


@pytest.fixture(scope="session")
def care_settings(care_db_url: str, kafka_bootstrap: str) -> CareSettings:
    return CareSettings(
        database_url=care_db_url,
        kafka_bootstrap_servers=kafka_bootstrap,
        environment="test",
        log_json=False,
    )


@pytest.fixture(scope="session")
async def care_engine(care_settings: CareSettings) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(care_settings.sqlalchemy_url, pool_size=5)
    yield engine
    await engine.dispose()


@pytest.fixture
async def cdb(care_engine: AsyncEngine) -> AsyncIterator[AsyncSession]:
    """A care session inside a transaction rolled back after the test."""
    async with rolled_back_session(care_engine) as session:
        yield session


@pytest.fixture
async def care_client(care_settings, care_engine, cdb) -> AsyncIterator[httpx.AsyncClient]:
    app = wire_app(create_app(care_settings), care_settings, care_engine, cdb)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://care") as client:
        yield client


Headers = Callable[..., dict[str, str]]


@pytest.fixture
def token(care_settings) -> Headers:
    def make(sub: str, role: str, team_ids: list[str] | None = None) -> dict[str, str]:
        jwt, _ = issue_token(care_settings, subject=sub, role=role, team_ids=team_ids or [])
        return {"Authorization": f"Bearer {jwt}"}

    return make


T0 = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)
"""When the test roster was keyed in (a Monday)."""


@dataclass(frozen=True)
class Floor:
    """Two teams: T1 (lead L1; agents A1, A2, A3) and T2 (lead L2; agent B1), a manager M,
    an admin AD, an ops user OP, a QA reviewer QA, and a new hire N1 in T1 without a mentor."""

    headers: Headers

    def agent(self, who: str = "A1", team: str = "T1") -> dict[str, str]:
        return self.headers(who, "agent", [team])

    def lead(self, who: str = "L1", teams: tuple[str, ...] = ("T1",)) -> dict[str, str]:
        return self.headers(who, "team_lead", list(teams))

    def role(self, who: str, role: str) -> dict[str, str]:
        return self.headers(who, role, [])


def person_event(
    person_id: str,
    *,
    team_id: str | None,
    role: str = "agent",
    status: str = "active",
    hire_date: date | None = date(2025, 1, 6),
    at: datetime = T0,
    type_: EventType = EventType.PERSON_CREATED,
):
    data = PersonSnapshot(
        person_id=person_id,
        employee_no=f"E-{person_id}",
        name=f"Person {person_id}",
        role=role,
        status=status,
        team_id=team_id,
        hire_date=hire_date,
    )
    return make_event(type_, data, source="roster", time=at)


def team_event(team_id: str, lead_id: str | None, members: list[str], at: datetime = T0):
    data = TeamChanged(
        team_id=team_id,
        name=f"Team {team_id}",
        lead_id=lead_id,
        member_ids=members,
        joined=members,
        effective_at=at,
    )
    return make_event(EventType.TEAM_CHANGED, data, source="roster", time=at)


def mentorship_event(mentor_id: str, mentee_id: str, at: datetime = T0):
    data = MentorshipChanged(
        mentorship_id=f"ms-{mentee_id}", mentor_id=mentor_id, mentee_id=mentee_id, started_at=at
    )
    return make_event(EventType.MENTORSHIP_STARTED, data, source="roster", time=at)


def floor_events() -> list:
    return [
        person_event("L1", team_id=None, role="team_lead"),
        person_event("L2", team_id=None, role="team_lead"),
        person_event("M", team_id=None, role="manager"),
        person_event("AD", team_id=None, role="admin"),
        person_event("OP", team_id=None, role="ops"),
        person_event("QA", team_id=None, role="qa"),
        person_event("A1", team_id="T1"),
        person_event("A2", team_id="T1"),
        person_event("A3", team_id="T1"),
        person_event("B1", team_id="T2"),
        person_event("N1", team_id="T1", status="onboarding", hire_date=T0.date()),
        team_event("T1", "L1", ["A1", "A2", "A3", "N1"]),
        team_event("T2", "L2", ["B1"]),
    ]


@pytest.fixture
async def floor(cdb: AsyncSession, token: Headers) -> Floor:
    await apply_roster_batch(cdb, floor_events())
    await cdb.flush()
    return Floor(headers=token)
