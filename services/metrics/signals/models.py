from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, String, func
from sqlalchemy.orm import Mapped, mapped_column

from services.metrics.db import Base


class SignalEpisode(Base):
    """Every episode ever signalled: the key that makes each fire once."""

    __tablename__ = "signal_episodes"

    kind: Mapped[str] = mapped_column(String(32), primary_key=True)
    subject: Mapped[str] = mapped_column(String(300), primary_key=True)
    episode: Mapped[str] = mapped_column(String(300), primary_key=True)
    raised_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class SignalCondition(Base):
    """Whether a continuing condition currently holds for a subject (so it fires on entry)."""

    __tablename__ = "signal_conditions"

    kind: Mapped[str] = mapped_column(String(32), primary_key=True)
    subject: Mapped[str] = mapped_column(String(300), primary_key=True)
    active: Mapped[bool] = mapped_column(Boolean, default=False)
    episode: Mapped[str | None] = mapped_column(String(300))
    changed_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )
