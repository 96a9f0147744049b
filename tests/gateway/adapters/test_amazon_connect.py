"""The Amazon Connect adapter on agent event stream records in the documented data model (a
login-to-logout lifecycle with one held call), as bare records and as the Kinesis batches a
consumer forwards: exact canonical events, stable ids."""

from __future__ import annotations

import base64
import copy
import json
from typing import Any

import orjson
import pytest

from services.gateway.cti.adapters import InvalidPayload, adapt_agent_events
from tests.gateway.adapters.helpers import (
    DictResolver,
    agent_timeline,
    assert_all_valid,
    brief,
    sample,
    seconds,
)

USER_ID = "7a6f1c2e-3b4d-4e5f-8a9b-0c1d2e3f4a5b"
CALL = "c0ffee00-1234-4abc-8def-000000000001"
INSTANCE_SOURCE = "amazon-connect/aaaaaaaa-bbbb-cccc-dddd-111111111111"
SOURCE = "cti/connect-1"
ROSTER = {("amazon-connect", USER_ID): "P-JANE"}

EXPECTED = [
    (
        "agent.logged_in",
        "2026-11-23T09:00:00Z",
        {"agent_id": "P-JANE", "state": "aux", "reason": "break"},
    ),
    (
        "agent.state_changed",
        "2026-11-23T09:00:05.120000Z",
        {"agent_id": "P-JANE", "state": "available"},
    ),
    ("call.offered", "2026-11-23T09:00:40.250000Z", {"call_id": CALL, "queue_id": "Support"}),
    (
        "call.answered",
        "2026-11-23T09:01:05.500000Z",
        {"call_id": CALL, "agent_id": "P-JANE", "queue_id": "Support"},
    ),
    ("call.held", "2026-11-23T09:03:05.500000Z", {"call_id": CALL, "agent_id": "P-JANE"}),
    ("call.resumed", "2026-11-23T09:04:05.500000Z", {"call_id": CALL, "agent_id": "P-JANE"}),
    ("call.ended", "2026-11-23T09:06:05.500000Z", {"call_id": CALL, "agent_id": "P-JANE"}),
    ("call.wrapup_ended", "2026-11-23T09:07:05.500000Z", {"call_id": CALL, "agent_id": "P-JANE"}),
    (
        "agent.state_changed",
        "2026-11-23T09:10:00Z",
        {"agent_id": "P-JANE", "state": "aux", "reason": "lunch"},
    ),
    ("agent.logged_out", "2026-11-23T09:40:00Z", {"agent_id": "P-JANE"}),
]


def records() -> list[dict[str, Any]]:
    return json.loads(sample("amazon_connect_lifecycle.json"))


def b64(record: dict[str, Any]) -> str:
    return base64.b64encode(orjson.dumps(record)).decode()


def test_the_lifecycle_maps_to_exactly_these_canonical_events() -> None:
    result = adapt_agent_events(
        sample("amazon_connect_lifecycle.json"), source=SOURCE, resolve=DictResolver(ROSTER)
    )

    assert brief(result.events) == EXPECTED
    assert_all_valid(result)
    assert {e.source for e in result.events} == {SOURCE}
    assert (result.records, result.malformed, result.unknown) == (13, 0, [])
    assert [(i["index"], i["reason"]) for i in result.ignored] == [
        (2, f"record 2: contact {CALL} CONNECTING: offered is emitted when the agent connects"),
        (7, "record 7: HEART_BEAT without a status or voice contact change"),
        (10, "record 10: HEART_BEAT without a status or voice contact change"),
    ]
    assert result.unresolved_agents == []
    # The call is keyed by its agent once it has one; the offer by the call.
    assert [e.key for e in result.events[2:4]] == [CALL, "P-JANE"]


def test_an_agent_the_roster_does_not_know_is_kept_under_the_username() -> None:
    resolver = DictResolver({})
    result = adapt_agent_events(records(), resolve=resolver)
    assert {e.data.agent_id for e in result.events if hasattr(e.data, "agent_id")} == {"jdoe"}
    assert result.unresolved_agents == ["jdoe"]
    assert result.unresolved_events == 9  # all but the offer, which names no agent
    assert {e.source for e in result.events} == {INSTANCE_SOURCE}  # no source given
    assert resolver.calls == [("amazon-connect", "jdoe"), ("amazon-connect", USER_ID)]


def test_the_lifecycle_replays_into_the_agents_timeline() -> None:
    result = adapt_agent_events(records(), source=SOURCE, resolve=DictResolver(ROSTER))
    timeline = agent_timeline(result.events, "P-JANE")
    spans = [(s.state, s.reason, seconds(s.end - s.start)) for s in timeline.segments]
    assert spans == [
        ("aux", "break", 5.12),
        ("available", None, 60.38),
        ("talk", None, 120),
        ("hold", None, 60),
        ("talk", None, 120),
        ("acw", None, 60),
        ("available", None, 174.5),
        ("aux", "lunch", 1800),
    ]
    [contact] = timeline.contacts
    assert (seconds(contact.talk_us), seconds(contact.hold_us), seconds(contact.acw_us)) == (
        240,
        60,
        60,
    )


def test_ids_are_stable_across_runs_bodies_and_envelopes() -> None:
    raw = records()
    first = adapt_agent_events(raw, source=SOURCE, resolve=DictResolver(ROSTER))
    ids = [e.id for e in first.events]
    assert ids == [
        e.id for e in adapt_agent_events(raw, source=SOURCE, resolve=DictResolver(ROSTER)).events
    ]
    one_by_one = [
        e.id
        for record in raw
        for e in adapt_agent_events(record, source=SOURCE, resolve=DictResolver(ROSTER)).events
    ]
    # One by one, LOGOUT re-reports the Offline logout: the same event, the same id.
    assert one_by_one == [*ids, ids[-1]]
    unresolved = adapt_agent_events(raw, source=SOURCE)
    assert [e.id for e in unresolved.events] == ids


