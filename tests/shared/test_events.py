"""The event contract: envelope validation, typed payloads, partition keys (pure, no I/O)."""

from __future__ import annotations

from datetime import UTC, datetime

import orjson
import pytest

from shared.events import PAYLOADS, EventType, InvalidEvent, Topic, make_event, parse_event
from shared.events.cti import AgentStateChanged, CallAnswered, CallOffered, ComplaintReceived


def raw(type_: str, data: dict, **envelope) -> bytes:
    body = {
        "specversion": "1.0",
        "id": "evt-1",
        "type": type_,
        "source": "cti/asterisk-1",
        "time": "2026-11-22T09:00:03Z",
        "subject": "a1",
        "datacontenttype": "application/json",
        "data": data,
    }
    body.update(envelope)
    return orjson.dumps(body)


def test_every_event_type_has_a_payload_and_a_topic() -> None:
    assert set(PAYLOADS) == set(EventType)
    for type_ in EventType:
        assert type_.topic in Topic
        assert type_.value.split(".")[0] in type_.topic.value or type_.value.startswith("qa.")


def test_design_example_parses_into_a_typed_payload() -> None:
    event = parse_event(
        raw("cti.call.answered", {"call_id": "c1", "queue_id": "q1", "agent_id": "a1"})
    )
    assert isinstance(event.data, CallAnswered)
    assert event.time == datetime(2026, 11, 22, 9, 0, 3, tzinfo=UTC)
    assert event.key == "a1"


def test_round_trip_keeps_id_time_and_extra_fields() -> None:
    data = CallAnswered(call_id="c1", queue_id="q1", agent_id="a1", skill="billing")
    event = make_event(EventType.CALL_ANSWERED, data, source="test", id="fixed")
    again = parse_event(event.to_json())
    assert again.id == "fixed"
    assert again.data == data
    assert again.data.model_extra == {"skill": "billing"}


def test_offset_times_are_normalised_to_utc() -> None:
    event = parse_event(
        raw("cti.agent.logged_out", {"agent_id": "a1"}, time="2026-11-22T17:00:00+08:00")
    )
    assert event.time == datetime(2026, 11, 22, 9, 0, tzinfo=UTC)


def test_partition_key_prefers_agent_then_call() -> None:
    offered = make_event(
        EventType.CALL_OFFERED, CallOffered(call_id="c9", queue_id="q"), source="t"
    )
    assert offered.key == "c9"
    complaint = make_event(
        EventType.COMPLAINT_RECEIVED,
        ComplaintReceived(agent_id="a7", severity="high", escalated=True),
        source="t",
    )
    assert complaint.key == "a7"


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"not json", "not JSON"),
        (b"[1, 2]", "JSON object"),
        (raw("cti.call.teleported", {"call_id": "c"}), "unknown event type"),
        (raw("cti.call.answered", {"call_id": "c1", "agent_id": "a1"}), "queue_id"),
        (
            raw("cti.agent.state_changed", {"agent_id": "a", "state": "aux"}),
            "data: Value error, reason is required",
        ),
        (raw("cti.agent.state_changed", {"agent_id": "a", "state": "busy"}), "state"),
        (raw("cti.survey.completed", {"call_id": "c", "agent_id": "a", "csat": 6}), "csat"),
        (raw("cti.agent.logged_in", {"agent_id": "a"}, time="2026-11-22T09:00:00"), "time"),
        (raw("cti.agent.logged_in", {"agent_id": "a"}, specversion="0.3"), "specversion"),
        (raw("cti.agent.logged_in", {"agent_id": ""}), "agent_id"),
    ],
)
def test_invalid_messages_are_rejected_with_a_reason(payload: bytes, reason: str) -> None:
    with pytest.raises(InvalidEvent, match=reason):
        parse_event(payload)


def test_make_event_refuses_the_wrong_payload_class() -> None:
    with pytest.raises(TypeError):
        make_event(
            EventType.CALL_ENDED, AgentStateChanged(agent_id="a", state="available"), source="t"
        )
