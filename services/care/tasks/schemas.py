from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

TaskStatus = Literal["open", "deferred", "done", "dismissed"]
Outcome = Literal["opened", "merged", "deferred", "cooled_down"]


class TaskRead(BaseModel):
    id: str
    rule: str
    agent_id: str | None
    team_id: str | None
    assignee_id: str | None
    urgent: bool
    status: TaskStatus
    facts: dict[str, Any] = Field(description="What caused the task")
    merged: list[dict[str, Any]] = Field(
        description="Later triggers folded into this task instead of opening another"
    )
    suggested_action: str
    due_at: datetime
    overdue: bool
    available_at: datetime = Field(description="When a deferred task opens")
    opened_at: datetime | None
    closed_at: datetime | None
    closed_by: str | None
    record_id: str | None = Field(description="The care record that closed the task")
    dismiss_reason: str | None
    signal_id: str | None


class TaskComplete(BaseModel):
    model_config = ConfigDict(extra="forbid")

    record_id: str | None = Field(
        default=None,
        max_length=36,
        description="The care record that answered the task (required for an agent's task)",
    )


class TaskDismiss(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=3, max_length=2000)


class TriggerRead(BaseModel):
    """A rule firing that did not open a task of its own, and why."""

    key: str
    rule: str
    agent_id: str | None
    team_id: str | None
    occurred_at: datetime
    outcome: Outcome
    reason: str | None
    task_id: str | None
    facts: dict[str, Any]
