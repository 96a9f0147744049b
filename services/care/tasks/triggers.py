"""Care tasks: triggers (metrics signals, roster changes, the periodic scan) become tasks for
the agent's team lead, through the degree-of-care gate in :mod:`services.care.tasks.rules`.

Every trigger has a key (signal kind + subject + episode, or rule + person + checkpoint), so
a duplicated or replayed trigger never opens a second task.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.care import events
from services.care.checkins.models import CheckIn
from services.care.directory.models import Mentorship, Person, Shift, Team
from services.care.policy.service import policies_for, policy_for
from services.care.records.models import CareRecord
from services.care.settings import CareSettings
from services.care.tasks import rules
from services.care.tasks.models import CareTask, ReceivedSignal, TaskTrigger
from shared.events import CloudEvent, EventType
from shared.events.roster import MentorshipChanged, PersonSnapshot
from shared.events.signals import SignalRaised

PENDING = ("open", "deferred")
CARED_FOR_STATUSES = ("active", "onboarding")


async def apply_signal_batch(
    session: AsyncSession, events_: list[CloudEvent], settings: CareSettings
) -> None:
    for event in sorted(events_, key=lambda e: (e.time, e.id)):
        data = event.data
        if not isinstance(data, SignalRaised):
            continue
        await session.execute(
            insert(ReceivedSignal)
            .values(
                id=event.id,
                kind=data.kind,
                episode=data.episode,
                agent_id=data.agent_id,
                team_id=data.team_id,
                detected_at=data.detected_at,
                facts=data.facts,
            )
            .on_conflict_do_nothing()
        )
        if data.kind not in rules.SIGNAL_RULES:
            continue
        await trigger(
            session,
            settings,
            rule=data.kind,
            key=f"signal:{data.kind}:{data.agent_id or data.team_id}:{data.episode}",
            agent_id=data.agent_id,
            team_id=data.team_id,
            at=data.detected_at,
            facts=dict(data.facts),
            signal_id=event.id,
        )


async def apply_roster_triggers(
    session: AsyncSession, events_: list[CloudEvent], settings: CareSettings
) -> None:
    """A mentor assigned closes the "assign a mentor" task; a departure closes every task."""
    for event in sorted(events_, key=lambda e: (e.time, e.id)):
        data = event.data
        if isinstance(data, MentorshipChanged) and event.type == EventType.MENTORSHIP_STARTED:
            await _close_pending(
                session,
                data.mentee_id,
                f"a mentor was assigned (mentorship {data.mentorship_id})",
                event.time,
                rule="assign_mentor",
            )
        elif isinstance(data, PersonSnapshot) and data.status == "departed":
            await _close_pending(session, data.person_id, "the person departed", event.time)


async def _close_pending(
    session: AsyncSession, agent_id: str, reason: str, at: datetime, *, rule: str | None = None
) -> None:
    query = (
        select(CareTask)
        .where(CareTask.agent_id == agent_id, CareTask.status.in_(PENDING))
        .with_for_update()
    )
    if rule is not None:
        query = query.where(CareTask.rule == rule)
    for task in await session.scalars(query):
        task.status = "dismissed"
        task.dismiss_reason = reason
        task.closed_at = at
        await session.flush()
        await events.task_changed(session, task)


async def trigger(
    session: AsyncSession,
    settings: CareSettings,
    *,
    rule: str,
    key: str,
    agent_id: str | None,
    team_id: str | None,
    at: datetime,
    facts: dict[str, Any],
    signal_id: str | None = None,
) -> TaskTrigger | None:
    """Record the trigger once and act on the gate's decision; ``None`` for a repeat."""
    person = await session.get(Person, agent_id) if agent_id else None
    if person is not None:
        if person.status == "departed":
            return None
        team_id = person.team_id or team_id  # the lead who cares for them now
    inserted = await session.scalar(
        insert(TaskTrigger)
        .values(
            key=key,
            rule=rule,
            agent_id=agent_id,
            team_id=team_id,
            occurred_at=at,
            facts=facts,
            outcome="opened",
        )
        .on_conflict_do_nothing()
        .returning(TaskTrigger.key)
    )
    if inserted is None:
        return None
    record = await session.get(TaskTrigger, key)
    assert record is not None
    policy = await policy_for(session, settings, team_id)
    if agent_id is None:
        decision = rules.Decision("opened")
    else:
        decision = rules.decide(rule, at, policy, await gate_facts(session, agent_id, rule, at))
    record.outcome = decision.outcome
    record.reason = decision.reason
    if decision.outcome in ("merged", "cooled_down"):
        record.task_id = decision.task_id
        if decision.outcome == "merged":
            target = await session.get(CareTask, decision.task_id, with_for_update=True)
            assert target is not None
            target.merged = [
                *target.merged,
                {"rule": rule, "at": at.isoformat(), "facts": facts, "reason": decision.reason},
            ]
        await session.flush()
        return record
    if rule == "hard_call" and agent_id is not None:
        # the second step of the task: a check-in before the shift ends (else the day)
        shift_end = await _shift_end(session, settings, agent_id, at)
        facts = {**facts, "check_in_by": (shift_end or _day_end(settings, at)).isoformat()}
    opens_at = decision.available_at or at
    task = CareTask(
        rule=rule,
        agent_id=agent_id,
        team_id=team_id,
        assignee_id=await _lead_of(session, team_id),
        urgent=rule in rules.URGENT_RULES,
        status="deferred" if decision.outcome == "deferred" else "open",
        facts=facts,
        merged=[],
        suggested_action=rules.suggested_action(rule, _name(person, team_id), facts),
        due_at=await _due(session, settings, rule, agent_id, opens_at),
        available_at=opens_at,
        opened_at=None if decision.outcome == "deferred" else at,
        signal_id=signal_id,
    )
    session.add(task)
    await session.flush()
    record.task_id = task.id
    if task.status == "open":
        await events.task_changed(session, task)
    await session.flush()
    return record


