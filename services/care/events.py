"""Builds care's events and writes them to the outbox in the caller's transaction."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from services.care.db import outbox
from services.care.records.models import CareRecord
from services.care.tasks.models import CareTask
from shared.events import EventType, make_event
from shared.events.care import CareBreakGranted, CareRecordCreated, CareTaskChanged

SOURCE = "care"


async def record_created(session: AsyncSession, record: CareRecord) -> None:
    data = CareRecordCreated(
        record_id=record.id,
        agent_id=record.agent_id,
        team_id=record.team_id,
        kind=record.kind,
        category=record.category,
        occurred_at=record.occurred_at,
    )
    await outbox.add(session, make_event(EventType.CARE_RECORD_CREATED, data, source=SOURCE))


async def care_break_granted(session: AsyncSession, record: CareRecord) -> None:
    assert record.break_minutes is not None
    data = CareBreakGranted(
        record_id=record.id,
        agent_id=record.agent_id,
        team_id=record.team_id,
        granted_by=record.author_id,
        start=record.occurred_at,
        end=record.occurred_at + timedelta(minutes=record.break_minutes),
    )
    await outbox.add(session, make_event(EventType.CARE_BREAK_GRANTED, data, source=SOURCE))


async def task_changed(session: AsyncSession, task: CareTask) -> None:
    type_ = EventType.CARE_TASK_OPENED if task.status == "open" else EventType.CARE_TASK_CLOSED
    data = CareTaskChanged(
        task_id=task.id,
        rule=task.rule,
        status=task.status,
        agent_id=task.agent_id,
        team_id=task.team_id,
        assignee_id=task.assignee_id,
        urgent=task.urgent,
        due_at=task.due_at,
    )
    await outbox.add(session, make_event(type_, data, source=SOURCE))
