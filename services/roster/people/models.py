from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from services.roster.db import Base
from shared.db import TimestampMixin
from shared.ids import new_id

ROLES = ("agent", "team_lead", "manager", "qa", "trainer", "ops", "admin")
STATUSES = ("onboarding", "active", "on_leave", "departed")
COLOURS = ("red", "blue", "yellow", "green")
LEAD_ROLES = frozenset({"team_lead", "manager"})
"""Roles that may lead a team."""


class Person(TimestampMixin, Base):
    __tablename__ = "people"
    __table_args__ = (
        CheckConstraint(f"role IN {ROLES}", name="role"),
        CheckConstraint(f"status IN {STATUSES}", name="status"),
        CheckConstraint(f"personality_colour IN {COLOURS}", name="personality_colour"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    employee_no: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320))
    role: Mapped[str] = mapped_column(String(16))
    team_id: Mapped[str | None] = mapped_column(
        ForeignKey("teams.id", use_alter=True, ondelete="SET NULL"), index=True
    )
    hire_date: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default="onboarding", index=True)
    personality_colour: Mapped[str | None] = mapped_column(String(8))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    departed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    departure_reason: Mapped[str | None] = mapped_column(Text)

    external_ids: Mapped[list[PersonExternalId]] = relationship(
        lazy="raise", cascade="all, delete-orphan", order_by="PersonExternalId.source"
    )
    skills: Mapped[list[PersonSkill]] = relationship(
        lazy="raise", cascade="all, delete-orphan", order_by="PersonSkill.skill"
    )
    certifications: Mapped[list[Certification]] = relationship(
        lazy="raise", cascade="all, delete-orphan", order_by="Certification.passed_at"
    )


class PersonExternalId(Base):
    """An agent's id in one CTI system; unique per source so adapters can resolve it."""

    __tablename__ = "person_external_ids"
    __table_args__ = (UniqueConstraint("source", "external_id"),)

    person_id: Mapped[str] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), primary_key=True
    )
    source: Mapped[str] = mapped_column(String(100), primary_key=True)
    external_id: Mapped[str] = mapped_column(String(200))


class PersonSkill(Base):
    __tablename__ = "person_skills"
    __table_args__ = (CheckConstraint("level BETWEEN 1 AND 5", name="level"),)

    person_id: Mapped[str] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), primary_key=True
    )
    skill: Mapped[str] = mapped_column(String(100), primary_key=True)
    level: Mapped[int] = mapped_column(SmallInteger)


class Certification(Base):
    __tablename__ = "certifications"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    person_id: Mapped[str] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    passed_at: Mapped[date] = mapped_column(Date)
    expires_at: Mapped[date | None] = mapped_column(Date)


class LoginThrottle(Base):
    """Failed sign-ins per employee number, shared by every replica (so throttling holds)."""

    __tablename__ = "login_throttle"

    employee_no: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    first_failure_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