def _name(person: Person | None, team_id: str | None) -> str:
    if person is not None:
        return person.name
    return f"Team {team_id}" if team_id else "The agent"


async def _lead_of(session: AsyncSession, team_id: str | None) -> str | None:
    if team_id is None:
        return None
    return await session.scalar(select(Team.lead_id).where(Team.id == team_id))


def _day_end(settings: CareSettings, at: datetime) -> datetime:
    zone = ZoneInfo(settings.center_timezone)
    local_day = at.astimezone(zone).date()
    return datetime.combine(local_day + timedelta(days=1), time.min, tzinfo=zone).astimezone(UTC)


async def _shift_end(
    session: AsyncSession, settings: CareSettings, agent_id: str, at: datetime
) -> datetime | None:
    local_day = at.astimezone(ZoneInfo(settings.center_timezone)).date()
    shift = await session.get(Shift, (agent_id, local_day))
    return shift.end if shift is not None and shift.end > at else None


async def _due(
    session: AsyncSession, settings: CareSettings, rule: str, agent_id: str | None, at: datetime
) -> datetime:
    shift_end = (
        await _shift_end(session, settings, agent_id, at)
        if agent_id and rule == "hard_call_streak"
        else None
    )
    return rules.due_at(rule, at, shift_end=shift_end, day_end=_day_end(settings, at))


async def gate_facts(
    session: AsyncSession, agent_id: str, rule: str, at: datetime, *, exclude: str | None = None
) -> rules.GateFacts:
    """The agent's non-urgent interventions up to ``at`` (the rules' window is applied there)
    and the tasks a trigger could merge into."""
    horizon = at - timedelta(days=90)
    task_times = await session.scalars(
        select(CareTask.opened_at).where(
            CareTask.agent_id == agent_id,
            CareTask.urgent.is_(False),
            CareTask.opened_at > horizon,
            CareTask.opened_at <= at,
        )
    )
    record_times = await session.scalars(
        select(CareRecord.occurred_at).where(
            CareRecord.agent_id == agent_id,
            CareRecord.kind.in_(rules.INTERVENTION_KINDS),
            CareRecord.task_id.is_(None),
            CareRecord.occurred_at > horizon,
            CareRecord.occurred_at <= at,
        )
    )
    started = func.coalesce(CareTask.opened_at, CareTask.available_at)
    pending = (
        select(CareTask.id, started, CareTask.status)
        .where(CareTask.agent_id == agent_id, CareTask.urgent.is_(False))
        .order_by(started.desc())
        .limit(1)
    )
    if exclude is not None:
        pending = pending.where(CareTask.id != exclude)
    open_row = (await session.execute(pending.where(CareTask.status.in_(PENDING)))).first()
    same_row = (await session.execute(pending.where(CareTask.rule == rule))).first()

    def ref(row: Any) -> rules.TaskRef | None:
        return rules.TaskRef(row[0], row[1], row[2] in PENDING) if row else None

    return rules.GateFacts(
        interventions=[*task_times, *record_times],
        open_task=ref(open_row),
        last_same_rule=ref(same_row),
    )


async def scan(session: AsyncSession, settings: CareSettings, now: datetime) -> None:
    """The periodic part: deferred tasks whose time came, new hires' milestones, and lapses
    (no meaningful touch, no check-in) — each keyed, so a scan repeated changes nothing."""
    await promote_deferred(session, settings, now)
    await new_hire_tasks(session, settings, now)
    await lapse_tasks(session, settings, now)


