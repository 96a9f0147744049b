"""The live stream, ``GET /v1/stream`` (Server-Sent Events): the hub on its own (pure asyncio),
then the whole gateway in front of the real services, with the real broker for care tasks."""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import httpx
import orjson
import pytest
import uvicorn
from aiokafka import AIOKafkaProducer, ConsumerRecord
from fastapi import FastAPI
from sqlalchemy import select

from services.care.db import OutboxMessage
from services.care.tasks import triggers
from services.gateway.app import create_app as create_gateway
from services.gateway.settings import GatewaySettings
from services.gateway.stream.changes import queue_changed, queue_snapshot
from services.gateway.stream.hub import Hub
from services.gateway.stream.response import EventStreamResponse
from services.gateway.stream.schemas import QueueFigures
from services.gateway.stream.sources import CareTaskFeed
from services.gateway.stream.sse import HEARTBEAT, render
from services.gateway.stream.visibility import Audience, Kind, may_see
from services.metrics.ingest.service import apply_cti_batch
from shared.auth import Principal, Role
from shared.embedded import free_port
from shared.events import CloudEvent, EventType, make_event
from shared.events.care import CareRecordCreated, CareTaskChanged
from shared.events.cti import (
    AgentLoggedIn,
    AgentStateChanged,
    CallAnswered,
    CallEnded,
    CallOffered,
)
from shared.events.signals import SignalRaised
from tests.conftest import wire_app
from tests.gateway.conftest import in_process

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


async def test_a_stream_ends_when_its_token_expires():
    started = time.time()
    chunks = render(
        hub().subscribe(AGENT_A1), heartbeat_s=0.05, retry_ms=2500, expires_at=started + 0.12
    )
    assert await anext(chunks) == b"retry: 2500\n\n"
    assert b"event: snapshot\n" in await anext(chunks)
    rest = [chunk async for chunk in chunks]
    assert time.time() >= started + 0.12
    assert rest[-1] == b'event: closing\ndata: {"reason":"token_expired"}\n\n'
    assert set(rest[:-1]) == {HEARTBEAT}  # quiet until then


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


def care_record(offset: int, value: bytes) -> ConsumerRecord:
    return ConsumerRecord("care.events", 0, offset, 0, 0, None, value, None, 0, len(value), [])


async def test_the_care_feed_pushes_each_task_change_once_and_skips_the_rest():
    h = hub()
    manager = h.subscribe(MANAGER)
    feed = CareTaskFeed(h, GatewaySettings(environment="test"))
    due = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
    task = CareTaskChanged(
        task_id="t1",
        rule="hard_call",
        status="done",
        agent_id="A1",
        team_id="T1",
        assignee_id="L1",
        urgent=True,
        due_at=due,
    )
    closed = make_event(EventType.CARE_TASK_CLOSED, task, source="care")
    record = make_event(
        EventType.CARE_RECORD_CREATED,
        CareRecordCreated(
            record_id="r1", agent_id="A1", kind="note", category="x", occurred_at=due
        ),
        source="care",
    )
    feed.apply(
        [
            care_record(0, closed.to_json()),
            care_record(1, b"not json"),
            care_record(2, record.to_json()),
            care_record(3, closed.to_json()),  # delivered again
        ]
    )
    _snapshot, *events = await drain(manager)
    assert [(e.kind, e.data["task_id"], e.data["change"]) for e in events] == [
        ("care_task", "t1", "closed")
    ]
    assert events[0].audience == Audience(agent_id="A1", team_id="T1", assignee_id="L1")


# --- the whole gateway, in front of the real services --------------------------------------------


class MetricsLink(httpx.AsyncBaseTransport):
    """The gateway's way to metrics. Metrics' test app shares one rolled-back session with the
    test, so the poller's requests and the test's own writes into it take turns; and the link
    can be cut (``away``)."""

    def __init__(self, inner: httpx.AsyncBaseTransport, turn: asyncio.Lock) -> None:
        self.inner = inner
        self.turn = turn
        self.away = False

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self.away:
            raise httpx.ConnectError("connection refused", request=request)
        async with self.turn:
            return await self.inner.handle_async_request(request)


