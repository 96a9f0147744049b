"""The gateway database: its declarative base and its inbox (``roster.changes``)."""

from __future__ import annotations

from sqlalchemy.orm import DeclarativeBase

from shared.db import new_metadata
from shared.messaging.inbox import InboxMixin


class Base(DeclarativeBase):
    metadata = new_metadata()


class InboxMessage(InboxMixin, Base):
    pass
