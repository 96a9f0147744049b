from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from shared.events import EventType, Topic

CTI_TYPES = tuple(t.value for t in EventType if t.topic is Topic.CTI_EVENTS)


class CloudEventIn(BaseModel):
    """A canonical CTI event (CloudEvents 1.0, structured JSON; DESIGN §3). Documentation of
    what ``POST /v1/cti/events`` takes; the shared event models validate it."""

    specversion: Literal["1.0"]
    id: str = Field(
        min_length=1, max_length=200, description="Idempotency key: re-sending an id is harmless"
    )
    type: Literal[CTI_TYPES]  # type: ignore[valid-type]
    source: str = Field(
        min_length=1, max_length=500, description="The API key's source, or a path under it"
    )
    time: datetime = Field(description="When it happened (RFC 3339 with offset)")
    subject: str | None = Field(default=None, max_length=500)
    datacontenttype: Literal["application/json"] = "application/json"
    data: dict[str, Any] = Field(description="The payload of ``type`` (DESIGN §3)")


class Accepted(BaseModel):
    accepted: int = Field(description="Events the broker acknowledged")


class IgnoredRecord(BaseModel):
    model_config = {"extra": "allow"}

    reason: str
    index: int | None = Field(default=None, description="Amazon Connect: the record's index")
    line_no: int | None = Field(default=None, description="Asterisk: the line's number")


class UnknownRecord(BaseModel):
    model_config = {"extra": "allow"}

    raw: str = Field(description="The start of the record or line")
    index: int | None = None
    line_no: int | None = None
    event_type: str | None = Field(default=None, description="Amazon Connect's EventType")
    verb: str | None = Field(default=None, description="The queue_log event")


class AdapterReport(Accepted):
    """What an adapter made of the body. Re-sending the same body yields the same event ids."""

    records: int = Field(description="Records (Amazon Connect) or non-blank lines (Asterisk) read")
    event_ids: list[str]
    ignored: list[IgnoredRecord] = Field(
        description="Records without canonical meaning, or not readable, and why"
    )
    unknown: list[UnknownRecord] = Field(description="Records of a kind the adapter does not know")
    unresolved_agents: list[str] = Field(
        description="External agent ids the roster does not know (yet): their events carry the "
        "external id as agent_id"
    )
    unresolved_events: int
