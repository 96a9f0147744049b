from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, CheckConstraint, DateTime, Index, String, Text, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from services.care.db import Base
from shared.ids import new_id

STATUSES = ("open", "deferred", "done", "dismissed")
OUTCOMES = ("opened", "merged", "deferred", "cooled_down")


class ReceivedSignal(Base):
    """Every signal from metrics, kept for the risk model (hard calls, adherence, complaints)."""

    __tablename__ = "signals"
    __table_args__ = (Index("ix_signals_agent_kind_time", "agent_id", "kind", "detected_at"),)

    id: Mapped[str] = mapped_column(String(200), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    episode: Mapped[str] = mapped_column(String(300))
    agent_id: Mapped[str | None] = mapped_column(String(36))
    team_id: Mapped[str | None] = mapped_column(String(36))
    detected_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    facts: Mapped[dict[str, Any]] = mapped_column(JSONB)


class CareTask(Base):
    __tablename__ = "care_tasks"
    __table_args__ = (
        CheckConstraint(f"status IN {STATUSES}", name="status"),
        Index("ix_care_tasks_agent_opened", "agent_id", "opened_at"),
        Index("ix_care_tasks_team_status", "team_id", "status"),
        Index("ix_care_tasks_deferred", "available_at", postgresql_where="status = 'deferred'"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    rule: Mapped[str] = mapped_column(String(32))
    agent_id: Mapped[str | None] = mapped_column(String(36))
    team_id: Mapped[str | None] = mapped_column(String(36))
    assignee_id: Mapped[str | None] = mapped_column(String(36))
    urgent: Mapped[bool] = mapped_column(Boolean)
    status: Mapped[str] = mapped_column(String(16))
    facts: Mapped[dict[str, Any]] = mapped_column(JSONB)
    merged: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    """Facts of later triggers folded into this task instead of opening another."""
    suggested_action: Mapped[str] = mapped_column(Text)
    due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    available_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    """When a deferred task opens; equals ``opened_at`` for a task opened at once."""
    opened_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closed_by: Mapped[str | None] = mapped_column(String(36))
    record_id: Mapped[str | None] = mapped_column(String(36))
    dismiss_reason: Mapped[str | None] = mapped_column(Text)
    signal_id: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class TaskTrigger(Base):
    """Each time a rule fired, once per episode (the key), and what came of it: a task opened,
    or suppressed — merged into an open task, deferred, or inside a cool-down — with why."""

    __tablename__ = "task_triggers"
    __table_args__ = (
        CheckConstraint(f"outcome IN {OUTCOMES}", name="outcome"),
        Index("ix_task_triggers_agent_time", "agent_id", "occurred_at"),
    )

    key: Mapped[str] = mapped_column(String(400), primary_key=True)
    rule: Mapped[str] = mapped_column(String(32))
    agent_id: Mapped[str | None] = mapped_column(String(36))
    team_id: Mapped[str | None] = mapped_column(String(36))
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    facts: Mapped[dict[str, Any]] = mapped_column(JSONB)
    outcome: Mapped[str] = mapped_column(String(16))
    task_id: Mapped[str | None] = mapped_column(String(36))
    reason: Mapped[str | None] = mapped_column(Text)
