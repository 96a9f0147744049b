"""The roster database: its declarative base and its outbox table."""

from __future__ import annotations

from sqlalchemy.orm import DeclarativeBase

from shared.db import new_metadata
from shared.messaging.outbox import Outbox, OutboxMixin


class Base(DeclarativeBase):
    metadata = new_metadata()


class OutboxMessage(OutboxMixin, Base):
    pass


outbox = Outbox(OutboxMessage)
