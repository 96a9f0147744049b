"""Every care table, imported in one place for Alembic and the tests."""

from services.care.assessments.models import Assessment
from services.care.checkins.models import CheckIn
from services.care.db import Base, InboxMessage, OutboxMessage
from services.care.directory.models import LeaveDecision, Mentorship, Person, Shift, Team
from services.care.feedback.models import FeedbackEntry, FeedbackQuota
from services.care.policy.models import CarePolicy
from services.care.records.models import CareRecord
from services.care.tasks.models import CareTask, ReceivedSignal, TaskTrigger

__all__ = [
    "Assessment",
    "Base",
    "CarePolicy",
    "CareRecord",
    "CareTask",
    "CheckIn",
    "FeedbackEntry",
    "FeedbackQuota",
    "InboxMessage",
    "LeaveDecision",
    "Mentorship",
    "OutboxMessage",
    "Person",
    "ReceivedSignal",
    "Shift",
    "TaskTrigger",
    "Team",
]
