"""Every metrics table, imported in one place for Alembic and the tests."""

from services.metrics.db import Base, InboxMessage, OutboxMessage
from services.metrics.ingest.models import (
    AgentAnswer,
    AgentContact,
    AgentSegment,
    AgentSnapshot,
    CtiEvent,
    GrantedCareBreak,
    PublishedSchedule,
    QueueCall,
    TeamMembership,
)
from services.metrics.signals.models import SignalCondition, SignalEpisode

__all__ = [
    "AgentAnswer",
    "AgentContact",
    "AgentSegment",
    "AgentSnapshot",
    "Base",
    "CtiEvent",
    "GrantedCareBreak",
    "InboxMessage",
    "OutboxMessage",
    "PublishedSchedule",
    "QueueCall",
    "SignalCondition",
    "SignalEpisode",
    "TeamMembership",
]
