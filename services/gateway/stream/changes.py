"""What counts as a change worth pushing. Pure functions over the sources' data."""

from __future__ import annotations

from datetime import datetime, timedelta

from services.gateway.stream.schemas import CareTask, QueueFigures, QueueSnapshot
from shared.events import CloudEvent, EventType
from shared.events.care import CareTaskChanged

WAIT_JITTER = timedelta(seconds=1)
"""Metrics measures the longest wait at its own ``now``; the gateway only knows when it asked,
so the derived start of the oldest wait wobbles by the request time."""

QUEUE_FIELDS = (
    "calls_waiting",
    "service_level_today",
    "offered_today",
    "answered_today",
    "abandoned_today",
)


def queue_snapshot(figures: QueueFigures, as_of: datetime) -> QueueSnapshot:
    oldest = (
        as_of - timedelta(seconds=figures.longest_wait_s)
        if figures.longest_wait_s is not None
        else None
    )
    return QueueSnapshot(**figures.model_dump(), oldest_waiting_since=oldest, as_of=as_of)


def queue_changed(before: QueueSnapshot | None, now: QueueSnapshot) -> bool:
    """Changed unless only the clock moved: same counts, same level, same oldest waiting call."""
    if before is None:
        return True
    if any(getattr(before, f) != getattr(now, f) for f in QUEUE_FIELDS):
        return True
    if (before.oldest_waiting_since is None) != (now.oldest_waiting_since is None):
        return True
    if before.oldest_waiting_since is None or now.oldest_waiting_since is None:
        return False
    return abs(before.oldest_waiting_since - now.oldest_waiting_since) > WAIT_JITTER


TASK_CHANGES = {
    EventType.CARE_TASK_OPENED.value: "opened",
    EventType.CARE_TASK_CLOSED.value: "closed",
}


def care_task(event: CloudEvent) -> CareTask | None:
    """The ``care_task`` payload of a ``care.events`` event; ``None`` for other care events."""
    change = TASK_CHANGES.get(event.type)
    if change is None or not isinstance(event.data, CareTaskChanged):
        return None
    data = event.data
    return CareTask(
        task_id=data.task_id,
        change=change,  # type: ignore[arg-type]
        status=data.status,
        rule=data.rule,
        agent_id=data.agent_id,
        team_id=data.team_id,
        assignee_id=data.assignee_id,
        urgent=data.urgent,
        due_at=data.due_at,
        at=event.time,
    )
