from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from services.roster.db import Base
from shared.db import TimestampMixin
from shared.ids import new_id

ACTIVITY_KINDS = ("work", "break", "lunch", "training", "meeting", "coaching")


class Schedule(TimestampMixin, Base):
    """One agent's plan for one day (center time zone); ``version`` grows with each publish."""

    __tablename__ = "schedules"
    __table_args__ = (
        UniqueConstraint("agent_id", "day"),
        CheckConstraint("status IN ('draft', 'published')", name="status"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    agent_id: Mapped[str] = mapped_column(ForeignKey("people.id"), index=True)
    day: Mapped[date] = mapped_column(Date, index=True)
    status: Mapped[str] = mapped_column(String(16), default="draft")
    version: Mapped[int] = mapped_column(Integer, default=0)
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    activities: Mapped[list[ScheduleActivity]] = relationship(
        lazy="raise", cascade="all, delete-orphan", order_by="ScheduleActivity.start_at"
    )


class ScheduleActivity(Base):
    __tablename__ = "schedule_activities"
    __table_args__ = (
        CheckConstraint(f"kind IN {ACTIVITY_KINDS}", name="kind"),
        CheckConstraint("end_at > start_at", name="positive_duration"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    schedule_id: Mapped[str] = mapped_column(
        ForeignKey("schedules.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(16))
    start_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    end_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