def test_a_heartbeat_that_reveals_a_missed_change_reports_it_with_the_same_id() -> None:
    raw = records()
    to_lunch = raw[9]
    heartbeat = copy.deepcopy(to_lunch)
    heartbeat.update(EventType="HEART_BEAT", EventId="hb-1", EventTimestamp="2026-11-23T09:12:00Z")
    [from_change] = adapt_agent_events(to_lunch, source=SOURCE).events
    [from_heartbeat] = adapt_agent_events(heartbeat, source=SOURCE).events
    assert from_heartbeat == from_change


def test_logout_without_the_offline_change_still_ends_the_session_once() -> None:
    logout = records()[12]
    [event] = adapt_agent_events(logout, source=SOURCE, resolve=DictResolver(ROSTER)).events
    assert brief([event]) == [("agent.logged_out", "2026-11-23T09:40:00Z", {"agent_id": "P-JANE"})]
    closed_ccp = copy.deepcopy(logout)
    for snapshot in ("PreviousAgentSnapshot", "CurrentAgentSnapshot"):
        closed_ccp[snapshot]["AgentStatus"] = {"Name": "Available", "Type": "ROUTABLE"}
    [event] = adapt_agent_events(closed_ccp, source=SOURCE).events
    assert brief([event]) == [("agent.logged_out", "2026-11-23T09:40:01Z", {"agent_id": "jdoe"})]


@pytest.mark.parametrize(
    "envelope",
    [
        lambda rs: {"Records": [{"kinesis": {"data": b64(r), "partitionKey": "x"}} for r in rs]},
        lambda rs: {"Records": [{"Data": b64(r), "PartitionKey": "x"} for r in rs]},
        lambda rs: {"requestId": "r", "timestamp": 1, "records": [{"data": b64(r)} for r in rs]},
        lambda rs: [{"kinesis": {"data": b64(r)}} for r in rs],
    ],
    ids=["lambda", "get-records", "firehose", "array-of-kinesis"],
)
def test_kinesis_batches_decode_to_the_same_events(envelope) -> None:
    raw = records()
    plain = adapt_agent_events(raw, source=SOURCE)
    wrapped = adapt_agent_events(orjson.dumps(envelope(raw)), source=SOURCE)
    assert wrapped.events == plain.events
    assert wrapped.records == 13


def test_bad_records_are_reported_by_index_and_a_body_of_nothing_else_is_unreadable() -> None:
    raw = records()
    body = {
        "Records": [
            {"kinesis": {"data": "%%% not base64"}},
            {"kinesis": {"data": base64.b64encode(b"not json").decode()}},
            {"kinesis": {"data": b64(raw[0])}},
            {"kinesis": {"data": b64({**raw[1], "EventTimestamp": "yesterday"})}},
            {"kinesis": {"data": b64({**raw[1], "EventType": "AGENT_SNAPSHOT"})}},
        ]
    }
    result = adapt_agent_events(body, source=SOURCE)
    assert [e.type for e in result.events] == ["cti.agent.logged_in"]
    assert [(i["index"], i["reason"]) for i in result.ignored] == [
        (0, "record 0: Kinesis data is not base64"),
        (1, "record 1: Kinesis data is not a JSON record"),
        (3, "record 3: EventTimestamp 'yesterday' is not ISO 8601"),
    ]
    assert result.unknown == [
        {"index": 4, "event_type": "AGENT_SNAPSHOT", "raw": "5e1b0f3a-9c2d-4e6f-a7b8-000000000002"}
    ]
    assert (result.malformed, result.unreadable) == (3, False)
    assert adapt_agent_events([{"hello": "world"}, 3], source=SOURCE).unreadable
    with pytest.raises(InvalidPayload):
        adapt_agent_events(b"<xml/>", source=SOURCE)
    with pytest.raises(InvalidPayload):
        adapt_agent_events(b'"a string"', source=SOURCE)


def contact_record(contact: dict[str, Any], previous: list[dict[str, Any]]) -> dict[str, Any]:
    record = copy.deepcopy(records()[3])
    record["EventId"] = "synthetic"
    record["PreviousAgentSnapshot"]["Contacts"] = previous
    record["CurrentAgentSnapshot"]["Contacts"] = [contact]
    return record


def test_outbound_calls_are_answered_never_offered_and_other_channels_are_not_calls() -> None:
    connected = records()[3]["CurrentAgentSnapshot"]["Contacts"][0]
    outbound = {**connected, "ContactId": "out-1", "InitiationMethod": "OUTBOUND"}
    chat = {**connected, "ContactId": "chat-1", "Channel": "CHAT"}
    missed = {**connected, "ContactId": "missed-1", "State": "MISSED"}
    ringing = {**connected, "State": "CONNECTING"}

    out = adapt_agent_events(contact_record(outbound, []), source=SOURCE)
    assert [e.type for e in out.events] == ["cti.call.answered"]
    assert adapt_agent_events(contact_record(chat, []), source=SOURCE).events == []
    missed_result = adapt_agent_events(contact_record(missed, [ringing]), source=SOURCE)
    assert missed_result.events == []
    assert "MISSED: no canonical event" in missed_result.ignored[0]["reason"]
