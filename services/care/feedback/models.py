"""Anonymous feedback ("employee voice"): no column, index or id here can lead to an author.

Entries carry the day, not the time, of submission, and random (not time-ordered) ids, so
nothing lines them up with a request log. The daily limit lives in a separate table keyed by
a keyed hash of (person, day); it holds a count and nothing that points at an entry.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import (
    CheckConstraint,
    Date,
    DateTime,
    Index,
    LargeBinary,
    SmallInteger,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from services.care.db import Base

SCOPES = ("team", "center")


def random_id() -> str:
    return str(uuid.uuid4())


class FeedbackEntry(Base):
    __tablename__ = "feedback_entries"
    __table_args__ = (
        CheckConstraint(f"scope IN {SCOPES}", name="scope"),
        CheckConstraint("(scope = 'team') = (team_id IS NOT NULL)", name="team_scope"),
        Index("ix_feedback_entries_scope_team", "scope", "team_id"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=random_id)
    scope: Mapped[str] = mapped_column(String(8))
    team_id: Mapped[str | None] = mapped_column(String(36))
    topic: Mapped[str | None] = mapped_column(String(64))
    body: Mapped[str] = mapped_column(Text)
    submitted_on: Mapped[date] = mapped_column(Date)
    response: Mapped[str | None] = mapped_column(Text)
    responded_by: Mapped[str | None] = mapped_column(String(36))
    responded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class FeedbackQuota(Base):
    """Submissions today per person, under an HMAC of (person, day) that only the service's
    key can compute; rows of past days are deleted."""

    __tablename__ = "feedback_quota"

    key: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True)
    day: Mapped[date] = mapped_column(Date, index=True)
    used: Mapped[int] = mapped_column(SmallInteger)
