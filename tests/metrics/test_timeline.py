"""Hand-computed scenarios for every timeline rule and the KPI maths (pure, no I/O)."""

from __future__ import annotations

import pytest

from services.metrics.domain.kpis import agent_buckets, agent_fields, interval_of, local_day
from services.metrics.domain.timeline import AgentMachine, OutOfOrder, replay, to_us
from tests.metrics.events import DAY, agent_events, at

ev = agent_events("a1")


def fields_by_interval(events, until=None) -> dict[str, dict]:
    timeline = replay(events, until=at(until) if until else None)
    quality = [e for e in events if e.type.startswith(("cti.survey", "qa.", "cti.complaint"))]
    buckets = agent_buckets(timeline, quality)
    return {at_clock(start): agent_fields(bucket) for start, bucket in sorted(buckets.items())}


def at_clock(us: int) -> str:
    seconds = (us - to_us(DAY)) // 1_000_000
    return f"{seconds // 3600:02d}:{seconds // 60 % 60:02d}"


def test_a_session_is_split_across_interval_boundaries() -> None:
    got = fields_by_interval([ev.login("09:10"), ev.logout("09:40")])
    assert {k: v["available_s"] for k, v in got.items()} == {
        "09:00": 300.0,
        "09:15": 900.0,
        "09:30": 600.0,
    }
    for bucket in got.values():
        assert bucket["logged_in_s"] == bucket["available_s"]
        assert bucket["occupancy"] == 0.0 and bucket["utilization"] == 0.0


def test_call_with_hold_and_acw() -> None:
    got = fields_by_interval(
        [
            ev.login("09:00"),
            ev.answer("09:01", "c1"),
            ev.hold("09:03", "c1"),
            ev.resume("09:04", "c1"),
            ev.end("09:06", "c1"),
            ev.wrap("09:07", "c1"),
            ev.logout("09:10"),
        ]
    )["09:00"]
    assert (got["talk_s"], got["hold_s"], got["acw_s"]) == (240.0, 60.0, 60.0)
    assert got["available_s"] == 60.0 + 180.0
    assert got["logged_in_s"] == 600.0
    assert (got["answered"], got["handled"], got["handle_s"], got["aht_s"]) == (1, 1, 360.0, 360.0)
    assert got["occupancy"] == pytest.approx(360 / 600)
    assert got["utilization"] == pytest.approx(360 / 600)
    assert got["aux_ratio"] == 0.0


def test_handled_counts_where_acw_ends_with_all_its_seconds() -> None:
    got = fields_by_interval(
        [
            ev.login("09:00"),
            ev.answer("09:14", "c1"),
            ev.end("09:16", "c1"),
            ev.wrap("09:17", "c1"),
            ev.logout("09:20"),
        ]
    )
    assert (got["09:00"]["answered"], got["09:00"]["handled"], got["09:00"]["talk_s"]) == (
        1,
        0,
        60.0,
    )
    assert (got["09:15"]["answered"], got["09:15"]["handled"]) == (0, 1)
    assert got["09:15"]["handle_s"] == 180.0 and got["09:15"]["talk_s"] == 60.0
    assert got["09:00"]["aht_s"] is None


def test_state_changed_during_a_call_applies_at_wrapup() -> None:
    timeline = replay(
        [
            ev.login("09:00"),
            ev.answer("09:01", "c1"),
            ev.aux("09:02", "break"),  # asked for a break mid-call: it waits for the wrap-up
            ev.end("09:03", "c1"),
            ev.wrap("09:04", "c1"),
            ev.logout("09:10"),
        ]
    )
    states = [(at_clock(s.start), s.state, s.reason) for s in timeline.segments]
    assert states == [
        ("09:00", "available", None),
        ("09:01", "talk", None),
        ("09:03", "acw", None),
        ("09:04", "aux", "break"),
    ]
    got = agent_fields(agent_buckets(timeline)[interval_of(to_us(at("09:00")))])
    assert got["aux_by_reason"] == {"break": 360.0}
    assert got["aux_ratio"] == pytest.approx(360 / 600)


def test_without_a_request_the_agent_is_available_after_wrapup() -> None:
    timeline = replay(
        [
            ev.login("09:00", state="aux", reason="meeting"),
            ev.ready("09:01"),
            ev.answer("09:02", "c1"),
            ev.end("09:03", "c1"),
            ev.wrap("09:04", "c1"),
        ],
        until=at("09:05"),
    )
    assert [s.state for s in timeline.segments] == ["aux", "available", "talk", "acw", "available"]
    assert timeline.segments[0].reason == "meeting"


