"""Event contract: the CloudEvents envelope, the event types and one payload model per type.

Producers build events with :func:`make_event`; consumers turn raw bytes into typed events with
:func:`parse_event`, which raises :class:`InvalidEvent` for anything unparseable or off-schema.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson
from pydantic import ValidationError

from shared.events import care, cti, roster, signals
from shared.events.envelope import CloudEvent, EventData
from shared.events.types import EventType, Topic

PAYLOADS: dict[EventType, type[EventData]] = {
    EventType.AGENT_LOGGED_IN: cti.AgentLoggedIn,
    EventType.AGENT_LOGGED_OUT: cti.AgentLoggedOut,
    EventType.AGENT_STATE_CHANGED: cti.AgentStateChanged,
    EventType.CALL_OFFERED: cti.CallOffered,
    EventType.CALL_ANSWERED: cti.CallAnswered,
    EventType.CALL_HELD: cti.CallHeld,
    EventType.CALL_RESUMED: cti.CallResumed,
    EventType.CALL_ENDED: cti.CallEnded,
    EventType.CALL_WRAPUP_ENDED: cti.CallWrapupEnded,
    EventType.CALL_ABANDONED: cti.CallAbandoned,
    EventType.CALL_TAGGED: cti.CallTagged,
    EventType.SURVEY_COMPLETED: cti.SurveyCompleted,
    EventType.QA_EVALUATION_COMPLETED: cti.QaEvaluationCompleted,
    EventType.COMPLAINT_RECEIVED: cti.ComplaintReceived,
    EventType.PERSON_CREATED: roster.PersonSnapshot,
    EventType.PERSON_UPDATED: roster.PersonSnapshot,
    EventType.PERSON_DEPARTED: roster.PersonSnapshot,
    EventType.TEAM_CHANGED: roster.TeamChanged,
    EventType.MENTORSHIP_STARTED: roster.MentorshipChanged,
    EventType.MENTORSHIP_ENDED: roster.MentorshipChanged,
    EventType.SCHEDULE_PUBLISHED: roster.SchedulePublished,
    EventType.LEAVE_DECIDED: roster.LeaveDecided,
    EventType.SIGNAL_RAISED: signals.SignalRaised,
    EventType.CARE_RECORD_CREATED: care.CareRecordCreated,
    EventType.CARE_BREAK_GRANTED: care.CareBreakGranted,
    EventType.CARE_TASK_OPENED: care.CareTaskChanged,
    EventType.CARE_TASK_CLOSED: care.CareTaskChanged,
}


PAYLOAD_OF_TYPE: dict[str, type[EventData]] = {t.value: m for t, m in PAYLOADS.items()}


class InvalidEvent(ValueError):
    """A message that is not a valid CloudEvent of a known type; it belongs in the DLQ."""


def make_event(
    type_: EventType,
    data: EventData,
    *,
    source: str,
    time: datetime | None = None,
    subject: str | None = None,
    id: str | None = None,
) -> CloudEvent:
    expected = PAYLOADS[type_]
    if not isinstance(data, expected):
        raise TypeError(f"{type_} carries {expected.__name__}, not {type(data).__name__}")
    fields: dict[str, Any] = {"type": type_.value, "source": source, "data": data}
    if time is not None:
        fields["time"] = time
    if id is not None:
        fields["id"] = id
    fields["subject"] = subject if subject is not None else data.partition_key()
    return CloudEvent(**fields)


def validate_event(raw: dict[str, Any]) -> CloudEvent:
    """Validate a decoded CloudEvent and type its ``data``; raises :class:`InvalidEvent`.

    The payload is validated first and the envelope built around it, so each event is
    validated once and never copied (the hot path of every consumer). Errors are reported as
    before: the envelope's first, then an unknown type, then the payload's.
    """
    type_ = raw.get("type")
    payload_model = PAYLOAD_OF_TYPE.get(type_) if isinstance(type_, str) else None
    data, data_error = raw.get("data"), None
    if payload_model is not None:
        try:
            data = payload_model.model_validate(data)
        except ValidationError as exc:
            data_error = exc
    try:
        envelope = CloudEvent.model_validate(raw if data_error else {**raw, "data": data})
    except ValidationError as exc:
        raise InvalidEvent(_describe(exc)) from None
    if payload_model is None:
        raise InvalidEvent(f"unknown event type {envelope.type!r}")
    if data_error is not None:
        raise InvalidEvent(_describe(data_error, prefix="data.")) from None
    return envelope


def parse_event(payload: bytes) -> CloudEvent:
    try:
        raw = orjson.loads(payload)
    except orjson.JSONDecodeError as exc:
        raise InvalidEvent(f"not JSON: {exc}") from None
    if not isinstance(raw, dict):
        raise InvalidEvent("a CloudEvent must be a JSON object")
    return validate_event(raw)


def _describe(exc: ValidationError, prefix: str = "") -> str:
    parts = []
    for err in exc.errors():
        path = ".".join(str(p) for p in err["loc"])
        where = prefix + path if path else prefix.rstrip(".") or "<event>"
        parts.append(f"{where}: {err['msg']}")
    return "; ".join(parts)


__all__ = [
    "PAYLOADS",
    "CloudEvent",
    "EventData",
    "EventType",
    "InvalidEvent",
    "Topic",
    "make_event",
    "parse_event",
    "validate_event",
]