@dataclass
class Floor:
    """The gateway app with its stream running, and a way to change the floor in metrics."""

    app: FastAPI
    stack: Any
    turn: asyncio.Lock
    metrics: MetricsLink
    clock: itertools.count = field(default_factory=lambda: itertools.count(1))

    @property
    def hub(self) -> Hub:
        return self.app.state.stream.hub

    async def cti(self, *events: CloudEvent) -> None:
        """Apply CTI events through the real metrics pipeline, as its consumer would."""
        async with self.turn:
            session = self.stack.sessions["metrics"]
            await apply_cti_batch(session, list(events))
            await session.flush()

    def event(self, type_: EventType, data: Any) -> CloudEvent:
        """An event a little after the previous one (metrics orders by event time)."""
        at = START + timedelta(seconds=next(self.clock))
        return make_event(type_, data, source="pbx-test", time=at)

    def headers(self, who: str, role: str, *teams: str) -> dict[str, str]:
        return self.stack.headers(who, role, list(teams))

    def token(self, who: str, role: str, *teams: str) -> str:
        return self.headers(who, role, *teams)["Authorization"].split()[1]


NOW = datetime.now(UTC).replace(microsecond=0)
START = max(NOW - timedelta(minutes=30), NOW.replace(hour=0, minute=0, second=0))
"""Today (the queue figures count from midnight, the center's time zone being UTC)."""


@asynccontextmanager
async def running_gateway(stack, stack_engines, **overrides: Any) -> AsyncIterator[Floor]:
    settings = stack.settings["gateway"].model_copy(
        update={"stream_poll_interval_s": 0.05, "stream_heartbeat_s": 0.2} | overrides
    )
    turn = asyncio.Lock()
    links: list[MetricsLink] = []

    def wrap(service: str, transport: httpx.AsyncBaseTransport) -> httpx.AsyncBaseTransport:
        if service != "metrics":
            return transport
        links.append(MetricsLink(transport, turn))
        return links[-1]

    app = create_gateway(settings, transport=in_process(stack, wrap))
    wire_app(app, settings, stack_engines["gateway"], stack.sessions["gateway"])
    async with app.router.lifespan_context(app):
        [metrics] = links
        yield Floor(app=app, stack=stack, turn=turn, metrics=metrics)


@pytest.fixture
async def floor(stack, stack_engines) -> AsyncIterator[Floor]:
    async with running_gateway(stack, stack_engines) as running:
        yield running


@dataclass
class Frame:
    kind: str
    id: str | None = None
    data: Any = None


def parse(block: bytes) -> Frame:
    text = block.decode()
    if text.startswith(":"):
        return Frame("heartbeat" if text == ": heartbeat" else "comment")
    fields = dict(line.split(": ", 1) for line in text.split("\n"))
    if "retry" in fields:
        return Frame("retry", data=int(fields["retry"]))
    return Frame(fields["event"], fields.get("id"), orjson.loads(fields["data"]))


