from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from services.roster.db import Base
from shared.db import TimestampMixin
from shared.ids import new_id


class Mentorship(TimestampMixin, Base):
    """A mentor/apprentice pairing (师徒制); ended pairings are kept as history."""

    __tablename__ = "mentorships"
    __table_args__ = (
        CheckConstraint("mentor_id <> mentee_id", name="not_self"),
        Index(
            "uq_mentorships_active_mentee",
            "mentee_id",
            unique=True,
            postgresql_where=text("ended_at IS NULL"),
        ),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    mentor_id: Mapped[str] = mapped_column(ForeignKey("people.id"), index=True)
    mentee_id: Mapped[str] = mapped_column(ForeignKey("people.id"), index=True)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    end_reason: Mapped[str | None] = mapped_column(Text)
