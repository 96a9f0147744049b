"""Local sign-in: employee number + password → JWT, with throttling of repeated failures.

A refusal is returned, not raised: the failed attempt it records must commit even though the
caller gets a 401 (raising would roll the request's transaction back).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.roster.people import repository as people_repo
from services.roster.people.models import LoginThrottle, Person
from services.roster.people.passwords import verify_password
from services.roster.settings import RosterSettings
from services.roster.teams.models import Team
from shared.auth import issue_token
from shared.errors import Problem, TooManyRequests, Unauthorized

WRONG_CREDENTIALS = "Wrong employee number or password."


@dataclass(frozen=True)
class IssuedToken:
    access_token: str
    expires_in: int
    person_id: str
    role: str
    team_ids: list[str]


async def token_team_ids(session: AsyncSession, person: Person) -> list[str]:
    """Teams named in the token: for a team lead the teams they lead, else their own team.

    A lead's own membership is left out on purpose: ``team_ids`` of a lead grant management.
    """
    if person.role == "team_lead":
        return sorted(await session.scalars(select(Team.id).where(Team.lead_id == person.id)))
    return [person.team_id] if person.team_id else []


async def sign_in(
    session: AsyncSession, settings: RosterSettings, employee_no: str, password: str
) -> IssuedToken | Problem:
    now = datetime.now(UTC)
    throttle = await session.get(LoginThrottle, employee_no, with_for_update=True)
    if throttle is not None and throttle.locked_until and throttle.locked_until > now:
        retry = math.ceil((throttle.locked_until - now).total_seconds())
        return TooManyRequests(
            "Too many failed sign-ins for this employee number; try again later.",
            retry_after_s=retry,
        )
    person = await people_repo.get_by_employee_no(session, employee_no)
    password_ok = await verify_password(person.password_hash if person else None, password)
    if person is not None and password_ok and person.status != "departed":
        await session.execute(delete(LoginThrottle).where(LoginThrottle.employee_no == employee_no))
        team_ids = await token_team_ids(session, person)
        token, ttl = issue_token(settings, subject=person.id, role=person.role, team_ids=team_ids)
        return IssuedToken(token, ttl, person.id, person.role, team_ids)
    _record_failure(session, throttle, employee_no, now, settings)
    await session.flush()
    return Unauthorized(WRONG_CREDENTIALS)


def _record_failure(
    session: AsyncSession,
    throttle: LoginThrottle | None,
    employee_no: str,
    now: datetime,
    settings: RosterSettings,
) -> None:
    window = timedelta(seconds=settings.login_lockout_s)
    if throttle is None:
        throttle = LoginThrottle(employee_no=employee_no, failures=0, first_failure_at=now)
        session.add(throttle)
    elif throttle.first_failure_at < now - window:
        throttle.failures, throttle.first_failure_at, throttle.locked_until = 0, now, None
    throttle.failures += 1
    if throttle.failures >= settings.login_max_failures:
        throttle.locked_until = now + window
