"""Anonymous feedback ("employee voice").

The author's id is used for two things, both in memory and only while the request runs: to
find their current team and to compute their daily-limit key. It is never written to a row,
a log line or an event, and this module logs nothing. The limit is a count under
HMAC(key, "person:day") in ``feedback_quota``, a table with no link to the entries.

Leaders read a scope's entries only once it holds ``feedback_team_threshold`` of them, so a
single voice cannot be picked out of a tiny set; agents then see the entries leadership
answered publicly. Anyone else gets a 404.
"""

from __future__ import annotations

import hashlib
import hmac
import math
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, delete, func, select, tuple_, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.care.directory.models import Person
from services.care.feedback.models import FeedbackEntry, FeedbackQuota
from services.care.feedback.schemas import (
    FeedbackCreate,
    FeedbackList,
    FeedbackRead,
    FeedbackReceipt,
    FeedbackRespond,
    FeedbackScope,
)
from services.care.settings import CareSettings
from shared.auth import Principal, Role
from shared.errors import (
    Forbidden,
    NotFound,
    RuleViolation,
    TooManyRequests,
    ValidationFailed,
)
from shared.pagination import PageParams


def to_receipt(entry: FeedbackEntry) -> FeedbackReceipt:
    return FeedbackReceipt.model_validate(entry, from_attributes=True)


def to_read(entry: FeedbackEntry) -> FeedbackRead:
    return FeedbackRead.model_validate(entry, from_attributes=True)


def local_day(now: datetime, timezone: str) -> date:
    return now.astimezone(ZoneInfo(timezone)).date()


def quota_key(settings: CareSettings, person_id: str, day: date) -> bytes:
    """Only the service's secret turns a person and a day into this key; the row holds no id."""
    message = f"{person_id}:{day.isoformat()}".encode()
    secret = settings.feedback_quota_key.get_secret_value().encode()
    return hmac.new(secret, message, hashlib.sha256).digest()


def seconds_until_next_day(now: datetime, day: date, timezone: str) -> int:
    midnight = datetime.combine(day + timedelta(days=1), time.min, tzinfo=ZoneInfo(timezone))
    return max(1, math.ceil((midnight.astimezone(UTC) - now.astimezone(UTC)).total_seconds()))


async def scrub_quota(session: AsyncSession, settings: CareSettings, now: datetime) -> None:
    """Periodic: forget past days' counts, and rewrite today's rows in this transaction.

    A quota row and the entry it admitted are written by one transaction, so for a while they
    share PostgreSQL's hidden ``xmin`` — a link someone holding the quota key could follow.
    Rewriting every row gives them all this job's transaction id, cutting that link within one
    interval of the job.
    """
    today = local_day(now, settings.center_timezone)
    await session.execute(delete(FeedbackQuota).where(FeedbackQuota.day < today))
    await session.execute(update(FeedbackQuota).values(used=FeedbackQuota.used))


async def _take_quota(
    session: AsyncSession, settings: CareSettings, person_id: str, day: date, now: datetime
) -> None:
    """Count one submission, atomically: the upsert only bumps a count still under the limit,
    so concurrent requests of one person cannot both take the last one."""
    await session.execute(delete(FeedbackQuota).where(FeedbackQuota.day < day))
    limit = settings.feedback_daily_limit
    stmt = insert(FeedbackQuota).values(key=quota_key(settings, person_id, day), day=day, used=1)
    stmt = stmt.on_conflict_do_update(
        index_elements=[FeedbackQuota.key],
        set_={"used": FeedbackQuota.used + 1},
        where=FeedbackQuota.used < limit,
    ).returning(FeedbackQuota.used)
    used = await session.scalar(stmt)
    if used is None or used > limit:
        raise TooManyRequests(
            f"You have sent {limit} feedback entries today; more can be sent tomorrow.",
            retry_after_s=seconds_until_next_day(now, day, settings.center_timezone),
        )


async def submit(
    session: AsyncSession,
    principal: Principal,
    data: FeedbackCreate,
    settings: CareSettings,
    *,
    now: datetime | None = None,
) -> FeedbackEntry:
    now = now or datetime.now(UTC)
    person = await session.get(Person, principal.id)
    if person is None or person.status == "departed":
        raise Forbidden("Only current staff send feedback.")
    team_id = None
    if data.scope == "team":
        if person.team_id is None:
            raise RuleViolation("no_team", "You are in no team; send this to the center instead.")
        team_id = person.team_id
    day = local_day(now, settings.center_timezone)
    await _take_quota(session, settings, person.id, day, now)
    entry = FeedbackEntry(
        scope=data.scope, team_id=team_id, topic=data.topic, body=data.body, submitted_on=day
    )
    session.add(entry)
    await session.flush()
    return entry


