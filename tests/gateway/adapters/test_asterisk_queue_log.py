"""The Asterisk queue_log adapter on a sample in the documented format
(``epoch|callid|queuename|agent|event|data1|data2|…``): exact canonical events, stable ids."""

from __future__ import annotations

from services.gateway.cti.adapters import adapt_queue_log, event_id
from services.gateway.cti.adapters.asterisk_queue_log import bare_extension
from tests.gateway.adapters.helpers import (
    DictResolver,
    agent_timeline,
    assert_all_valid,
    brief,
    sample,
    seconds,
)

SOURCE = "cti/asterisk-1"
ROSTER = {
    ("asterisk", "PJSIP/1001"): "P-1001",
    ("asterisk", "Agent/1003"): "P-1003",
    ("asterisk", "1005"): "P-1005",  # known by bare extension only
}
CALL_1, CALL_6, CALL_7 = "1795424440.101", "1795427400.601", "1795427600.701"

EXPECTED = [
    ("agent.logged_in", "2026-11-23T09:00:00Z", {"agent_id": "P-1001"}),
    (
        "agent.state_changed",
        "2026-11-23T09:00:00Z",
        {"agent_id": "P-1001", "state": "aux", "reason": "paused"},
    ),
    ("agent.state_changed", "2026-11-23T09:00:05Z", {"agent_id": "P-1001", "state": "available"}),
    ("call.offered", "2026-11-23T09:00:40Z", {"call_id": CALL_1, "queue_id": "support"}),
    (
        "call.answered",
        "2026-11-23T09:01:05Z",
        {"call_id": CALL_1, "agent_id": "P-1001", "queue_id": "support"},
    ),
    (
        "call.ended",
        "2026-11-23T09:05:05Z",
        {"call_id": CALL_1, "agent_id": "P-1001", "ended_by": "caller"},
    ),
    ("call.wrapup_ended", "2026-11-23T09:05:05Z", {"call_id": CALL_1, "agent_id": "P-1001"}),
    ("call.offered", "2026-11-23T09:06:40Z", {"call_id": "1795424800.201", "queue_id": "sales"}),
    (
        "call.abandoned",
        "2026-11-23T09:07:25Z",
        {"call_id": "1795424800.201", "queue_id": "sales", "exit_reason": "abandon"},
    ),
    ("call.offered", "2026-11-23T09:08:20Z", {"call_id": "1795424900.301", "queue_id": "sales"}),
    (
        "call.abandoned",
        "2026-11-23T09:13:20Z",
        {"call_id": "1795424900.301", "queue_id": "sales", "exit_reason": "timeout"},
    ),
    ("call.offered", "2026-11-23T09:15:00Z", {"call_id": "1795425300.401", "queue_id": "support"}),
    (
        "call.abandoned",
        "2026-11-23T09:15:01Z",
        {"call_id": "1795425300.401", "queue_id": "support", "exit_reason": "empty"},
    ),
    ("call.offered", "2026-11-23T09:16:40Z", {"call_id": "1795425400.501", "queue_id": "support"}),
    (
        "call.abandoned",
        "2026-11-23T09:16:52Z",
        {"call_id": "1795425400.501", "queue_id": "support", "exit_reason": "key"},
    ),
    (
        "agent.state_changed",
        "2026-11-23T09:18:20Z",
        {"agent_id": "P-1001", "state": "aux", "reason": "lunch"},
    ),
    ("agent.state_changed", "2026-11-23T09:48:20Z", {"agent_id": "P-1001", "state": "available"}),
    ("call.offered", "2026-11-23T09:50:00Z", {"call_id": CALL_6, "queue_id": "support"}),
    (
        "call.answered",
        "2026-11-23T09:50:10Z",
        {"call_id": CALL_6, "agent_id": "SIP/agent2", "queue_id": "support"},
    ),
    (
        "call.ended",
        "2026-11-23T09:52:10Z",
        {"call_id": CALL_6, "agent_id": "SIP/agent2", "ended_by": "transfer"},
    ),
    ("call.wrapup_ended", "2026-11-23T09:52:10Z", {"call_id": CALL_6, "agent_id": "SIP/agent2"}),
    ("call.offered", "2026-11-23T09:53:20Z", {"call_id": CALL_7, "queue_id": "sales"}),
    (
        "call.answered",
        "2026-11-23T09:53:28Z",
        {"call_id": CALL_7, "agent_id": "P-1005", "queue_id": "sales"},
    ),
    (
        "call.ended",
        "2026-11-23T09:55:00Z",
        {"call_id": CALL_7, "agent_id": "P-1005", "ended_by": "agent"},
    ),
    ("call.wrapup_ended", "2026-11-23T09:55:00Z", {"call_id": CALL_7, "agent_id": "P-1005"}),
    ("agent.logged_in", "2026-11-23T10:00:00Z", {"agent_id": "P-1003"}),
    ("agent.logged_in", "2026-11-23T10:00:10Z", {"agent_id": "Agent/1004"}),
    ("agent.logged_out", "2026-11-23T11:00:00Z", {"agent_id": "P-1003"}),
    ("agent.logged_out", "2026-11-23T11:00:10Z", {"agent_id": "Agent/1004"}),
    ("agent.logged_out", "2026-11-23T11:01:40Z", {"agent_id": "P-1001"}),
]


