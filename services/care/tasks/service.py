"""Care tasks through the API: the lead's list, completing with a record, dismissing with a
reason, and the triggers that were merged, deferred or cooled down instead of opening a task.

Tasks are a team leader's tool: the agent's leads (and the assignee), managers and admins see
them; agents and every other role get a 404.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.care import access, events
from services.care.directory.models import Person
from services.care.records.models import CareRecord
from services.care.tasks.models import CareTask, TaskTrigger
from services.care.tasks.schemas import TaskRead, TriggerRead
from shared.auth import Principal
from shared.errors import NotFound, RuleViolation
from shared.pagination import PageParams

PENDING = ("open", "deferred")


def to_read(task: CareTask, now: datetime | None = None) -> TaskRead:
    now = now or datetime.now(UTC)
    return TaskRead(
        id=task.id,
        rule=task.rule,
        agent_id=task.agent_id,
        team_id=task.team_id,
        assignee_id=task.assignee_id,
        urgent=task.urgent,
        status=task.status,  # type: ignore[arg-type]
        facts=task.facts,
        merged=task.merged,
        suggested_action=task.suggested_action,
        due_at=task.due_at,
        overdue=task.status == "open" and task.due_at < now,
        available_at=task.available_at,
        opened_at=task.opened_at,
        closed_at=task.closed_at,
        closed_by=task.closed_by,
        record_id=task.record_id,
        dismiss_reason=task.dismiss_reason,
        signal_id=task.signal_id,
    )


def _oversees(principal: Principal, task: CareTask, agent_team: str | None) -> bool:
    return (
        principal.sees_everything
        or principal.id == task.assignee_id
        or principal.leads(agent_team if task.agent_id else task.team_id)
    ) and principal.id != task.agent_id


async def get_visible(
    session: AsyncSession, principal: Principal, task_id: str, *, for_update: bool = False
) -> CareTask:
    task = await session.get(CareTask, task_id, with_for_update=for_update)
    if task is not None:
        person = await session.get(Person, task.agent_id) if task.agent_id else None
        if _oversees(principal, task, person.team_id if person else task.team_id):
            return task
    raise NotFound(f"Care task {task_id} not found.")


def _scope(principal: Principal, query, model):  # type: ignore[no-untyped-def]
    """Restrict a task or trigger query to what the caller oversees (404 for other roles)."""
    teams = access.led_teams(principal)
    if teams is None:
        return query
    current_team = select(Person.team_id).where(Person.id == model.agent_id).scalar_subquery()
    team = (
        or_(current_team.in_(teams), and_(model.agent_id.is_(None), model.team_id.in_(teams)))
        if teams
        else False
    )
    if model is CareTask:
        team = or_(team, CareTask.assignee_id == principal.id)
    return query.where(team, or_(model.agent_id.is_(None), model.agent_id != principal.id))


async def list_visible(
    session: AsyncSession,
    principal: Principal,
    page: PageParams,
    *,
    status: str | None,
    agent_id: str | None,
    team_id: str | None,
    rule: str | None,
) -> tuple[list[TaskRead], str | None]:
    query = _scope(principal, select(CareTask), CareTask)
    if status is not None:
        query = query.where(CareTask.status == status)
    if agent_id is not None:
        query = query.where(CareTask.agent_id == agent_id)
    if team_id is not None:
        query = query.where(CareTask.team_id == team_id)
    if rule is not None:
        query = query.where(CareTask.rule == rule)
    if page.after:
        query = query.where(CareTask.id < page.after[0])
    query = query.order_by(CareTask.id.desc()).limit(page.limit + 1)
    rows, cursor = page.page(list(await session.scalars(query)), key=lambda t: [t.id])
    now = datetime.now(UTC)
    return [to_read(t, now) for t in rows], cursor


async def list_suppressed(
    session: AsyncSession,
    principal: Principal,
    page: PageParams,
    *,
    agent_id: str | None,
    team_id: str | None,
) -> tuple[list[TriggerRead], str | None]:
    query = _scope(
        principal,
        select(TaskTrigger).where(TaskTrigger.outcome != "opened"),
        TaskTrigger,
    )
    if agent_id is not None:
        query = query.where(TaskTrigger.agent_id == agent_id)
    if team_id is not None:
        query = query.where(TaskTrigger.team_id == team_id)
    if page.after:
        at, key = datetime.fromisoformat(page.after[0]), page.after[1]
        query = query.where(
            or_(
                TaskTrigger.occurred_at < at,
                and_(TaskTrigger.occurred_at == at, TaskTrigger.key < key),
            )
        )
    query = query.order_by(TaskTrigger.occurred_at.desc(), TaskTrigger.key.desc())
    rows, cursor = page.page(
        list(await session.scalars(query.limit(page.limit + 1))),
        key=lambda t: [t.occurred_at.isoformat(), t.key],
    )
    return [TriggerRead.model_validate(t, from_attributes=True) for t in rows], cursor


async def pending_task_for_record(
    session: AsyncSession, principal: Principal, task_id: str | None, agent_id: str
) -> CareTask | None:
    """The task a new record answers: visible to the writer, pending, about the same agent."""
    if task_id is None:
        return None
    task = await get_visible(session, principal, task_id, for_update=True)
    if task.status not in PENDING:
        raise RuleViolation("task_closed", f"Task {task_id} is already {task.status}.")
    if task.agent_id is not None and task.agent_id != agent_id:
        raise RuleViolation("task_agent", f"Task {task_id} is about another person.")
    return task


async def close_done(
    session: AsyncSession,
    task: CareTask,
    record: CareRecord | None,
    by: str,
    now: datetime,
) -> None:
    task.status = "done"
    task.record_id = record.id if record else None
    task.closed_by = by
    task.closed_at = now
    await session.flush()
    await events.task_changed(session, task)


async def complete(
    session: AsyncSession, principal: Principal, task_id: str, record_id: str | None
) -> TaskRead:
    task = await get_visible(session, principal, task_id, for_update=True)
    if task.status not in PENDING:
        raise RuleViolation("task_closed", f"Task {task_id} is already {task.status}.")
    record = None
    if record_id is not None:
        record = await session.get(CareRecord, record_id)
        if record is None or (task.agent_id is not None and record.agent_id != task.agent_id):
            raise RuleViolation("unknown_record", f"Record {record_id} is not about this agent.")
    elif task.agent_id is not None:
        raise RuleViolation(
            "record_required",
            "An agent's task is done with the care record that answered it (record_id).",
        )
    await close_done(session, task, record, principal.id, datetime.now(UTC))
    return to_read(task)


async def dismiss(
    session: AsyncSession, principal: Principal, task_id: str, reason: str
) -> TaskRead:
    task = await get_visible(session, principal, task_id, for_update=True)
    if task.status not in PENDING:
        raise RuleViolation("task_closed", f"Task {task_id} is already {task.status}.")
    task.status = "dismissed"
    task.dismiss_reason = reason
    task.closed_by = principal.id
    task.closed_at = datetime.now(UTC)
    await session.flush()
    await events.task_changed(session, task)
    return to_read(task)
