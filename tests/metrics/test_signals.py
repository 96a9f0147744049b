"""Signals against a real database: each rule fires once per episode, with its facts."""

from __future__ import annotations

from datetime import timedelta

import orjson
import pytest
from sqlalchemy import select

from services.metrics.db import OutboxMessage
from services.metrics.ingest.care_breaks import apply_care_batch
from services.metrics.ingest.service import apply_cti_batch, apply_roster_batch
from services.metrics.settings import MetricsSettings
from services.metrics.signals.service import scan
from shared.events import EventType, make_event
from shared.events.care import CareBreakGranted
from shared.events.roster import ScheduledActivity, SchedulePublished, TeamChanged
from tests.metrics.events import DAY, agent_events, at

SETTINGS = MetricsSettings(environment="test")


async def signals(mdb, kind: str | None = None) -> list[dict]:
    rows = await mdb.scalars(
        select(OutboxMessage.payload)
        .where(OutboxMessage.event_type == "metrics.signal.raised")
        .order_by(OutboxMessage.id)
    )
    found = [orjson.loads(r)["data"] for r in rows]
    return [s for s in found if kind is None or s["kind"] == kind]


async def apply(mdb, *events) -> None:
    await apply_cti_batch(mdb, list(events), SETTINGS)


def team_of(team: str, *people: str):
    data = TeamChanged(
        team_id=team,
        name=team,
        lead_id=None,
        member_ids=list(people),
        joined=list(people),
        effective_at=DAY - timedelta(days=30),
    )
    return make_event(EventType.TEAM_CHANGED, data, source="roster", time=DAY - timedelta(days=30))


def schedule(agent: str, *activities: tuple[str, str, str]):
    data = SchedulePublished(
        schedule_id=f"s-{agent}",
        agent_id=agent,
        team_id="t1",
        day=DAY.date(),
        timezone="UTC",
        version=1,
        activities=[ScheduledActivity(kind=k, start=at(s), end=at(e)) for k, s, e in activities],
    )
    return make_event(EventType.SCHEDULE_PUBLISHED, data, source="roster")


@pytest.fixture
async def team(mdb):
    await apply_roster_batch(mdb, [team_of("t1", "a1", "a2", "a3", "a4")])


async def test_hard_call_once_per_call_and_a_streak_once_per_spell(mdb, team) -> None:
    ev = agent_events("a1")
    first = ev.tag("09:00", "c1", "abusive_customer")
    await apply(mdb, first)
    await apply(mdb, ev.tag("09:01", "c1", "complaint"))  # the same call tagged again
    await apply(mdb, ev.tag("09:02", "c2", "vip"))  # not a hard call
    hard = await signals(mdb, "hard_call")
    assert [(s["agent_id"], s["team_id"], s["facts"]["call_id"]) for s in hard] == [
        ("a1", "t1", "c1")
    ]
    assert hard[0]["facts"]["tags"] == ["abusive_customer"]

    await apply(mdb, ev.tag("09:20", "c3", "escalation"), ev.tag("09:40", "c4", "abusive_customer"))
    await apply(mdb, ev.tag("09:50", "c5", "abusive_customer"))  # the same bad spell
    [streak] = await signals(mdb, "hard_call_streak")
    assert streak["facts"]["calls"] == ["c1", "c3", "c4"]
    assert len(await signals(mdb, "hard_call")) == 4


async def test_csat_drop_fires_on_entry_and_rearms(mdb, team) -> None:
    ev = agent_events("a2")
    for minute, score in enumerate([5, 2, 1, 2, 1]):
        await apply(mdb, ev.survey(f"10:{minute:02d}", f"s{minute}", score))
    assert len(await signals(mdb, "csat_drop")) == 1  # 2,1,2 dropped; 1,2,1 still down
    for minute, score in enumerate([5, 5, 5, 1, 1, 1], start=10):
        await apply(mdb, ev.survey(f"10:{minute:02d}", f"s{minute}", score))
    drops = await signals(mdb, "csat_drop")
    assert len(drops) == 2 and drops[1]["facts"]["last_scores"] == [1, 1, 1]


async def test_one_agents_mistake_becomes_the_teams_lesson(mdb, team) -> None:
    for n, agent in enumerate(["a1", "a2", "a3", "a4"]):
        ev = agent_events(agent)
        await apply(mdb, ev.qa(f"11:0{n}", f"q{n}", 60, errors=["greeting", f"other{n}"]))
    [pattern] = await signals(mdb, "team_qa_pattern")
    assert pattern["team_id"] == "t1"
    assert pattern["facts"]["error_category"] == "greeting"
    assert pattern["facts"]["agents"] == ["a1", "a2", "a3"]


async def test_late_login_against_the_published_schedule(mdb, team) -> None:
    await apply_roster_batch(mdb, [schedule("a1", ("work", "09:00", "17:00"))])
    ev = agent_events("a1")
    await apply(mdb, ev.login("09:07"))
    await apply(mdb, ev.logout("09:30"), ev.login("09:40"))  # a second login is not late
    [late] = await signals(mdb, "late_login")
    assert late["facts"]["late_s"] == 420.0


async def test_aht_drift_over_the_team_median(mdb, team) -> None:
    events = []
    for agent, minutes in (("a2", 5), ("a3", 5), ("a1", 10)):
        ev = agent_events(agent)
        events.append(ev.login("08:00"))
        for n in range(5):
            start = 8 * 60 + 5 + n * 15
            events += [
                ev.answer(f"{start // 60:02d}:{start % 60:02d}", f"{agent}-{n}"),
                ev.end(
                    f"{(start + minutes - 1) // 60:02d}:{(start + minutes - 1) % 60:02d}",
                    f"{agent}-{n}",
                ),
                ev.wrap(
                    f"{(start + minutes) // 60:02d}:{(start + minutes) % 60:02d}", f"{agent}-{n}"
                ),
            ]
    await apply(mdb, *events)
    [drift] = await signals(mdb, "aht_drift")
    assert drift["agent_id"] == "a1"
    assert drift["facts"]["rolling_aht_s"] == 600.0 and drift["facts"]["contacts"] == 5


