"""Care's own copy of the roster facts it needs, kept from ``roster.changes`` (services never
read each other's tables). Each row remembers the event time it reflects, so a late or
replayed older event never overwrites a newer fact."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, DateTime, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from services.care.db import Base


class Person(Base):
    __tablename__ = "people"
    __table_args__ = (Index("ix_people_team_id", "team_id"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    team_id: Mapped[str | None] = mapped_column(String(36))
    hire_date: Mapped[date | None] = mapped_column(Date)
    onboarding_since: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    """When the roster created this person as a new hire (status ``onboarding``)."""
    known_since: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    as_of: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Team(Base):
    __tablename__ = "teams"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    lead_id: Mapped[str | None] = mapped_column(String(36))
    as_of: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Mentorship(Base):
    __tablename__ = "mentorships"
    __table_args__ = (Index("ix_mentorships_mentee_id", "mentee_id"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    mentor_id: Mapped[str] = mapped_column(String(36))
    mentee_id: Mapped[str] = mapped_column(String(36))
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class LeaveDecision(Base):
    __tablename__ = "leave_decisions"
    __table_args__ = (Index("ix_leave_decisions_agent_id", "agent_id", "decided_at"),)

    leave_request_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    agent_id: Mapped[str] = mapped_column(String(36))
    status: Mapped[str] = mapped_column(String(16))
    decided_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Shift(Base):
    """An agent's published working span on a day: the first work start to the last work end."""

    __tablename__ = "shifts"

    agent_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    start: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    end: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    version: Mapped[int]
