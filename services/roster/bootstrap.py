"""First start: the admin account and, unless ``DEMO=0``, a small demo center.

``python -m services.roster.bootstrap`` is idempotent: the admin (``ADMIN_EMPLOYEE_NO`` /
``ADMIN_PASSWORD``, defaults in ``shared.defaults``) is created once, its password never
overwritten afterwards, and the demo center only into a roster without teams. Everything is
written through the same domain services as the API, so every change reaches the outbox.

The demo center: three teams (a lead and 15 agents each), a manager, an ops analyst and a QA
reviewer, all with the password ``demo-password``; agents have CTI ids for the Asterisk and
Amazon Connect adapters, and today's schedules (center time zone) are published.
"""

from __future__ import annotations

import asyncio
import random
import uuid
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.roster.people import repository as people_repo
from services.roster.people import service as people_service
from services.roster.people.schemas import (
    PASSWORD_MIN_LENGTH,
    CertificationIn,
    PersonCreate,
    Skill,
)
from services.roster.schedules import service as schedules_service
from services.roster.schedules.schemas import ActivityIn
from services.roster.settings import RosterSettings
from services.roster.teams import service as teams_service
from services.roster.teams.models import Team
from services.roster.teams.schemas import TeamCreate
from shared.auth import Principal, Role
from shared.db import make_engine, make_sessionmaker
from shared.defaults import DEFAULT_ADMIN_EMPLOYEE_NO, DEFAULT_ADMIN_PASSWORD

DEMO_PASSWORD = "demo-password"
SYSTEM = Principal(id="bootstrap", role=Role.ADMIN)

TEAMS = ("Billing", "Tech Support", "Retention")
AGENTS_PER_TEAM = 15
TENURE_DAYS = (20, 45, 75, 120, 200, 400, 700, 1200)
"""Cycled through per team: new hires in training (< 30 days, not yet live), onboarding agents
(< 90 days, mentee material) and veterans (>= 180 days, mentor material)."""
GIVEN = (
    "Wei",
    "Fang",
    "Min",
    "Jie",
    "Lei",
    "Ying",
    "Hao",
    "Xin",
    "Yan",
    "Tao",
    "Li",
    "Jun",
    "Hui",
    "Qiang",
    "Mei",
    "Bo",
    "Lan",
    "Ning",
    "Rui",
    "Chen",
)
FAMILY = (
    "Wang",
    "Li",
    "Zhang",
    "Liu",
    "Chen",
    "Yang",
    "Zhao",
    "Huang",
    "Zhou",
    "Wu",
    "Xu",
    "Sun",
    "Ma",
    "Zhu",
    "Hu",
    "Guo",
    "He",
    "Lin",
    "Luo",
    "Gao",
)
SKILLS = {"Billing": "billing", "Tech Support": "technical", "Retention": "retention"}
SHIFT_STARTS = (time(8, 0), time(9, 0), time(10, 0), time(12, 0))


class BootstrapSettings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore")

    environment: str = "development"
    admin_employee_no: str = DEFAULT_ADMIN_EMPLOYEE_NO
    admin_password: str = Field(default=DEFAULT_ADMIN_PASSWORD, min_length=PASSWORD_MIN_LENGTH)
    demo: bool = True

    @model_validator(mode="after")
    def _no_default_password_in_production(self) -> BootstrapSettings:
        if self.environment == "production" and self.admin_password == DEFAULT_ADMIN_PASSWORD:
            raise ValueError("ADMIN_PASSWORD must be set in production")
        return self


async def ensure_admin(session: AsyncSession, employee_no: str, password: str) -> bool:
    """Create the first admin unless that employee number exists; True when created."""
    if await people_repo.get_by_employee_no(session, employee_no) is not None:
        return False
    admin = await people_service.create(
        session,
        SYSTEM,
        PersonCreate(employee_no=employee_no, name="Administrator", role="admin", status="active"),
    )
    await people_service.set_password(session, SYSTEM, admin.id, password)
    return True


async def roster_is_empty(session: AsyncSession) -> bool:
    return not await session.scalar(select(func.count()).select_from(Team))