async def test_scan_long_aux_absence_and_adherence(mdb, team) -> None:
    await apply_roster_batch(
        mdb,
        [
            schedule("a1", ("work", "09:00", "12:00")),
            schedule("a2", ("work", "09:00", "12:00")),
            schedule("a3", ("work", "09:00", "12:00")),
        ],
    )
    await apply(mdb, agent_events("a1").login("08:55"), agent_events("a1").aux("09:00", "break"))
    await apply(mdb, agent_events("a3").login("08:58"))
    await scan(mdb, SETTINGS, at("09:09"))
    assert await signals(mdb) == []
    await scan(mdb, SETTINGS, at("09:11"))  # on break 11 minutes into scheduled work
    assert [(s["kind"], s["agent_id"]) for s in await signals(mdb)] == [("adherence_breach", "a1")]
    await scan(mdb, SETTINGS, at("09:16"))  # a break past 15 minutes; a2 never logged in
    await scan(mdb, SETTINGS, at("09:20"))
    kinds = sorted((s["kind"], s["agent_id"]) for s in await signals(mdb))
    assert kinds == [("absent", "a2"), ("adherence_breach", "a1"), ("long_aux", "a1")]
    await apply(mdb, agent_events("a1").ready("09:21"))
    await scan(mdb, SETTINGS, at("09:25"))
    await apply(mdb, agent_events("a1").aux("09:26", "break"))
    await scan(mdb, SETTINGS, at("09:45"))  # a new break episode, and a new breach
    assert sorted(s["kind"] for s in await signals(mdb) if s["agent_id"] == "a1") == [
        "adherence_breach",
        "adherence_breach",
        "long_aux",
        "long_aux",
    ]


async def test_a_granted_care_break_is_no_adherence_breach_until_it_ends(mdb, team) -> None:
    await apply_roster_batch(mdb, [schedule("a1", ("work", "09:00", "12:00"))])
    await apply(
        mdb, agent_events("a1").login("08:55"), agent_events("a1").aux("09:30", "care_break")
    )
    granted = CareBreakGranted(
        record_id="r1", agent_id="a1", granted_by="lead", start=at("09:30"), end=at("09:45")
    )
    await apply_care_batch(mdb, [make_event(EventType.CARE_BREAK_GRANTED, granted, source="care")])
    await scan(mdb, SETTINGS, at("09:44"))
    await scan(mdb, SETTINGS, at("09:54"))  # 9 minutes past the grant
    assert await signals(mdb, "adherence_breach") == []
    await scan(mdb, SETTINGS, at("09:56"))  # 11 minutes past it
    [breach] = await signals(mdb, "adherence_breach")
    assert breach["facts"]["out_since"] == at("09:45").isoformat()


async def test_an_ungranted_care_break_is_out_of_adherence(mdb, team) -> None:
    await apply_roster_batch(mdb, [schedule("a1", ("work", "09:00", "12:00"))])
    await apply(
        mdb, agent_events("a1").login("08:55"), agent_events("a1").aux("09:30", "care_break")
    )
    await scan(mdb, SETTINGS, at("09:41"))
    [breach] = await signals(mdb, "adherence_breach")
    assert breach["facts"]["out_since"] == at("09:30").isoformat()


async def test_a_batch_raises_what_its_events_raise_one_at_a_time(mdb, team) -> None:
    await apply_roster_batch(
        mdb, [schedule(a, ("work", "09:00", "17:00")) for a in ("a1", "a2", "a3")]
    )
    a1, a2, a3, a4 = (agent_events(a) for a in ("a1", "a2", "a3", "a4"))
    events = [
        a2.login("08:50"),
        a1.login("09:07"),  # late
        a2.logout("09:10"),
        a1.tag("09:10", "c1", "abusive_customer"),
        a1.tag("09:11", "c1", "complaint"),
        a2.login("09:20"),  # not late: logged in before the shift
        a1.tag("09:20", "c2", "escalation"),
        a3.login("09:30"),  # late
        a1.tag("09:40", "c3", "abusive_customer"),
        a1.tag("09:45", "c4", "abusive_customer"),
        *(ev.qa(f"10:0{n}", f"q{n}", 60, errors=["greeting"]) for n, ev in enumerate((a1, a2, a4))),
        *(a2.survey(f"10:1{n}", f"s{n}", score) for n, score in enumerate((2, 1, 2))),
    ]

    async def raised(*batches: list) -> list[dict]:
        savepoint = await mdb.begin_nested()
        for batch in batches:
            await apply(mdb, *batch)
        found = await signals(mdb)
        await savepoint.rollback()
        return sorted(found, key=lambda s: s["episode"])

    one_at_a_time = await raised(*([e] for e in events))
    assert sorted((s["kind"], s.get("agent_id", "")) for s in one_at_a_time) == [
        ("csat_drop", "a2"),
        ("hard_call", "a1"),
        ("hard_call", "a1"),
        ("hard_call", "a1"),
        ("hard_call", "a1"),
        ("hard_call_streak", "a1"),
        ("late_login", "a1"),
        ("late_login", "a3"),
        ("team_qa_pattern", ""),
    ]
    assert await raised(events) == one_at_a_time