class StreamClient:
    """A client of ``GET /v1/stream`` driving the ASGI app directly (httpx's ASGITransport
    would wait for the end of an endless body). Leaving the block disconnects."""

    def __init__(self, app: FastAPI, headers: dict[str, str], query: dict[str, str]) -> None:
        self.app = app
        self.headers = [(k.lower().encode(), v.encode()) for k, v in headers.items()]
        self.query = urlencode(query).encode()
        self.started: asyncio.Future[dict] = asyncio.get_running_loop().create_future()
        self.chunks: asyncio.Queue[bytes | None] = asyncio.Queue()
        self.buffer = b""
        self.asked = False
        self.gone = asyncio.Event()

    async def receive(self) -> dict:
        if not self.asked:
            self.asked = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await self.gone.wait()
        return {"type": "http.disconnect"}

    async def send(self, message: dict) -> None:
        if message["type"] == "http.response.start":
            self.started.set_result(message)
        elif message["type"] == "http.response.body":
            self.chunks.put_nowait(message.get("body", b""))
            if not message.get("more_body", False):
                self.chunks.put_nowait(None)

    async def __aenter__(self) -> StreamClient:
        scope = {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.4"},
            "http_version": "1.1",
            "method": "GET",
            "scheme": "http",
            "path": "/v1/stream",
            "raw_path": b"/v1/stream",
            "root_path": "",
            "query_string": self.query,
            "headers": [(b"host", b"gateway"), *self.headers],
            "client": ("127.0.0.1", 50000),
            "server": ("gateway", 80),
        }
        self.task = asyncio.create_task(self.app(scope, self.receive, self.send))
        start = await asyncio.wait_for(self.started, 5)
        self.status = start["status"]
        self.response_headers = {k.decode(): v.decode() for k, v in start["headers"]}
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.gone.set()
        await asyncio.wait_for(self.task, 5)

    async def next(self, timeout_s: float = 5) -> Frame | None:
        """The next frame, ``None`` once the response ended."""
        while b"\n\n" not in self.buffer:
            chunk = await asyncio.wait_for(self.chunks.get(), timeout_s)
            if chunk is None:
                return None
            self.buffer += chunk
        block, self.buffer = self.buffer.split(b"\n\n", 1)
        return parse(block)

    async def events(self, until: Any, timeout_s: float = 5) -> list[Frame]:
        """Every event (not heartbeats) up to and including the first for which ``until``
        holds."""
        seen = []
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while True:
            frame = await self.next(max(deadline - loop.time(), 0.01))
            assert frame is not None, f"the stream ended; seen {seen}"
            if frame.kind in ("heartbeat", "retry"):
                continue
            seen.append(frame)
            if until(frame):
                return seen

    async def snapshot(self) -> Frame:
        [retry, snapshot] = [await self.next(), await self.next()]
        assert retry is not None and retry.kind == "retry"
        assert snapshot is not None and snapshot.kind == "snapshot", snapshot
        return snapshot


def connect(
    floor: Floor,
    who: str,
    role: str,
    *teams: str,
    last_event_id: str | None = None,
    in_query: bool = False,
) -> StreamClient:
    headers: dict[str, str] = {}
    query: dict[str, str] = {}
    if in_query:
        query["access_token"] = floor.token(who, role, *teams)
    else:
        headers |= floor.headers(who, role, *teams)
    if last_event_id is not None:
        headers["Last-Event-ID"] = last_event_id
    return StreamClient(floor.app, headers, query)


def agent_ids(frames: list[Frame]) -> list[str]:
    return [f.data["agent_id"] for f in frames if f.kind == "agent_state"]


def is_state(agent: str, state: str):
    return lambda f: (
        f.kind == "agent_state" and f.data["agent_id"] == agent and (f.data["state"] == state)
    )


def login(floor: Floor, agent: str) -> CloudEvent:
    return floor.event(EventType.AGENT_LOGGED_IN, AgentLoggedIn(agent_id=agent))


def aux(floor: Floor, agent: str, reason: str) -> CloudEvent:
    return floor.event(
        EventType.AGENT_STATE_CHANGED,
        AgentStateChanged(agent_id=agent, state="aux", reason=reason),
    )