async def promote_deferred(session: AsyncSession, settings: CareSettings, now: datetime) -> None:
    due = await session.scalars(
        select(CareTask)
        .where(CareTask.status == "deferred", CareTask.available_at <= now)
        .order_by(CareTask.available_at)
        .with_for_update(skip_locked=True)
    )
    for task in list(due):
        assert task.agent_id is not None
        policy = await policy_for(session, settings, task.team_id)
        facts = await gate_facts(session, task.agent_id, task.rule, now, exclude=task.id)
        in_window = sorted(t for t in facts.interventions if now - policy.window < t <= now)
        if len(in_window) >= policy.max_interventions:
            task.available_at = in_window[len(in_window) - policy.max_interventions] + policy.window
            continue
        task.status = "open"
        task.opened_at = now
        task.due_at = await _due(session, settings, task.rule, task.agent_id, now)
        await session.flush()
        await events.task_changed(session, task)
    await session.flush()


def _start_of(settings: CareSettings, person: Person) -> datetime:
    if person.hire_date is None:
        assert person.onboarding_since is not None
        return person.onboarding_since
    zone = ZoneInfo(settings.center_timezone)
    return datetime.combine(person.hire_date, time.min, tzinfo=zone).astimezone(UTC)


async def new_hire_tasks(session: AsyncSession, settings: CareSettings, now: datetime) -> None:
    """Mentor check-ins on days 7, 30, 60 and 90 (opened a day ahead), and a task to assign a
    mentor when a new hire has none three days after being created."""
    recent = await session.scalars(
        select(Person).where(
            Person.onboarding_since.is_not(None),
            Person.onboarding_since > now - timedelta(days=120),
            Person.status.in_(CARED_FOR_STATUSES),
        )
    )
    for person in list(recent):
        assert person.onboarding_since is not None
        mentor = await session.scalar(
            select(Mentorship)
            .where(Mentorship.mentee_id == person.id, Mentorship.ended_at.is_(None))
            .order_by(Mentorship.started_at.desc())
            .limit(1)
        )
        if mentor is None and now - person.onboarding_since >= rules.ASSIGN_MENTOR_AFTER:
            await trigger(
                session,
                settings,
                rule="assign_mentor",
                key=f"assign_mentor:{person.id}",
                agent_id=person.id,
                team_id=person.team_id,
                at=now,
                facts={"days_since_start": (now - person.onboarding_since).days},
            )
        start = _start_of(settings, person)
        for day in rules.MENTOR_CHECKIN_DAYS:
            checkpoint = start + timedelta(days=day)
            if checkpoint - timedelta(days=1) > now or checkpoint < person.onboarding_since:
                continue
            mentor_name = (
                await session.scalar(select(Person.name).where(Person.id == mentor.mentor_id))
                if mentor
                else None
            )
            await trigger(
                session,
                settings,
                rule="mentor_checkin",
                key=f"mentor_checkin:{person.id}:{day}",
                agent_id=person.id,
                team_id=person.team_id,
                at=now,
                facts={
                    "day": day,
                    "checkpoint": checkpoint.isoformat(),
                    "mentor_id": mentor.mentor_id if mentor else None,
                    "mentor_name": mentor_name,
                },
            )


async def lapse_tasks(session: AsyncSession, settings: CareSettings, now: datetime) -> None:
    """``under_cared`` after the policy's interval without a meaningful touch, and
    ``checkin_request`` after its interval without a check-in; once per lapse."""
    last_touch = (
        select(CareRecord.agent_id, func.max(CareRecord.occurred_at).label("at"))
        .where(CareRecord.kind.in_(rules.MEANINGFUL_TOUCH_KINDS), CareRecord.occurred_at <= now)
        .group_by(CareRecord.agent_id)
        .subquery()
    )
    last_checkin = (
        select(CheckIn.agent_id, func.max(CheckIn.created_at).label("at"))
        .where(CheckIn.created_at <= now)
        .group_by(CheckIn.agent_id)
        .subquery()
    )
    rows = (
        await session.execute(
            select(Person, last_touch.c.at, last_checkin.c.at)
            .outerjoin(last_touch, last_touch.c.agent_id == Person.id)
            .outerjoin(last_checkin, last_checkin.c.agent_id == Person.id)
            .where(Person.role == "agent", Person.status.in_(CARED_FOR_STATUSES))
        )
    ).all()
    policies = await policies_for(session, settings, {row[0].team_id for row in rows})
    for person, touched_at, checked_in_at in rows:
        policy = policies[person.team_id]
        for rule, last, interval_days in (
            ("under_cared", touched_at, policy.touch_interval_days),
            ("checkin_request", checked_in_at, policy.checkin_interval_days),
        ):
            since = max(last, person.known_since) if last else person.known_since
            if now - since <= timedelta(days=interval_days):
                continue
            await trigger(
                session,
                settings,
                rule=rule,
                key=f"{rule}:{person.id}:{since.isoformat()}",
                agent_id=person.id,
                team_id=person.team_id,
                at=now,
                facts={
                    "days_without": (now - since).days,
                    "since": since.isoformat(),
                    "last_at": last.isoformat() if last else None,
                },
            )
