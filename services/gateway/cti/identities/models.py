"""The gateway's copy of the roster's external CTI ids (services never read each other's
tables): who is ``(system, external_id)``, and the roster snapshot time each fact reflects."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Index, String, func
from sqlalchemy.orm import Mapped, mapped_column

from services.gateway.db import Base


class CtiPerson(Base):
    """The last roster snapshot applied per person, so an older one never overwrites it."""

    __tablename__ = "cti_people"

    person_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    as_of: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    """When this row last changed here: the in-memory directories reload when it moves."""


class CtiIdentity(Base):
    __tablename__ = "cti_identities"
    __table_args__ = (Index("ix_cti_identities_person_id", "person_id"),)

    system: Mapped[str] = mapped_column(String(100), primary_key=True)
    external_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    person_id: Mapped[str] = mapped_column(String(36))
    as_of: Mapped[datetime] = mapped_column(DateTime(timezone=True))
