"""Ingest against a real database: batches in any order, with duplicates and late events,
leave exactly what a full replay of the event set computes."""

from __future__ import annotations

import random
from dataclasses import fields
from datetime import timedelta

import orjson
import pytest
from sqlalchemy import select

from services.metrics.domain.timeline import AgentState, OpenContact, replay, to_us
from services.metrics.ingest.models import (
    AgentAnswer,
    AgentContact,
    AgentSegment,
    AgentSnapshot,
    QueueCall,
    TeamMembership,
)
from services.metrics.ingest.service import (
    apply_cti_batch,
    apply_roster_batch,
    dump_state,
    load_state,
)
from services.metrics.rebuild import rebuild
from shared.events import EventType, make_event
from shared.events.roster import PersonSnapshot, TeamChanged
from tests.metrics.events import DAY, agent_events, at, event

ev = agent_events("a1")


def a_day() -> list:
    return [
        ev.login("08:58"),
        ev.answer("09:01", "c1"),
        ev.aux("09:02", "break"),
        ev.hold("09:03", "c1"),
        ev.resume("09:04", "c1"),
        ev.end("09:06", "c1"),
        ev.wrap("09:07", "c1"),
        ev.ready("09:20"),
        ev.answer("09:21", "c2"),
        ev.end("09:25", "c2"),
        ev.answer("09:26", "c3"),
        ev.end("09:29", "c3"),
        ev.wrap("09:31", "c3"),
        ev.logout("09:45"),
        ev.login("10:00", state="aux", reason="meeting"),
        ev.ready("10:30"),
        ev.answer("10:31", "c4"),
        ev.logout("10:33"),
        ev.login("11:00"),
    ]


async def stored(session) -> tuple[list, list, list, str]:
    segments = [
        (s.start_us, s.end_us, s.state, s.reason, s.call_id)
        for s in await session.scalars(select(AgentSegment).order_by(AgentSegment.start_us))
    ]
    contacts = [
        (c.call_id, c.answered_us, c.handled_us, c.talk_us, c.hold_us, c.acw_us)
        for c in await session.scalars(select(AgentContact).order_by(AgentContact.handled_us))
    ]
    answers = [
        (a.answered_us, a.call_id)
        for a in await session.scalars(select(AgentAnswer).order_by(AgentAnswer.answered_us))
    ]
    snapshot = await session.get(AgentSnapshot, "a1")
    return segments, contacts, answers, snapshot.state["state"]


def expected(events) -> tuple[list, list, list, str]:
    timeline = replay(events)
    return (
        [(s.start, s.end, s.state, s.reason, s.call_id) for s in timeline.segments],
        sorted(
            [
                (c.call_id, c.answered_at, c.handled_at, c.talk_us, c.hold_us, c.acw_us)
                for c in timeline.contacts
            ],
            key=lambda c: c[2],
        ),
        timeline.answers,
        timeline.state.state,
    )


async def test_in_order_batches_match_the_replay(mdb) -> None:
    events = a_day()
    for start in range(0, len(events), 4):
        await apply_cti_batch(mdb, events[start : start + 4])
    assert await stored(mdb) == expected(events)


@pytest.mark.parametrize("seed", range(6))
async def test_shuffled_duplicated_batches_match_the_replay(mdb, seed: int) -> None:
    rnd = random.Random(seed)
    events = a_day()
    delivered = events + rnd.sample(events, 6)
    rnd.shuffle(delivered)
    cursor = 0
    while cursor < len(delivered):
        size = rnd.randint(1, 5)
        await apply_cti_batch(mdb, delivered[cursor : cursor + size])
        cursor += size
    assert await stored(mdb) == expected(events)


async def test_a_late_event_recomputes_only_from_the_last_logout(mdb) -> None:
    events = a_day()
    late = ev.aux("10:10", "training")  # during the second session
    await apply_cti_batch(mdb, events)
    first_session = [s for s in (await stored(mdb))[0] if s[1] <= to_us(at("09:45"))]
    await apply_cti_batch(mdb, [late])
    segments, *_ = await stored(mdb)
    assert await stored(mdb) == expected([*events, late])
    assert [s for s in segments if s[1] <= to_us(at("09:45"))] == first_session
    assert ("aux", "training") in {(s[2], s[3]) for s in segments}


