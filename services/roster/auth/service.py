"""Local sign-in: employee number + password → JWT, with throttling of repeated failures.

A refusal is returned, not raised: the failed attempt it records must commit even though the
caller gets a 401 (raising would roll the request's transaction back).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from services.roster.auth import repository
from services.roster.people import repository as people_repo
from services.roster.people.models import Person
from services.roster.people.passwords import verify_password
from services.roster.settings import RosterSettings
from services.roster.teams import repository as teams_repo
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
        return await teams_repo.led_by(session, person.id)
    return [person.team_id] if person.team_id else []


async def sign_in(
    session: AsyncSession, settings: RosterSettings, employee_no: str, password: str
) -> IssuedToken | Problem:
    """Unknown accounts, accounts without a password and departed people are refused with the
    same answer after the same argon2 verification, and count towards throttling alike."""
    now = datetime.now(UTC)
    locked_until = await repository.locked_until(session, employee_no)
    if locked_until is not None and locked_until > now:
        return TooManyRequests(
            "Too many failed sign-ins for this employee number; try again later.",
            retry_after_s=math.ceil((locked_until - now).total_seconds()),
        )
    person = await people_repo.get_by_employee_no(session, employee_no)
    password_ok = await verify_password(person.password_hash if person else None, password)
    if person is not None and password_ok and person.status != "departed":
        await repository.clear(session, employee_no)
        team_ids = await token_team_ids(session, person)
        token, ttl = issue_token(settings, subject=person.id, role=person.role, team_ids=team_ids)
        return IssuedToken(token, ttl, person.id, person.role, team_ids)
    await repository.record_failure(
        session,
        employee_no,
        now=now,
        window=timedelta(seconds=settings.login_lockout_s),
        max_failures=settings.login_max_failures,
    )
    return Unauthorized(WRONG_CREDENTIALS)