def test_any_event_while_logged_out_logs_the_agent_in() -> None:
    timeline = replay([ev.answer("10:00", "c9"), ev.end("10:02", "c9")], until=at("10:03"))
    assert [(at_clock(s.start), s.state) for s in timeline.segments] == [
        ("10:00", "talk"),
        ("10:02", "acw"),
    ]
    mid_call = replay(
        [ev.hold("11:00", "c7"), ev.resume("11:01", "c7"), ev.wrap("11:03", "c7")],
        until=at("11:04"),
    )
    assert [s.state for s in mid_call.segments] == ["hold", "talk", "available"]
    assert mid_call.contacts[0].answered_at is None and mid_call.answers == []


def test_logout_mid_call_closes_the_contact_as_handled() -> None:
    timeline = replay([ev.login("09:00"), ev.answer("09:01", "c1"), ev.logout("09:04")])
    [contact] = timeline.contacts
    assert (contact.talk_us, contact.handled_at) == (180_000_000, to_us(at("09:04")))
    late_wrap = replay(
        [ev.login("09:00"), ev.answer("09:01", "c1"), ev.logout("09:04"), ev.wrap("09:05", "c1")],
        until=at("09:06"),
    )
    assert len(late_wrap.contacts) == 1
    assert late_wrap.segments[-1].state == "available"  # the late wrap-up logged them back in


def test_answer_during_acw_ends_the_previous_contact() -> None:
    timeline = replay(
        [
            ev.login("09:00"),
            ev.answer("09:01", "c1"),
            ev.end("09:02", "c1"),
            ev.answer("09:03", "c2"),
            ev.end("09:05", "c2"),
            ev.wrap("09:06", "c2"),
        ]
    )
    first, second = timeline.contacts
    assert (first.call_id, first.acw_us, first.handled_at) == ("c1", 60_000_000, to_us(at("09:03")))
    assert (second.call_id, second.talk_us, second.acw_us) == ("c2", 120_000_000, 60_000_000)


def test_same_timestamp_events_apply_in_lifecycle_order() -> None:
    events = [
        ev.wrap("09:05", "c1"),
        ev.end("09:05", "c1"),
        ev.answer("09:00", "c1"),
        ev.login("09:00"),
        ev.logout("09:05"),
    ]
    timeline = replay(events)
    assert [(at_clock(s.start), s.state) for s in timeline.segments] == [("09:00", "talk")]
    [contact] = timeline.contacts
    assert (contact.talk_us, contact.acw_us) == (300_000_000, 0)
    assert timeline.answers == [(to_us(at("09:00")), "c1")]


def test_quality_counts_where_it_happened_and_never_moves_the_state() -> None:
    events = [
        ev.login("09:00"),
        ev.survey("09:02", "c1", 5, fcr=True),
        ev.survey("09:03", "c2", 2),
        ev.survey("09:04", "c3", 4, fcr=False),
        ev.qa("09:05", "c1", 90),
        ev.qa("09:06", "c2", 70.5, errors=["greeting"]),
        ev.complaint("09:07", escalated=True),
        ev.complaint("09:08"),
        ev.tag("09:09", "c1", "abusive_customer"),
        ev.logout("09:10"),
    ]
    got = fields_by_interval(events)["09:00"]
    assert got["available_s"] == 600.0
    assert (got["csat_count"], got["csat_avg"], got["csat_top2"]) == (3, 11 / 3, 2 / 3)
    assert got["fcr_rate"] == 0.5
    assert (got["qa_count"], got["qa_avg"]) == (2, 80.25)
    assert (got["complaints"], got["escalated_complaints"]) == (2, 1)


def test_zero_denominators_are_null() -> None:
    got = fields_by_interval([ev.survey("09:02", "c1", 5)])["09:00"]
    for name in ("aht_s", "occupancy", "utilization", "aux_ratio", "fcr_rate", "qa_avg"):
        assert got[name] is None
    assert got["csat_avg"] == 5.0


def test_the_incremental_machine_refuses_older_events() -> None:
    machine = AgentMachine()
    machine.apply(ev.login("09:00"))
    machine.apply(ev.answer("09:05", "c1"))
    with pytest.raises(OutOfOrder):
        machine.apply(ev.aux("09:01", "break"))


def test_local_day_of_an_interval() -> None:
    late = to_us(at("23:45"))
    assert local_day(late, "UTC").isoformat() == "2026-11-23"
    assert local_day(late, "Asia/Shanghai").isoformat() == "2026-11-24"
    assert local_day(late, "Asia/Kathmandu").isoformat() == "2026-11-24"  # +05:45
