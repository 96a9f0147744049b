"""Care records: one-on-ones, coaching, care actions, recognition, warnings, referrals and
mentoring sessions — written by the agent's lead (or a manager), read by the agent too,
without the private notes.

- A coaching record carries the structured note: at least the ``observation`` (a fact) and
  the ``request`` (what was agreed).
- A warning needs ``prior_conversation_id``: a one-on-one or coaching with the same agent in
  the 14 days before it (talk before any penalty, seed 003).
- A record given a ``task_id`` closes that task as done.
- A care break (``care_action`` / ``care_break``) is announced on ``care.events`` so metrics
  treats that aux time as sanctioned.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.care import access, events
from services.care.directory.models import Person
from services.care.records.models import CareRecord
from services.care.records.schemas import CareBreakGrant, RecordCreate, RecordRead
from services.care.settings import CareSettings
from services.care.tasks import service as tasks
from shared.auth import Principal, Role
from shared.errors import NotFound, RuleViolation
from shared.pagination import PageParams

DEFAULT_CATEGORY = {
    "one_on_one": "wellbeing",
    "coaching": "career",
    "recognition": "career",
    "warning": "career",
    "training_referral": "career",
    "mentoring_session": "career",
}
ACTION_CATEGORY = {
    "care_break": "wellbeing",
    "counselling_referral": "wellbeing",
    "workload_relief": "needs",
    "flexible_shift": "needs",
    "other": "wellbeing",
}
CONVERSATION_KINDS = ("one_on_one", "coaching")
FUTURE_TOLERANCE = timedelta(minutes=5)


def to_read(principal: Principal, record: CareRecord, team_id: str | None) -> RecordRead:
    read = RecordRead.model_validate(record, from_attributes=True)
    if not access.sees_private_notes(principal, record.agent_id, team_id):
        read = read.model_copy(update={"private_notes": None})
    return read


async def get_visible(session: AsyncSession, principal: Principal, record_id: str) -> RecordRead:
    access.check_record_reader(principal)
    record = await session.get(CareRecord, record_id)
    if record is not None:
        person = await session.get(Person, record.agent_id)
        team_id = person.team_id if person else record.team_id
        if access.can_read(principal, record.agent_id, team_id):
            return to_read(principal, record, team_id)
    raise NotFound(f"Care record {record_id} not found.")


async def list_visible(
    session: AsyncSession,
    principal: Principal,
    page: PageParams,
    *,
    agent_id: str | None,
    kind: str | None,
    category: str | None,
) -> tuple[list[RecordRead], str | None]:
    access.check_record_reader(principal)
    query = select(CareRecord, Person.team_id).outerjoin(Person, Person.id == CareRecord.agent_id)
    if agent_id is not None:
        await access.readable_agent(session, principal, agent_id)
        query = query.where(CareRecord.agent_id == agent_id)
    elif principal.role == Role.AGENT:
        query = query.where(CareRecord.agent_id == principal.id)
    else:
        teams = access.led_teams(principal)  # 404 for roles that never read care records
        if teams is not None:
            query = query.where(or_(CareRecord.agent_id == principal.id, Person.team_id.in_(teams)))
    if kind is not None:
        query = query.where(CareRecord.kind == kind)
    if category is not None:
        query = query.where(CareRecord.category == category)
    if page.after:
        at, last_id = datetime.fromisoformat(page.after[0]), page.after[1]
        query = query.where(
            or_(
                CareRecord.occurred_at < at,
                and_(CareRecord.occurred_at == at, CareRecord.id < last_id),
            )
        )
    query = query.order_by(CareRecord.occurred_at.desc(), CareRecord.id.desc()).limit(
        page.limit + 1
    )
    rows, cursor = page.page(
        list((await session.execute(query)).all()),
        key=lambda row: [row[0].occurred_at.isoformat(), row[0].id],
    )
    return [to_read(principal, record, team_id) for record, team_id in rows], cursor


async def create(
    session: AsyncSession, settings: CareSettings, principal: Principal, data: RecordCreate
) -> RecordRead:
    person = await access.writable_agent(session, principal, data.agent_id)
    now = datetime.now(UTC)
    occurred_at = data.occurred_at or now
    if occurred_at > now + FUTURE_TOLERANCE:
        raise RuleViolation(
            "occurred_in_future", "A care record describes something that happened."
        )
    if data.kind == "coaching" and not (data.observation and data.request):
        raise RuleViolation(
            "coaching_structure",
            "A coaching note states the observation (a fact) and the request (what was agreed); "
            "impact, need and follow_up_at complete it.",
        )
    if (data.kind == "care_action") != (data.action is not None):
        raise RuleViolation("care_action_kind", "`action` is given for, and only for, care_action.")
    if data.break_minutes is not None and data.action != "care_break":
        raise RuleViolation("break_minutes", "`break_minutes` belongs to a care break.")
    if data.kind == "warning":
        await _check_prior_conversation(session, settings, data, occurred_at)
    elif data.prior_conversation_id is not None:
        await _same_agent_record(session, data.prior_conversation_id, data.agent_id)
    if data.previous_record_id is not None:
        await _same_agent_record(session, data.previous_record_id, data.agent_id)
    task = await tasks.pending_task_for_record(session, principal, data.task_id, data.agent_id)
    category = data.category or (
        ACTION_CATEGORY[data.action] if data.action else DEFAULT_CATEGORY[data.kind]
    )
    break_minutes = (
        data.break_minutes or settings.care_break_default_minutes
        if data.action == "care_break"
        else None
    )
    if break_minutes is not None and break_minutes > settings.care_break_max_minutes:
        raise RuleViolation(
            "care_break_too_long",
            f"A care break lasts at most {settings.care_break_max_minutes} minutes.",
        )
    record = CareRecord(
        agent_id=person.id,
        team_id=person.team_id,
        author_id=principal.id,
        kind=data.kind,
        action=data.action,
        category=category,
        occurred_at=occurred_at,
        summary=data.summary,
        private_notes=data.private_notes,
        observation=data.observation,
        impact=data.impact,
        need=data.need,
        request=data.request,
        follow_up_at=data.follow_up_at,
        break_minutes=break_minutes,
        signal_id=data.signal_id or (task.signal_id if task else None),
        task_id=task.id if task else None,
        previous_record_id=data.previous_record_id,
        prior_conversation_id=data.prior_conversation_id,
        created_at=now,
    )
    session.add(record)
    await session.flush()
    await events.record_created(session, record)
    if record.action == "care_break":
        await events.care_break_granted(session, record)
    if task is not None:
        await tasks.close_done(session, task, record, principal.id, now)
    return to_read(principal, record, person.team_id)


async def grant_care_break(
    session: AsyncSession, settings: CareSettings, principal: Principal, data: CareBreakGrant
) -> RecordRead:
    minutes = data.minutes or settings.care_break_default_minutes
    return await create(
        session,
        settings,
        principal,
        RecordCreate(
            agent_id=data.agent_id,
            kind="care_action",
            action="care_break",
            category="wellbeing",
            summary=data.summary or f"Care break of {minutes} minutes granted.",
            private_notes=data.private_notes,
            occurred_at=data.start,
            break_minutes=minutes,
            task_id=data.task_id,
        ),
    )


async def _same_agent_record(session: AsyncSession, record_id: str, agent_id: str) -> CareRecord:
    record = await session.get(CareRecord, record_id)
    if record is None or record.agent_id != agent_id:
        raise RuleViolation("unknown_record", f"Record {record_id} is not one of this agent's.")
    return record


async def _check_prior_conversation(
    session: AsyncSession, settings: CareSettings, data: RecordCreate, occurred_at: datetime
) -> None:
    days = settings.warning_prior_conversation_days
    rule = (
        f"A warning needs prior_conversation_id: a one-on-one or coaching with the same agent "
        f"in the {days} days before it (talk before any penalty)."
    )
    if data.prior_conversation_id is None:
        raise RuleViolation("talk_before_penalty", rule)
    prior = await session.get(CareRecord, data.prior_conversation_id)
    if (
        prior is None
        or prior.agent_id != data.agent_id
        or prior.kind not in CONVERSATION_KINDS
        or not occurred_at - timedelta(days=days) <= prior.occurred_at <= occurred_at
    ):
        raise RuleViolation("talk_before_penalty", rule)
