"""Roster fixtures: a migrated database, a session rolled back after each test, an app and
an HTTP client wired to that session, tokens for any role, and small data factories."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from services.roster.app import create_app
from services.roster.people.models import Certification, Person
from services.roster.settings import RosterSettings
from services.roster.teams.models import Team
from shared.auth import issue_token
from shared.db import make_engine
from tests.conftest import rolled_back_session, wire_app


@pytest.fixture(scope="session")
async def roster_db_url(migrated_database: Any) -> str:
    return await migrated_database("roster")


@pytest.fixture(scope="session")
def roster_settings(roster_db_url: str, kafka_bootstrap: str) -> RosterSettings:
    return RosterSettings(
        database_url=roster_db_url,
        kafka_bootstrap_servers=kafka_bootstrap,
        environment="test",
        log_json=False,
    )


@pytest.fixture(scope="session")
async def roster_engine(roster_settings: RosterSettings) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(roster_settings.sqlalchemy_url, pool_size=5)
    yield engine
    await engine.dispose()


@pytest.fixture
async def db_session(roster_engine: AsyncEngine) -> AsyncIterator[AsyncSession]:
    async with rolled_back_session(roster_engine) as session:
        yield session


@pytest.fixture
def roster_app(roster_settings: RosterSettings, roster_engine: AsyncEngine, db_session):
    return wire_app(create_app(roster_settings), roster_settings, roster_engine, db_session)


@pytest.fixture
async def client(roster_app) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=roster_app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://roster") as c:
        yield c


@pytest.fixture
def token_for(roster_settings: RosterSettings) -> Callable[..., dict[str, str]]:
    """``token_for(person)`` or ``token_for(id=…, role=…, team_ids=[…])`` → auth headers."""

    def make(
        person: Person | None = None,
        *,
        id: str | None = None,
        role: str | None = None,
        team_ids: list[str] | None = None,
    ) -> dict[str, str]:
        subject = id or (person.id if person else "nobody")
        token, _ = issue_token(
            roster_settings,
            subject=subject,
            role=role or (person.role if person else "agent"),
            team_ids=team_ids if team_ids is not None else [],
        )
        return {"Authorization": f"Bearer {token}"}

    return make


class Factory:
    """Creates rows straight through the ORM, flushing so ids exist."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self._n = 0

    def _next(self) -> int:
        self._n += 1
        return self._n

    async def team(self, name: str | None = None, lead: Person | None = None) -> Team:
        team = Team(name=name or f"Team {self._next()}", lead_id=lead.id if lead else None)
        self.session.add(team)
        await self.session.flush()
        return team

    async def person(
        self,
        *,
        role: str = "agent",
        team: Team | None = None,
        status: str = "active",
        hire_date: date | None = None,
        go_live: bool = False,
        **fields: Any,
    ) -> Person:
        n = self._next()
        person = Person(
            employee_no=fields.pop("employee_no", f"E{n:05d}"),
            name=fields.pop("name", f"Person {n}"),
            email=fields.pop("email", f"person{n}@example.com"),
            role=role,
            team_id=team.id if team else None,
            status=status,
            hire_date=hire_date or date.today() - timedelta(days=365),
            **fields,
        )
        self.session.add(person)
        await self.session.flush()
        if go_live:
            self.session.add(
                Certification(
                    person_id=person.id,
                    name="go_live",
                    passed_at=(hire_date or date.today()) - timedelta(days=1),
                )
            )
            await self.session.flush()
        return person


@pytest.fixture
def factory(db_session: AsyncSession) -> Factory:
    return Factory(db_session)


@pytest.fixture
async def floor(factory: Factory) -> tuple[Person, Team, Person]:
    """A team lead, their team and one go-live certified agent in it."""
    lead = await factory.person(role="team_lead")
    team = await factory.team(lead=lead)
    agent = await factory.person(team=team, go_live=True)
    return lead, team, agent
