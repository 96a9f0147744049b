"""What the stream sends (the ``data`` of each event), and what it reads from metrics."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class AgentState(BaseModel):
    """``agent_state``: one agent's real-time state, as metrics' ``/v1/realtime/agents`` has it."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    agent_id: str
    team_id: str | None = None
    state: str
    reason: str | None = None
    since: datetime | None = None
    call_id: str | None = Field(default=None, description="the call the agent is on, if any")


class QueueFigures(BaseModel):
    """One queue as metrics' ``/v1/realtime/queues`` has it."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    queue_id: str
    calls_waiting: int
    longest_wait_s: float | None = None
    service_level_today: float | None = None
    offered_today: int
    answered_today: int
    abandoned_today: int


class QueueSnapshot(QueueFigures):
    """``queue_snapshot``: sent when a queue's figures change. The longest wait grows by itself
    while the same call waits, so it is sent with the moment that call started waiting."""

    oldest_waiting_since: datetime | None = None
    as_of: datetime


class CareTask(BaseModel):
    """``care_task``: a care task opened or closed. Ids, kind and times only, never content."""

    model_config = ConfigDict(frozen=True)

    task_id: str
    change: Literal["opened", "closed"]
    status: str
    rule: str = Field(description="the kind of task (hard_call, new_hire_mentor, …)")
    agent_id: str | None
    team_id: str | None
    assignee_id: str | None
    urgent: bool
    due_at: datetime
    at: datetime = Field(description="when the task was opened or closed")
