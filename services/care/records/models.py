from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, Index, SmallInteger, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from services.care.db import Base
from shared.ids import new_id

KINDS = (
    "one_on_one",
    "coaching",
    "care_action",
    "recognition",
    "warning",
    "training_referral",
    "mentoring_session",
)
CATEGORIES = ("career", "needs", "wellbeing")
CARE_ACTIONS = (
    "care_break",
    "workload_relief",
    "flexible_shift",
    "counselling_referral",
    "other",
)


class CareRecord(Base):
    __tablename__ = "care_records"
    __table_args__ = (
        CheckConstraint(f"kind IN {KINDS}", name="kind"),
        CheckConstraint(f"category IN {CATEGORIES}", name="category"),
        CheckConstraint(f"action IS NULL OR action IN {CARE_ACTIONS}", name="action"),
        Index("ix_care_records_agent_time", "agent_id", "occurred_at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    agent_id: Mapped[str] = mapped_column(String(36))
    team_id: Mapped[str | None] = mapped_column(String(36))
    author_id: Mapped[str] = mapped_column(String(36))
    kind: Mapped[str] = mapped_column(String(32))
    action: Mapped[str | None] = mapped_column(String(32))
    category: Mapped[str] = mapped_column(String(16))
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    summary: Mapped[str] = mapped_column(Text)
    private_notes: Mapped[str | None] = mapped_column(Text)
    # the structured coaching note (observation → impact → need → request, then follow-up)
    observation: Mapped[str | None] = mapped_column(Text)
    impact: Mapped[str | None] = mapped_column(Text)
    need: Mapped[str | None] = mapped_column(Text)
    request: Mapped[str | None] = mapped_column(Text)
    follow_up_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # care breaks: the sanctioned span
    break_minutes: Mapped[int | None] = mapped_column(SmallInteger)
    # links
    signal_id: Mapped[str | None] = mapped_column(String(200))
    task_id: Mapped[str | None] = mapped_column(String(36))
    previous_record_id: Mapped[str | None] = mapped_column(String(36))
    prior_conversation_id: Mapped[str | None] = mapped_column(String(36))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