def test_the_sample_maps_to_exactly_these_canonical_events() -> None:
    result = adapt_queue_log(
        sample("asterisk_queue_log.txt"), source=SOURCE, resolve=DictResolver(ROSTER)
    )

    assert brief(result.events) == EXPECTED
    assert_all_valid(result)
    assert {e.source for e in result.events} == {SOURCE}
    assert result.records == 41 and result.malformed == 0
    assert [(i["line_no"], i["verb"]) for i in result.ignored] == [
        (1, "QUEUESTART"),
        (10, "DID"),
        (12, "RINGNOANSWER"),
        (37, "CONFIGRELOAD"),
    ]
    assert result.unknown == []
    assert result.unresolved_agents == ["Agent/1004", "SIP/agent2"]
    assert result.unresolved_events == 5


def test_partition_keys_follow_the_contract() -> None:
    result = adapt_queue_log(
        sample("asterisk_queue_log.txt"), source=SOURCE, resolve=DictResolver(ROSTER)
    )
    by_type = {e.type: e.key for e in reversed(result.events)}  # the first of each type
    assert by_type["cti.call.offered"] == CALL_1  # no agent: the call
    assert by_type["cti.call.answered"] == "P-1001"  # an agent: the agent
    assert by_type["cti.agent.logged_in"] == "P-1001"


def test_ids_are_stable_across_runs_and_however_the_lines_are_batched() -> None:
    text = sample("asterisk_queue_log.txt")
    first = adapt_queue_log(text, source=SOURCE, resolve=DictResolver(ROSTER))
    again = adapt_queue_log(text, source=SOURCE, resolve=DictResolver(ROSTER))
    assert [e.id for e in first.events] == [e.id for e in again.events]
    one_by_one = {
        e.id
        for line in text.splitlines()
        for e in adapt_queue_log(line, source=SOURCE, resolve=DictResolver(ROSTER)).events
    }
    assert one_by_one == {e.id for e in first.events}
    # An id is a function of the source and the line, never of the roster's answer.
    unresolved = adapt_queue_log(text, source=SOURCE)
    assert [e.id for e in unresolved.events] == [e.id for e in first.events]
    other_pbx = adapt_queue_log(text, source="cti/asterisk-2")
    assert not {e.id for e in other_pbx.events} & {e.id for e in first.events}
    offered = first.events[3]
    assert offered.id == event_id(
        SOURCE,
        "line",
        "1795424440",
        CALL_1,
        "support",
        "NONE",
        "ENTERQUEUE",
        "",
        "+15557654321",
        "1",
        "cti.call.offered",
    )


