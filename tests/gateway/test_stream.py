"""The live stream, ``GET /v1/stream`` (Server-Sent Events): the hub on its own (pure asyncio),
then the whole gateway in front of the real services, with the real broker for care tasks."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import orjson
import pytest

from services.gateway.stream.changes import queue_changed, queue_snapshot
from services.gateway.stream.hub import Hub
from services.gateway.stream.schemas import QueueFigures
from services.gateway.stream.sse import HEARTBEAT, render
from services.gateway.stream.visibility import Audience, Kind, may_see
from shared.auth import Principal, Role

# --- who sees what ---------------------------------------------------------------------------


def who(pid: str, role: str, *teams: str) -> Principal:
    return Principal(id=pid, role=Role(role), team_ids=frozenset(teams))


AGENT_A1 = who("A1", "agent", "T1")
LEAD_T1 = who("L1", "team_lead", "T1")
LEAD_T2 = who("L2", "team_lead", "T2")
MANAGER = who("M", "manager")
ADMIN = who("AD", "admin")
OPS = who("OP", "ops")
QA = who("QA", "qa")
TRAINER = who("TR", "trainer")
A1_STATE = Audience(agent_id="A1", team_id="T1")
B1_STATE = Audience(agent_id="B1", team_id="T2")
TASK_A1 = Audience(agent_id="A1", team_id="T1", assignee_id="L1")
TASK_B1_FOR_L1 = Audience(agent_id="B1", team_id="T2", assignee_id="L1")


@pytest.mark.parametrize(
    ("principal", "a1", "b1", "queues", "task_a1", "task_b1_assigned_to_l1"),
    [
        (AGENT_A1, True, False, False, False, False),  # never their own care task
        (who("A2", "agent", "T1"), False, False, False, False, False),
        (LEAD_T1, True, False, True, True, True),
        (LEAD_T2, False, True, True, False, True),
        (MANAGER, True, True, True, True, True),
        (ADMIN, True, True, True, True, True),
        (OPS, True, True, True, False, False),
        (QA, True, True, True, False, False),
        (TRAINER, False, False, False, False, False),
        (who("L1", "ops"), True, True, True, False, False),  # assignee, but ops: never
    ],
)
def test_who_sees_which_event(principal, a1, b1, queues, task_a1, task_b1_assigned_to_l1):
    assert may_see(principal, Kind.AGENT_STATE, A1_STATE) is a1
    assert may_see(principal, Kind.AGENT_STATE, B1_STATE) is b1
    assert may_see(principal, Kind.QUEUE_SNAPSHOT, Audience()) is queues
    assert may_see(principal, Kind.CARE_TASK, TASK_A1) is task_a1
    assert may_see(principal, Kind.CARE_TASK, TASK_B1_FOR_L1) is task_b1_assigned_to_l1


def test_a_lead_never_sees_a_care_task_about_themselves():
    lead_as_subject = Audience(agent_id="L1", team_id="T1", assignee_id="L1")
    assert not may_see(LEAD_T1, Kind.CARE_TASK, lead_as_subject)
    assert may_see(MANAGER, Kind.CARE_TASK, lead_as_subject)


# --- the hub -----------------------------------------------------------------------------------


def hub(buffer_size: int = 100, max_pending: int = 10) -> Hub:
    return Hub(buffer_size=buffer_size, max_pending=max_pending)


def state(agent: str, team: str, value: str) -> tuple[Kind, dict, Audience]:
    data = {"agent_id": agent, "team_id": team, "state": value}
    return Kind.AGENT_STATE, data, Audience(agent_id=agent, team_id=team)


def publish(h: Hub, agent: str, team: str, value: str):
    kind, data, audience = state(agent, team, value)
    h.set_current(kind, agent, data, audience)
    return h.publish(kind, data, audience)


async def drain(subscription) -> list:
    """What the subscription has pending right now (without waiting)."""
    return await subscription.wait(0) or []


def kinds(events) -> list[str]:
    return [e.kind for e in events]


async def test_a_new_client_gets_a_snapshot_of_what_it_may_see_then_live_events():
    h = hub()
    publish(h, "A1", "T1", "available")
    publish(h, "B1", "T2", "aux")
    lead = h.subscribe(LEAD_T1)
    [snapshot] = await drain(lead)
    assert snapshot.kind == "snapshot"
    assert [a["agent_id"] for a in snapshot.data["agents"]] == ["A1"]
    assert f"id: {h.position}\n".encode() in snapshot.frame  # resumable from the snapshot
    publish(h, "B1", "T2", "available")
    publish(h, "A1", "T1", "talk")
    [live] = await drain(lead)
    assert (live.kind, live.data["agent_id"], live.data["state"]) == ("agent_state", "A1", "talk")
    assert live.frame.startswith(f"id: {h.epoch}-4\nevent: agent_state\ndata: ".encode())


async def test_resuming_replays_exactly_the_missed_events_the_client_may_see():
    h = hub()
    publish(h, "A1", "T1", "available")
    seen = publish(h, "A1", "T1", "talk")
    missed = [
        publish(h, "B1", "T2", "aux"),
        publish(h, "A1", "T1", "acw"),
        publish(h, "B1", "T2", "available"),
        publish(h, "A1", "T1", "available"),
    ]
    lead = h.subscribe(LEAD_T1, last_event_id=f"{h.epoch}-{seen.seq}")
    replay = await drain(lead)
    assert [e.seq for e in replay] == [missed[1].seq, missed[3].seq]
    manager = h.subscribe(MANAGER, last_event_id=f"{h.epoch}-{seen.seq}")
    assert [e.seq for e in await drain(manager)] == [e.seq for e in missed]
    # up to date: nothing to replay, no snapshot either
    current = h.subscribe(MANAGER, last_event_id=h.position)
    assert await drain(current) == []


@pytest.mark.parametrize(
    ("last_event_id", "reason"),
    [
        ("0123456789ab-3", "unknown_epoch"),  # another process's lifetime
        ("EPOCH-1", "too_far_behind"),  # evicted from the ring
        ("EPOCH-99", "unrecognised_id"),  # from the future
        ("garbage", "unrecognised_id"),
        ("EPOCH-x", "unrecognised_id"),
    ],
)
async def test_an_id_that_cannot_be_resumed_from_gets_a_reset_then_a_snapshot(
    last_event_id, reason
):
    h = hub(buffer_size=3)
    for value in ("available", "talk", "acw", "available", "aux"):
        publish(h, "A1", "T1", value)
    agent = h.subscribe(AGENT_A1, last_event_id=last_event_id.replace("EPOCH", h.epoch))
    reset, snapshot = await drain(agent)
    assert (reset.kind, reset.data) == ("reset", {"reason": reason})
    assert b"id:" not in reset.frame  # the client's last id stays until the snapshot's
    assert snapshot.kind == "snapshot"
    assert snapshot.data["agents"] == [{"agent_id": "A1", "team_id": "T1", "state": "aux"}]
    # the oldest id still in the ring is fine
    resumed = h.subscribe(AGENT_A1, last_event_id=f"{h.epoch}-2")
    assert [e.seq for e in await drain(resumed)] == [3, 4, 5]


async def test_a_slow_client_is_dropped_while_a_fast_one_gets_everything():
    h = hub(max_pending=5)
    fast, slow = h.subscribe(MANAGER), h.subscribe(MANAGER)
    await drain(fast)  # snapshot; the slow one never reads
    received = []

    async def read_fast() -> None:
        while True:
            events = await fast.wait(1)
            if events is None:
                return
            received.extend(e for e in events if e.kind == "agent_state")

    reader = asyncio.create_task(read_fast())
    for n in range(50):
        publish(h, "A1", "T1", f"state-{n}")
        await asyncio.sleep(0)  # the fast reader takes its turn, as a socket writer would
    assert h.subscribers == 1 and slow.closed
    [closing] = await slow.wait(0)  # what it had pending is gone: only the farewell
    assert (closing.kind, closing.data) == ("closing", {"reason": "too_slow"})
    assert await slow.wait(0) is None
    h.close()
    await asyncio.wait_for(reader, 1)
    assert [e.data["state"] for e in received] == [f"state-{n}" for n in range(50)]


async def test_publishing_never_waits_for_clients():
    h = hub(max_pending=1000)
    stuck = [h.subscribe(MANAGER) for _ in range(200)]
    loop = asyncio.get_running_loop()
    started = loop.time()
    for n in range(1000):
        publish(h, "A1", "T1", f"s{n}")
    assert loop.time() - started < 1.0
    assert all(s.pending == 1001 for s in stuck)


async def test_the_writer_sends_the_retry_hint_events_and_heartbeats_and_ends_with_the_hub():
    h = hub()
    subscription = h.subscribe(AGENT_A1)
    chunks = render(subscription, heartbeat_s=0.05, retry_ms=2500)
    assert await anext(chunks) == b"retry: 2500\n\n"
    assert b"event: snapshot\n" in await anext(chunks)
    assert await asyncio.wait_for(anext(chunks), 1) == HEARTBEAT
    publish(h, "A1", "T1", "talk")
    frame = await anext(chunks)
    assert orjson.loads(frame.split(b"data: ")[1])["state"] == "talk"
    h.close()
    assert await anext(chunks) == b'event: closing\ndata: {"reason":"server_stopping"}\n\n'
    with pytest.raises(StopAsyncIteration):
        await anext(chunks)
    assert h.subscribers == 0 and not h.watched.is_set()
    late = h.subscribe(AGENT_A1)
    assert kinds(await drain(late)) == ["closing"]


# --- what counts as a change -------------------------------------------------------------------

T = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def figures(**changes) -> QueueFigures:
    base = {
        "queue_id": "q1",
        "calls_waiting": 2,
        "longest_wait_s": 30.0,
        "service_level_today": 0.8,
        "offered_today": 10,
        "answered_today": 8,
        "abandoned_today": 0,
    }
    return QueueFigures.model_validate(base | changes)


def test_a_queue_whose_oldest_call_just_waits_longer_has_not_changed():
    before = queue_snapshot(figures(), T)
    assert before.oldest_waiting_since == T - timedelta(seconds=30)
    later = T + timedelta(seconds=5)
    assert not queue_changed(before, queue_snapshot(figures(longest_wait_s=35.4), later))
    # the oldest call was answered: the next one waits since later
    assert queue_changed(before, queue_snapshot(figures(longest_wait_s=12.0), later))
    assert queue_changed(before, queue_snapshot(figures(calls_waiting=3, longest_wait_s=35), later))
    assert queue_changed(
        before, queue_snapshot(figures(answered_today=9, longest_wait_s=35), later)
    )
    assert queue_changed(before, queue_snapshot(figures(calls_waiting=0, longest_wait_s=None), T))
    assert queue_changed(None, before)
