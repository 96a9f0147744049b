"""Care payloads on ``care.events``: what metrics (sanctioned care breaks) and the gateway's
live stream need. They carry ids, kinds and times, never summaries, notes or feedback text."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from shared.events.envelope import EventData


class CareRecordCreated(EventData):
    key_fields: ClassVar[tuple[str, ...]] = ("agent_id",)
    record_id: str
    agent_id: str
    team_id: str | None = None
    kind: str
    category: str
    occurred_at: datetime


class CareBreakGranted(EventData):
    """Aux ``care_break`` of ``agent_id`` inside ``[start, end)`` is sanctioned: metrics never
    counts it against adherence."""

    key_fields: ClassVar[tuple[str, ...]] = ("agent_id",)
    record_id: str
    agent_id: str
    team_id: str | None = None
    granted_by: str
    start: datetime
    end: datetime


class CareTaskChanged(EventData):
    """A care task opened or closed (``status`` is then ``done`` or ``dismissed``)."""

    key_fields: ClassVar[tuple[str, ...]] = ("agent_id", "team_id")
    task_id: str
    rule: str
    status: str
    agent_id: str | None = None
    team_id: str | None = None
    assignee_id: str | None = None
    urgent: bool
    due_at: datetime