async def test_queue_outcomes_wait_for_their_offer(mdb) -> None:
    answer = event(
        EventType.CALL_ANSWERED, "09:00:30", call_id="q-c1", queue_id="q1", agent_id="a1"
    )
    abandon = event(EventType.CALL_ABANDONED, "09:00:40", call_id="q-c1", queue_id="q1")
    offer = event(EventType.CALL_OFFERED, "09:00:00", call_id="q-c1", queue_id="q1")
    await apply_cti_batch(mdb, [abandon])
    await apply_cti_batch(mdb, [answer])
    call = await mdb.get(QueueCall, "q-c1")
    assert (call.offered_us, call.outcome) == (None, "answered")
    await apply_cti_batch(mdb, [offer, offer])
    await mdb.refresh(call)
    assert (call.offered_us, call.outcome, call.outcome_us) == (
        to_us(at("09:00:00")),
        "answered",
        to_us(at("09:00:30")),
    )


async def test_membership_over_time_from_team_events(mdb) -> None:
    def changed(team: str, minutes: int, joined=(), left=()):
        data = TeamChanged(
            team_id=team,
            name=team,
            lead_id=None,
            member_ids=[],
            joined=list(joined),
            left=list(left),
            effective_at=DAY + timedelta(minutes=minutes),
        )
        return make_event(
            EventType.TEAM_CHANGED, data, source="roster", time=DAY + timedelta(minutes=minutes)
        )

    await apply_roster_batch(mdb, [changed("t1", 0, joined=["a1"])])
    await apply_roster_batch(
        mdb, [changed("t1", 60, left=["a1"]), changed("t2", 60, joined=["a1"])]
    )
    rows = (await mdb.scalars(select(TeamMembership).order_by(TeamMembership.valid_from))).all()
    assert [(r.team_id, r.valid_from, r.valid_to) for r in rows] == [
        ("t1", DAY, DAY + timedelta(minutes=60)),
        ("t2", DAY + timedelta(minutes=60), None),
    ]


async def test_rebuild_restores_derived_tables_from_the_event_store(mdb) -> None:
    events = a_day()
    queue = [
        event(EventType.CALL_OFFERED, "09:00:55", call_id="c1", queue_id="q1"),
        *[e for e in events if e.type == "cti.call.answered"],
    ]
    await apply_cti_batch(mdb, events + queue)
    before = await stored(mdb)
    calls_before = [
        (c.call_id, c.offered_us, c.outcome_us) for c in await mdb.scalars(select(QueueCall))
    ]
    for model in (AgentSegment, AgentContact, AgentAnswer, QueueCall):
        await mdb.execute(model.__table__.delete())
    agents, calls = await rebuild(mdb, at("00:00"), at("23:59"))
    assert (agents, calls) == (1, 4)
    assert await stored(mdb) == before
    calls_after = [
        (c.call_id, c.offered_us, c.outcome_us) for c in await mdb.scalars(select(QueueCall))
    ]
    assert sorted(calls_after) == sorted(calls_before)


async def test_a_person_entered_with_a_team_counts_for_it_since_their_hire(mdb) -> None:
    created = make_event(
        EventType.PERSON_CREATED,
        PersonSnapshot(
            person_id="p1",
            employee_no="A1",
            name="Li",
            role="agent",
            status="active",
            team_id="t1",
            hire_date=(DAY - timedelta(days=100)).date(),
        ),
        source="roster",
        time=DAY + timedelta(hours=12),
    )
    joined = make_event(
        EventType.TEAM_CHANGED,
        TeamChanged(
            team_id="t1",
            name="t1",
            lead_id=None,
            member_ids=["p1"],
            joined=["p1"],
            effective_at=DAY + timedelta(hours=12),
        ),
        source="roster",
        time=DAY + timedelta(hours=12),
    )
    await apply_roster_batch(mdb, [joined])  # the team event may come first
    await apply_roster_batch(mdb, [created])
    rows = (await mdb.scalars(select(TeamMembership))).all()
    assert [(r.team_id, r.valid_from, r.valid_to) for r in rows] == [
        ("t1", DAY - timedelta(days=100), None)
    ]


def test_a_snapshot_keeps_every_field_of_the_machine_state() -> None:
    state = AgentState(
        state="acw",
        since=5,
        contact=OpenContact("c1", answered_at=1, talk_us=2, hold_us=3, acw_us=4),
        after_contact=("aux", "break"),
        last_closed_call="c0",
        last_event=(5, 5, "e9"),
    )
    data = orjson.loads(orjson.dumps(dump_state(state)))
    assert set(data) == {f.name for f in fields(AgentState)}
    assert load_state(data) == state
