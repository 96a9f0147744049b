from __future__ import annotations

from sqlalchemy import ForeignKey, SmallInteger
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from services.roster.db import Base
from shared.db import TimestampMixin


class ShiftPreferences(TimestampMixin, Base):
    """What an agent would like from the schedule: the "needs care" inputs planning honours."""

    __tablename__ = "shift_preferences"

    person_id: Mapped[str] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), primary_key=True
    )
    preferred_start_windows: Mapped[list[dict[str, str]]] = mapped_column(JSONB, default=list)
    preferred_days_off: Mapped[list[str]] = mapped_column(JSONB, default=list)
    max_consecutive_late_shifts: Mapped[int | None] = mapped_column(SmallInteger)