async def test_each_caller_sees_only_their_scope_and_changes_arrive_as_metrics_applies_them(
    floor,
):
    await floor.cti(
        login(floor, "A1"),
        login(floor, "A2"),
        login(floor, "B1"),
        floor.event(EventType.CALL_OFFERED, CallOffered(call_id="c1", queue_id="q1")),
    )
    async with (
        connect(floor, "A1", "agent", "T1") as agent,
        connect(floor, "L1", "team_lead", "T1") as lead,
        connect(floor, "OP", "ops") as ops,
        connect(floor, "TR", "trainer") as trainer,
    ):
        assert agent.status == 200
        assert agent.response_headers["content-type"].startswith("text/event-stream")
        snapshots = {
            name: (await client.snapshot()).data
            for name, client in (("agent", agent), ("lead", lead), ("ops", ops), ("tr", trainer))
        }
        assert agent_ids([Frame("agent_state", data=a) for a in snapshots["ops"]["agents"]]) == [
            "A1",
            "A2",
            "B1",
        ]
        assert [a["agent_id"] for a in snapshots["lead"]["agents"]] == ["A1", "A2"]
        assert [a["agent_id"] for a in snapshots["agent"]["agents"]] == ["A1"]
        assert snapshots["tr"]["agents"] == [] and snapshots["tr"]["queues"] == []
        assert snapshots["agent"]["queues"] == []  # queue figures: floor management only
        [q1] = snapshots["ops"]["queues"]
        assert (q1["queue_id"], q1["calls_waiting"]) == ("q1", 1)
        assert snapshots["lead"]["queues"] == snapshots["ops"]["queues"]
        assert snapshots["agent"]["agents"][0]["state"] == "available"

        # A1 answers the waiting call while B1 takes a break, then A1 hangs up
        await floor.cti(
            floor.event(
                EventType.CALL_ANSWERED, CallAnswered(call_id="c1", queue_id="q1", agent_id="A1")
            ),
            aux(floor, "B1", "break"),
        )
        ops_saw = await ops.events(until=is_state("A1", "talk"))
        await floor.cti(floor.event(EventType.CALL_ENDED, CallEnded(call_id="c1", agent_id="A1")))
        ops_saw += await ops.events(until=is_state("A1", "acw"))
        lead_saw = await lead.events(until=is_state("A1", "acw"))
        agent_saw = await agent.events(until=is_state("A1", "acw"))
        talk = next(f for f in ops_saw if f.kind == "agent_state" and f.data["state"] == "talk")
        assert talk.data == {
            "agent_id": "A1",
            "team_id": "T1",
            "state": "talk",
            "reason": None,
            "since": talk.data["since"],
            "call_id": "c1",
        }
        assert talk.id is not None and talk.id.startswith(floor.hub.epoch + "-")
        assert sorted(agent_ids(ops_saw)) == ["A1", "A1", "B1"]
        assert agent_ids(lead_saw) == ["A1", "A1"]  # B1's break went by without them
        assert agent_ids(agent_saw) == ["A1", "A1"]
        answered = next(f for f in ops_saw if f.kind == "queue_snapshot")
        assert (answered.data["calls_waiting"], answered.data["answered_today"]) == (0, 1)
        assert any(f.kind == "queue_snapshot" for f in lead_saw)
        assert not any(f.kind == "queue_snapshot" for f in agent_saw)
        # the trainer saw nothing at all, only heartbeats
        frame = await trainer.next()
        assert frame is not None and frame.kind == "heartbeat"
        assert trainer.buffer == b"" and trainer.chunks.empty()


async def eventually(check: Any, timeout_s: float, what: str) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while not check():
        assert loop.time() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.02)


async def test_a_reconnecting_client_gets_exactly_what_it_missed_or_starts_over(floor):
    await floor.cti(login(floor, "A1"), login(floor, "A2"), login(floor, "B1"))
    async with connect(floor, "L1", "team_lead", "T1") as lead:
        await lead.snapshot()
        await floor.cti(aux(floor, "A1", "break"))
        *_, seen = await lead.events(until=is_state("A1", "aux"))
    assert floor.hub.subscribers == 0
    # while nobody watches (the poller idles) the floor moves on
    await floor.cti(aux(floor, "A2", "lunch"), aux(floor, "B1", "meeting"))
    await floor.cti(
        floor.event(
            EventType.AGENT_STATE_CHANGED, AgentStateChanged(agent_id="A1", state="available")
        )
    )
    missing = {("A1", "available"), ("A2", "aux")}

    def all_missed_arrived(frame: Frame) -> bool:
        missing.discard((frame.data.get("agent_id"), frame.data.get("state")))
        return not missing

    assert seen.id is not None
    async with connect(floor, "L1", "team_lead", "T1", last_event_id=seen.id) as lead:
        retry = await lead.next()
        assert retry is not None and retry.kind == "retry"
        replayed = await lead.events(until=all_missed_arrived)
    assert [f.kind for f in replayed] == ["agent_state", "agent_state"]  # no snapshot, no B1
    epoch, seq = seen.id.split("-")
    assert all(
        f.id and f.id.split("-")[0] == epoch and int(f.id.split("-")[1]) > int(seq)
        for f in replayed
    )

    # an id from another gateway lifetime: start over
    async with connect(floor, "L1", "team_lead", "T1", last_event_id="0123456789ab-7") as lead:
        assert (await lead.next()).kind == "retry"  # type: ignore[union-attr]
        reset, snapshot = await lead.next(), await lead.next()
    assert reset is not None and (reset.kind, reset.data) == ("reset", {"reason": "unknown_epoch"})
    assert snapshot is not None and snapshot.kind == "snapshot"
    assert {(a["agent_id"], a["state"], a["reason"]) for a in snapshot.data["agents"]} == {
        ("A1", "available", None),
        ("A2", "aux", "lunch"),
    }


