from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, SmallInteger, String, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from services.care.db import Base


class CarePolicy(Base):
    """A team's own degree-of-care policy; teams without one use the settings' defaults."""

    __tablename__ = "care_policies"

    team_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    touch_interval_days: Mapped[int] = mapped_column(SmallInteger)
    max_interventions: Mapped[int] = mapped_column(SmallInteger)
    intervention_window_days: Mapped[int] = mapped_column(SmallInteger)
    checkin_interval_days: Mapped[int] = mapped_column(SmallInteger)
    rule_cooldown_hours: Mapped[dict[str, float]] = mapped_column(JSONB)
    updated_by: Mapped[str] = mapped_column(String(36))
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )
