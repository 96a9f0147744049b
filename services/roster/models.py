"""Every roster table, imported in one place for Alembic and the tests."""

from services.roster.db import Base, OutboxMessage
from services.roster.leave.models import LeaveRequest
from services.roster.mentorships.models import Mentorship
from services.roster.people.models import (
    Certification,
    LoginThrottle,
    Person,
    PersonExternalId,
    PersonSkill,
)
from services.roster.preferences.models import ShiftPreferences
from services.roster.schedules.models import Schedule, ScheduleActivity
from services.roster.teams.models import Team

__all__ = [
    "Base",
    "Certification",
    "LeaveRequest",
    "LoginThrottle",
    "Mentorship",
    "OutboxMessage",
    "Person",
    "PersonExternalId",
    "PersonSkill",
    "Schedule",
    "ScheduleActivity",
    "ShiftPreferences",
    "Team",
]