@pytest.mark.broker
async def test_a_care_task_the_care_service_opens_reaches_its_leads_and_managers_only(
    floor, stack, kafka_bootstrap
):
    feed = floor.app.state.stream.care_tasks
    await eventually(lambda: feed.ready, 20, "the care.events feed")
    care = stack.sessions["care"]
    detected = datetime.now(UTC)
    signals = [
        make_event(
            EventType.SIGNAL_RAISED,
            SignalRaised(
                kind="hard_call",
                episode=f"call-{agent}",
                agent_id=agent,
                team_id=team,
                detected_at=detected,
                facts={"call_id": f"call-{agent}", "tags": ["abusive_customer"]},
            ),
            source="metrics",
        )
        for agent, team in (("A1", "T1"), ("B1", "T2"))
    ]
    async with (
        connect(floor, "L1", "team_lead", "T1") as lead,
        connect(floor, "L2", "team_lead", "T2") as other_lead,
        connect(floor, "M", "manager") as manager,
        connect(floor, "OP", "ops") as ops,
        connect(floor, "A1", "agent", "T1") as agent,
    ):
        for client in (lead, other_lead, manager, ops, agent):
            await client.snapshot()
        await triggers.apply_signal_batch(care, signals, stack.settings["care"])
        await care.flush()
        rows = await care.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.event_type == "care.task.opened")
            .order_by(OutboxMessage.id)
        )
        opened = [r for r in rows if orjson.loads(r.payload)["data"]["rule"] == "hard_call"]
        assert len(opened) == 2
        # what care's outbox relay does with them: publish each row as it is
        producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all")
        await producer.start()
        try:
            for row in opened:
                await producer.send_and_wait(row.topic, row.payload, key=(row.key or "").encode())
        finally:
            await producer.stop()

        def is_task(agent_id: str):
            return lambda f: f.kind == "care_task" and f.data["agent_id"] == agent_id

        [a1_task] = await lead.events(until=is_task("A1"), timeout_s=10)
        assert a1_task.data == {
            "task_id": a1_task.data["task_id"],
            "change": "opened",
            "status": "open",
            "rule": "hard_call",
            "agent_id": "A1",
            "team_id": "T1",
            "assignee_id": "L1",
            "urgent": True,
            "due_at": a1_task.data["due_at"],
            "at": a1_task.data["at"],
        }  # ids, kind and times: no facts, no suggested action, no notes
        [b1_task] = await other_lead.events(until=lambda f: f.kind == "care_task", timeout_s=10)
        assert b1_task.data["agent_id"] == "B1"  # never A1's
        waiting_for = {"A1", "B1"}  # on two partitions: in either order

        def both_tasks(frame: Frame) -> bool:
            if frame.kind == "care_task":
                waiting_for.discard(frame.data["agent_id"])
            return not waiting_for

        tasks = await manager.events(until=both_tasks, timeout_s=10)
        assert sorted(f.data["agent_id"] for f in tasks) == ["A1", "B1"]

        # the next changes they may see come after both tasks: nothing about A1's task before
        await floor.cti(aux(floor, "A1", "coaching"), aux(floor, "B1", "coaching"))
        for client, marker in ((ops, "B1"), (agent, "A1"), (other_lead, "B1")):
            frames = await client.events(until=is_state(marker, "aux"))
            assert not [f for f in frames if f.kind == "care_task"]


async def test_browsers_pass_the_token_in_the_query_and_it_is_never_logged(floor, caplog):
    token = floor.token("L1", "team_lead", "T1")
    with caplog.at_level(logging.INFO):
        async with connect(floor, "L1", "team_lead", "T1", in_query=True) as lead:
            assert lead.status == 200
            await lead.snapshot()
            heartbeat = await lead.next(timeout_s=2)
            assert heartbeat is not None and heartbeat.kind == "heartbeat"
        for query in ({}, {"access_token": "not-a-token"}, {"access_token": ""}):
            async with StreamClient(floor.app, {}, query) as refused:
                assert refused.status == 401
                assert refused.response_headers["content-type"] == "application/problem+json"
    logged = "\n".join(str(record.msg) for record in caplog.records)
    assert "/v1/stream" in logged
    assert token not in logged and "not-a-token" not in logged


async def test_leaving_clients_are_forgotten_at_once_and_stopping_ends_every_stream(
    stack, stack_engines
):
    async with running_gateway(stack, stack_engines, stream_heartbeat_s=60) as floor:
        async with connect(floor, "M", "manager") as leaving:
            await leaving.snapshot()
            assert floor.hub.subscribers == 1 and floor.hub.watched.is_set()
        # no heartbeat had to fail: the disconnect itself removed it
        assert floor.hub.subscribers == 0 and not floor.hub.watched.is_set()
        staying = await connect(floor, "M", "manager").__aenter__()
        await staying.snapshot()
    closing = await staying.next()
    assert closing is not None and (closing.kind, closing.data) == (
        "closing",
        {"reason": "server_stopping"},
    )
    assert await staying.next() is None  # the response is complete
    await asyncio.wait_for(staying.task, 1)


async def test_over_a_real_socket_with_uvicorn(stack, stack_engines):
    async with running_gateway(stack, stack_engines) as floor:
        await floor.cti(login(floor, "A1"))
        port = free_port()
        server = uvicorn.Server(
            uvicorn.Config(floor.app, host="127.0.0.1", port=port, lifespan="off", log_config=None)
        )
        serving = asyncio.create_task(server.serve())
        try:
            await eventually(lambda: server.started, 10, "uvicorn")
            token = floor.token("A1", "agent", "T1")
            async with (
                httpx.AsyncClient(timeout=5) as client,
                client.stream(
                    "GET", f"http://127.0.0.1:{port}/v1/stream", params={"access_token": token}
                ) as response,
            ):
                assert response.status_code == 200
                assert response.headers["cache-control"] == "no-cache"
                lines = response.aiter_lines()
                assert await anext(lines) == "retry: 3000"
                assert await anext(lines) == ""
                assert (await anext(lines)).startswith(f"id: {floor.hub.epoch}-")
                assert await anext(lines) == "event: snapshot"
                snapshot = orjson.loads((await anext(lines)).removeprefix("data: "))
                assert [a["agent_id"] for a in snapshot["agents"]] == ["A1"]
                assert floor.hub.subscribers == 1
            await eventually(lambda: floor.hub.subscribers == 0, 2, "the hub to forget the client")
        finally:
            server.should_exit = True
            await asyncio.wait_for(serving, 5)


async def test_a_stream_opens_while_metrics_is_away_and_fills_in_when_it_returns(floor):
    await floor.cti(login(floor, "A1"))
    floor.metrics.away = True
    async with connect(floor, "L1", "team_lead", "T1") as lead:
        snapshot = await lead.snapshot()
        assert snapshot.data == {"as_of": None, "agents": [], "queues": []}
        floor.metrics.away = False
        [back] = await lead.events(until=is_state("A1", "available"))
        assert back.id is not None


async def test_a_client_that_stops_taking_writes_is_let_go_after_the_send_timeout():
    closed = []

    async def endless() -> AsyncIterator[bytes]:
        while True:
            yield HEARTBEAT
            await asyncio.sleep(0)

    async def full_socket(message: dict) -> None:
        if message["type"] == "http.response.body":
            await asyncio.Event().wait()  # the client's buffer is full and stays full

    async def no_news() -> dict:
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    response = EventStreamResponse(
        endless(), send_timeout_s=0.05, on_close=lambda: closed.append(True)
    )
    scope = {"type": "http", "asgi": {"version": "3.0", "spec_version": "2.4"}}
    await asyncio.wait_for(response(scope, no_news, full_socket), 2)
    assert closed == [True]