def _in_scope(scope: str, team_id: str | None) -> ColumnElement[bool]:
    if scope == "team":
        return and_(FeedbackEntry.scope == "team", FeedbackEntry.team_id == team_id)
    return FeedbackEntry.scope == "center"


async def _count(session: AsyncSession, scope: str, team_id: str | None) -> int:
    total = await session.scalar(
        select(func.count()).select_from(FeedbackEntry).where(_in_scope(scope, team_id))
    )
    return total or 0


def _leads_scope(principal: Principal, scope: str, team_id: str | None) -> bool:
    """Managers and admins read every scope; a team lead reads the teams they lead."""
    return principal.sees_everything or (scope == "team" and principal.leads(team_id))


async def _public_reader(
    session: AsyncSession, principal: Principal, scope: str, team_id: str | None
) -> bool:
    """Agents read the answered entries of the center and of the team they are in now."""
    if principal.role != Role.AGENT:
        return False
    person = await session.get(Person, principal.id)
    if person is None or person.status == "departed":
        return False
    return scope == "center" or (team_id is not None and person.team_id == team_id)


async def _resolve_team(
    session: AsyncSession, principal: Principal, scope: FeedbackScope, team_id: str | None
) -> str | None:
    if scope == "center":
        if team_id is not None:
            raise ValidationFailed(
                "team_id goes with scope=team only",
                errors=[{"field": "query.team_id", "message": "not with scope=center"}],
            )
        return None
    if team_id is None:
        person = await session.get(Person, principal.id)
        team_id = person.team_id if person else None
    if team_id is None:
        raise ValidationFailed(
            "team_id is required for scope=team",
            errors=[{"field": "query.team_id", "message": "required"}],
        )
    return team_id


def _after(values: list | None) -> tuple[date, str] | None:
    if values is None:
        return None
    try:
        day, entry_id = values
        parsed = date.fromisoformat(day)
    except (TypeError, ValueError):
        parsed = None
    if parsed is None or not isinstance(entry_id, str):
        raise ValidationFailed("cursor is not a cursor this API returned")
    return parsed, entry_id


async def list_visible(
    session: AsyncSession,
    principal: Principal,
    page: PageParams,
    *,
    scope: FeedbackScope,
    team_id: str | None,
    threshold: int,
) -> FeedbackList:
    """A scope's entries, newest day first (random ids keep the order within a day
    meaningless)."""
    team_id = await _resolve_team(session, principal, scope, team_id)
    full = _leads_scope(principal, scope, team_id)
    if not full and not await _public_reader(session, principal, scope, team_id):
        raise NotFound("No feedback here for you.")
    total = await _count(session, scope, team_id)
    visible = total >= threshold
    rows: list[FeedbackEntry] = []
    next_cursor = None
    if visible:
        query = (
            select(FeedbackEntry)
            .where(_in_scope(scope, team_id))
            .order_by(FeedbackEntry.submitted_on.desc(), FeedbackEntry.id.desc())
            .limit(page.limit + 1)
        )
        if not full:
            query = query.where(FeedbackEntry.response.is_not(None))
        after = _after(page.after)
        if after is not None:
            query = query.where(tuple_(FeedbackEntry.submitted_on, FeedbackEntry.id) < after)
        fetched = list((await session.scalars(query)).all())
        rows, next_cursor = page.page(fetched, key=lambda e: [e.submitted_on.isoformat(), e.id])
    return FeedbackList(
        scope=scope,
        team_id=team_id,
        entries=total,
        threshold=threshold,
        visible=visible,
        items=[to_read(r) for r in rows],
        next_cursor=next_cursor,
    )


async def respond(
    session: AsyncSession,
    principal: Principal,
    entry_id: str,
    data: FeedbackRespond,
    *,
    threshold: int,
    now: datetime | None = None,
) -> FeedbackEntry:
    """Leadership answers in public; a later answer replaces the earlier one."""
    entry = await session.get(FeedbackEntry, entry_id, with_for_update=True)
    if entry is None:
        raise NotFound(f"Feedback {entry_id} not found.")
    visible = await _count(session, entry.scope, entry.team_id) >= threshold
    if not (visible and _leads_scope(principal, entry.scope, entry.team_id)):
        if (
            visible
            and entry.response is not None
            and await _public_reader(session, principal, entry.scope, entry.team_id)
        ):
            raise Forbidden("Leads of the team, managers and admins answer feedback.")
        raise NotFound(f"Feedback {entry_id} not found.")
    entry.response = data.response
    entry.responded_by = principal.id
    entry.responded_at = now or datetime.now(UTC)
    await session.flush()
    return entry
