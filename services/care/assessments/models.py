from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, Index, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from services.care.db import Base
from shared.ids import new_id

COLOURS = ("red", "blue", "yellow", "green")


class Assessment(Base):
    """A team lead's view of an agent: ability x cooperation, and a personality colour."""

    __tablename__ = "assessments"
    __table_args__ = (
        CheckConstraint("ability BETWEEN 1 AND 5", name="ability"),
        CheckConstraint("cooperation BETWEEN 1 AND 5", name="cooperation"),
        CheckConstraint(f"colour IS NULL OR colour IN {COLOURS}", name="colour"),
        Index("ix_assessments_agent_time", "agent_id", "assessed_at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    agent_id: Mapped[str] = mapped_column(String(36))
    team_id: Mapped[str | None] = mapped_column(String(36))
    author_id: Mapped[str] = mapped_column(String(36))
    ability: Mapped[int] = mapped_column(SmallInteger)
    cooperation: Mapped[int] = mapped_column(SmallInteger)
    colour: Mapped[str | None] = mapped_column(String(8))
    note: Mapped[str | None] = mapped_column(Text)
    assessed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
