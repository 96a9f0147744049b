"""What the metrics service keeps: every CTI event (the source of truth) and what the agent
state machine derived from them (segments, contacts, answers), rebuilt from the events
whenever a late event makes that necessary."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, DateTime, Index, Integer, SmallInteger, String, func, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from services.metrics.db import Base


class CtiEvent(Base):
    """Append-only event store, idempotent by event id."""

    __tablename__ = "cti_events"
    __table_args__ = (
        Index("ix_cti_events_agent_time", "agent_id", "time"),
        Index("ix_cti_events_call", "call_id"),
        Index("ix_cti_events_time", "time"),
        # an agent's last surveys (CSAT drop), read every batch: only survey rows, so a
        # lookup stays a few entries however long the history
        Index(
            "ix_cti_events_surveys",
            "agent_id",
            "time",
            "event_id",
            postgresql_where=text("type = 'cti.survey.completed'"),
        ),
    )

    event_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    type: Mapped[str] = mapped_column(String(100))
    time: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    agent_id: Mapped[str | None] = mapped_column(String(200))
    call_id: Mapped[str | None] = mapped_column(String(200))
    queue_id: Mapped[str | None] = mapped_column(String(200))
    envelope: Mapped[dict[str, Any]] = mapped_column(JSONB)
    received_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )


class AgentSegment(Base):
    """A closed span of one agent's state; the open one lives in ``AgentSnapshot``."""

    __tablename__ = "agent_segments"

    agent_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    start_us: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    end_us: Mapped[int] = mapped_column(BigInteger)
    state: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(String(64))
    call_id: Mapped[str | None] = mapped_column(String(200))


class AgentContact(Base):
    """A handled contact, counted where its ACW ended."""

    __tablename__ = "agent_contacts"

    agent_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    handled_us: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    call_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    answered_us: Mapped[int | None] = mapped_column(BigInteger)
    talk_us: Mapped[int] = mapped_column(BigInteger)
    hold_us: Mapped[int] = mapped_column(BigInteger)
    acw_us: Mapped[int] = mapped_column(BigInteger)


class AgentAnswer(Base):
    __tablename__ = "agent_answers"

    agent_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    answered_us: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    call_id: Mapped[str] = mapped_column(String(200), primary_key=True)


class AgentSnapshot(Base):
    """Where the machine stands for an agent: resumes incremental application."""

    __tablename__ = "agent_snapshots"

    agent_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    state: Mapped[dict[str, Any]] = mapped_column(JSONB)
    last_time_us: Mapped[int] = mapped_column(BigInteger)
    last_order: Mapped[int] = mapped_column(SmallInteger)
    last_event_id: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )


class QueueCall(Base):
    """A call's queue facts; counted once its offer is known."""

    __tablename__ = "queue_calls"
    __table_args__ = (
        Index("ix_queue_calls_queue_offered", "queue_id", "offered_us"),
        Index("ix_queue_calls_queue_outcome", "queue_id", "outcome_us"),
    )

    call_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    queue_id: Mapped[str | None] = mapped_column(String(200))
    offered_us: Mapped[int | None] = mapped_column(BigInteger)
    outcome: Mapped[str | None] = mapped_column(String(16))
    outcome_us: Mapped[int | None] = mapped_column(BigInteger)
    outcome_event_id: Mapped[str | None] = mapped_column(String(200))


class TeamMembership(Base):
    """Who was in which team when (from roster events), for team figures at event time."""

    __tablename__ = "team_memberships"
    __table_args__ = (Index("ix_team_memberships_team", "team_id", "valid_from"),)

    person_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    valid_from: Mapped[datetime] = mapped_column(DateTime(timezone=True), primary_key=True)
    team_id: Mapped[str | None] = mapped_column(String(200))
    valid_to: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class PublishedSchedule(Base):
    """The latest published schedule of an agent and day (for adherence)."""

    __tablename__ = "published_schedules"

    agent_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    day: Mapped[str] = mapped_column(String(10), primary_key=True)
    version: Mapped[int] = mapped_column(Integer)
    timezone: Mapped[str] = mapped_column(String(64))
    activities: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)


class GrantedCareBreak(Base):
    """A care break granted through the care service: aux ``care_break`` inside it is
    sanctioned (never counted against adherence)."""

    __tablename__ = "granted_care_breaks"
    __table_args__ = (Index("ix_granted_care_breaks_agent", "agent_id", "start_us"),)

    record_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    agent_id: Mapped[str] = mapped_column(String(200))
    start_us: Mapped[int] = mapped_column(BigInteger)
    end_us: Mapped[int] = mapped_column(BigInteger)
