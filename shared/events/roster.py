"""Roster change payloads on ``roster.changes``, consumed by metrics and care.

Every optional field has a default: envelopes are serialized without nulls, so a consumer must
read an absent field as ``None``.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import ClassVar, Literal

from pydantic import BaseModel

from shared.events.envelope import EventData


class PersonSnapshot(EventData):
    """A person as they are after the change (created, updated or departed)."""

    key_fields: ClassVar[tuple[str, ...]] = ("person_id",)
    person_id: str
    employee_no: str
    name: str
    role: str
    status: str
    team_id: str | None = None
    hire_date: date | None = None
    external_ids: dict[str, str] = {}
    changed_fields: list[str] = []


class TeamChanged(EventData):
    key_fields: ClassVar[tuple[str, ...]] = ("team_id",)
    team_id: str
    name: str
    lead_id: str | None = None
    member_ids: list[str]
    joined: list[str] = []
    left: list[str] = []
    effective_at: datetime


class MentorshipChanged(EventData):
    key_fields: ClassVar[tuple[str, ...]] = ("mentee_id",)
    mentorship_id: str
    mentor_id: str
    mentee_id: str
    started_at: datetime
    ended_at: datetime | None = None
    end_reason: str | None = None


class ScheduledActivity(BaseModel):
    kind: Literal["work", "break", "lunch", "training", "meeting", "coaching"]
    start: datetime
    end: datetime


class SchedulePublished(EventData):
    """One agent's activities for one day, as published (replaces any earlier publication)."""

    key_fields: ClassVar[tuple[str, ...]] = ("agent_id",)
    schedule_id: str
    agent_id: str
    team_id: str | None = None
    day: date
    timezone: str
    version: int
    activities: list[ScheduledActivity]


class LeaveDecided(EventData):
    key_fields: ClassVar[tuple[str, ...]] = ("agent_id",)
    leave_request_id: str
    agent_id: str
    team_id: str | None = None
    kind: str
    start_date: date
    end_date: date
    status: Literal["approved", "denied"]
    reason: str | None = None
    decided_by: str
    decided_at: datetime