def test_the_sample_replays_into_the_agents_timeline() -> None:
    result = adapt_queue_log(
        sample("asterisk_queue_log.txt"), source=SOURCE, resolve=DictResolver(ROSTER)
    )
    timeline = agent_timeline(result.events, "P-1001")
    spans = [(s.state, s.reason, seconds(s.end - s.start)) for s in timeline.segments]
    assert spans == [
        ("aux", "paused", 5),
        ("available", None, 60),
        ("talk", None, 240),
        ("available", None, 795),
        ("aux", "lunch", 1800),
        ("available", None, 4400),
    ]
    [contact] = timeline.contacts
    assert (contact.call_id, seconds(contact.talk_us), contact.acw_us) == (CALL_1, 240, 0)


def test_unknown_verbs_are_reported_not_fatal() -> None:
    text = (
        "1795424400|NONE|support|PJSIP/1001|ADDMEMBER|\n"
        "1795424401|NONE|support|PJSIP/1001|MEMBERPENALTYCHANGED|5\n"
        "1795424402|1795424402.9|support|NONE|ENTERQUEUE||+1555|1\n"
    )
    result = adapt_queue_log(text, source=SOURCE)
    assert [e.type for e in result.events] == ["cti.agent.logged_in", "cti.call.offered"]
    assert result.unknown == [
        {
            "line_no": 2,
            "verb": "MEMBERPENALTYCHANGED",
            "raw": "1795424401|NONE|support|PJSIP/1001|MEMBERPENALTYCHANGED|5",
        }
    ]


def test_a_member_added_paused_logs_in_as_aux() -> None:
    text = (
        "1795424400|NONE|support|PJSIP/1001|ADDMEMBER|PAUSED\n"
        "1795424400|NONE|sales|PJSIP/1001|ADDMEMBER|PAUSED\n"
        "1795424460|NONE|support|PJSIP/1001|UNPAUSE|\n"
    )
    result = adapt_queue_log(text, source=SOURCE)
    assert brief(result.events) == [
        (
            "agent.logged_in",
            "2026-11-23T09:00:00Z",
            {"agent_id": "PJSIP/1001", "state": "aux", "reason": "paused"},
        ),
        (
            "agent.state_changed",
            "2026-11-23T09:01:00Z",
            {"agent_id": "PJSIP/1001", "state": "available"},
        ),
    ]


def test_malformed_and_unusable_lines_are_reported_with_their_line_numbers() -> None:
    text = (
        "\n"
        "not a queue log line\n"
        "soon|NONE|support|PJSIP/1001|PAUSE|\n"
        "1795424400|NONE|support|NONE|PAUSE|\n"
        "1795424400|NONE|NONE|NONE|ENTERQUEUE||x|1\n"
        "1795424400|NONE|support|PJSIP/1001|PAUSE|Coaching session with the team lead\n"
    )
    result = adapt_queue_log(text, source=SOURCE)
    assert brief(result.events) == [
        (
            "agent.state_changed",
            "2026-11-23T09:00:00Z",
            {
                "agent_id": "PJSIP/1001",
                "state": "aux",
                "reason": "coaching_session_with_the_team_lead",
            },
        )
    ]
    assert [(i["line_no"], i["reason"].split(":")[1].strip()) for i in result.ignored] == [
        (2, "1 field(s), a queue_log line has at least 5 (epoch|uniqueid|queuename|agent|event)"),
        (3, "epoch 'soon' is not a number"),
        (4, "PAUSE without an agent"),
        (5, "ENTERQUEUE without a call id and queue"),
    ]
    assert (result.records, result.malformed, result.unreadable) == (5, 2, False)
    assert adapt_queue_log("{\n}\n", source=SOURCE).unreadable


def test_bare_extensions() -> None:
    assert bare_extension("PJSIP/1001") == "1001"
    assert bare_extension("Local/1005@agents/n") == "1005"
    assert bare_extension("Agent/1003") == "1003"
    assert bare_extension("John Doe") is None