async def seed_demo_center(session: AsyncSession, settings: RosterSettings, today: date) -> int:
    """Create the demo center; returns how many people it created."""
    rng = random.Random(20261122)
    names = iter(rng.sample([f"{g} {f}" for f in FAMILY for g in GIVEN], 80))
    created = 0

    async def person(employee_no: str, role: str, **fields) -> str:
        nonlocal created
        record = await people_service.create(
            session,
            SYSTEM,
            PersonCreate(employee_no=employee_no, name=next(names), role=role, **fields),
        )
        await people_service.set_password(session, SYSTEM, record.id, DEMO_PASSWORD)
        created += 1
        return record.id

    veteran = today - timedelta(days=3 * 365)
    await person("M001", "manager", status="active", hire_date=veteran)
    await person("OPS1", "ops", status="active", hire_date=veteran)
    await person("QA1", "qa", status="active", hire_date=veteran)

    agent_no = 1000
    for team_index, team_name in enumerate(TEAMS):
        lead_id = await person(
            f"L{team_index + 1:03d}",
            "team_lead",
            status="active",
            hire_date=veteran,
            personality_colour=rng.choice(("red", "blue", "yellow", "green")),
        )
        team = await teams_service.create(
            session, SYSTEM, TeamCreate(name=team_name, lead_id=lead_id)
        )
        for agent_index in range(AGENTS_PER_TEAM):
            agent_no += 1
            tenure = TENURE_DAYS[(agent_index + team_index) % len(TENURE_DAYS)]
            hire_date = today - timedelta(days=tenure)
            live = tenure >= 30
            agent_id = await person(
                f"A{agent_no}",
                "agent",
                status="active" if tenure > 90 else "onboarding",
                team_id=team.id,
                hire_date=hire_date,
                email=f"agent{agent_no}@demo.callpulse.local",
                personality_colour=rng.choice(("red", "blue", "yellow", "green")),
                external_ids={
                    "asterisk": f"Agent/{agent_no}",
                    "amazon-connect": str(uuid.uuid5(uuid.NAMESPACE_URL, f"demo-agent-{agent_no}")),
                },
                skills=[Skill(skill=SKILLS[team_name], level=min(5, 1 + tenure // 200))],
                certifications=(
                    [CertificationIn(name="go_live", passed_at=hire_date + timedelta(days=21))]
                    if live
                    else []
                ),
            )
            await schedules_service.put(
                session,
                SYSTEM,
                agent_id,
                today,
                demo_day(today, rng.choice(SHIFT_STARTS), settings.center_timezone, live=live),
                settings.center_timezone,
            )
    await schedules_service.publish_day(session, SYSTEM, today, None, settings.center_timezone)
    return created


def demo_day(day: date, start: time, timezone: str, *, live: bool) -> list[ActivityIn]:
    """An 8.5-hour shift: work with two 15-minute breaks and a 30-minute lunch.

    Agents not yet certified spend the day in training instead of on the phones.
    """
    tz = ZoneInfo(timezone)
    begin = datetime.combine(day, start, tzinfo=tz)

    def at(minutes: int) -> datetime:
        return begin + timedelta(minutes=minutes)

    main = "work" if live else "training"
    plan = [
        (main, 0, 120),
        ("break", 120, 135),
        (main, 135, 240),
        ("lunch", 240, 270),
        (main, 270, 390),
        ("break", 390, 405),
        (main, 405, 510),
    ]
    return [ActivityIn(kind=kind, start=at(a), end=at(b)) for kind, a, b in plan]


async def run(settings: RosterSettings, boot: BootstrapSettings) -> None:
    engine = make_engine(settings.sqlalchemy_url, pool_size=1)
    try:
        async with make_sessionmaker(engine)() as session, session.begin():
            created_admin = await ensure_admin(session, boot.admin_employee_no, boot.admin_password)
            print(f"admin {boot.admin_employee_no!r}: {'created' if created_admin else 'exists'}")
            if boot.demo and await roster_is_empty(session):
                today = datetime.now(ZoneInfo(settings.center_timezone)).date()
                count = await seed_demo_center(session, settings, today)
                print(f"demo center: {count} people in {len(TEAMS)} teams, schedules for {today}")
    finally:
        await engine.dispose()


if __name__ == "__main__":
    asyncio.run(run(RosterSettings(), BootstrapSettings()))
