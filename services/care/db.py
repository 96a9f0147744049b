"""The care database: its declarative base, outbox (care.events) and inbox tables."""

from __future__ import annotations

from sqlalchemy.orm import DeclarativeBase

from shared.db import new_metadata
from shared.messaging.inbox import InboxMixin
from shared.messaging.outbox import Outbox, OutboxMixin


class Base(DeclarativeBase):
    metadata = new_metadata()


class OutboxMessage(OutboxMixin, Base):
    pass


class InboxMessage(InboxMixin, Base):
    pass


outbox = Outbox(OutboxMessage)
