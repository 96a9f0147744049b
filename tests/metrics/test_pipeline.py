"""The pipeline end to end on a real broker: events published to ``cti.events`` become the same
figures the pure replay computes — with two replicas in one consumer group, and across a
restart of the service in the middle of the stream."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer
from sqlalchemy import func, select

from services.metrics.app import create_app
from services.metrics.db import InboxMessage
from services.metrics.domain.timeline import replay
from services.metrics.ingest.models import AgentContact, AgentSegment
from services.metrics.settings import MetricsSettings
from shared.db import make_engine, make_sessionmaker
from shared.embedded import EmbeddedKafka, free_port
from shared.messaging.kafka import ensure_topics
from tests.metrics.events import agent_events

pytestmark = [pytest.mark.broker, pytest.mark.slow]


def traffic(agents: int = 6, seed: int = 11) -> list:
    """A realistic morning for a few agents: logins, calls with hold and ACW, breaks."""
    rnd = random.Random(seed)
    events = []
    for n in range(agents):
        ev = agent_events(f"agent-{n}")
        minute = rnd.randint(0, 10)
        events.append(ev.login(f"08:{minute:02d}"))
        for call in range(8):
            start = 9 * 60 + call * 20 + rnd.randint(0, 5)
            call_id = f"call-{n}-{call}"
            events.append(ev.answer(f"{start // 60:02d}:{start % 60:02d}", call_id))
            if rnd.random() < 0.3:
                events.append(ev.hold(f"{start // 60:02d}:{start % 60:02d}:30", call_id))
                events.append(ev.resume(f"{start // 60:02d}:{start % 60 + 1:02d}:10", call_id))
            end = start + rnd.randint(3, 8)
            events.append(ev.end(f"{end // 60:02d}:{end % 60:02d}", call_id))
            events.append(ev.wrap(f"{end // 60:02d}:{end % 60:02d}:45", call_id))
            if rnd.random() < 0.2:
                events.append(ev.aux(f"{end // 60:02d}:{end % 60 + 1:02d}", "break"))
                events.append(ev.ready(f"{end // 60:02d}:{end % 60 + 5:02d}"))
        events.append(ev.logout("12:30"))
    return events


@pytest.fixture
async def broker(tmp_path) -> AsyncIterator[str]:
    kafka = EmbeddedKafka(port=free_port(), log_dir=tmp_path)
    kafka.start()
    try:
        yield kafka.bootstrap_servers
    finally:
        kafka.stop()


async def publish(bootstrap: str, events: list) -> None:
    await ensure_topics(bootstrap, ["cti.events", "cti.events.dlq"], partitions=6)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        for event in events:
            await producer.send(
                "cti.events", value=event.to_json(), key=event.key.encode() if event.key else None
            )
        await producer.flush()
    finally:
        await producer.stop()


async def wait_applied(url: str, expected: int, timeout_s: float = 60) -> None:
    engine = make_engine(url, pool_size=1)
    try:
        deadline = asyncio.get_running_loop().time() + timeout_s
        while True:
            async with make_sessionmaker(engine)() as session:
                done = await session.scalar(select(func.count()).select_from(InboxMessage))
            if done >= expected:
                return
            assert asyncio.get_running_loop().time() < deadline, f"{done}/{expected} applied"
            await asyncio.sleep(0.2)
    finally:
        await engine.dispose()


async def derived(url: str) -> tuple[list, list]:
    engine = make_engine(url, pool_size=1)
    try:
        async with make_sessionmaker(engine)() as session:
            segments = [
                (s.agent_id, s.start_us, s.end_us, s.state, s.reason)
                for s in await session.scalars(
                    select(AgentSegment).order_by(AgentSegment.agent_id, AgentSegment.start_us)
                )
            ]
            contacts = [
                (c.agent_id, c.call_id, c.handled_us, c.talk_us, c.hold_us, c.acw_us)
                for c in await session.scalars(
                    select(AgentContact).order_by(AgentContact.agent_id, AgentContact.handled_us)
                )
            ]
        return segments, contacts
    finally:
        await engine.dispose()


def expected(events: list) -> tuple[list, list]:
    by_agent: dict[str, list] = {}
    for event in events:
        by_agent.setdefault(event.data.agent_id, []).append(event)
    segments, contacts = [], []
    for agent_id in sorted(by_agent):
        timeline = replay(by_agent[agent_id])
        segments += [(agent_id, s.start, s.end, s.state, s.reason) for s in timeline.segments]
        contacts += sorted(
            [
                (agent_id, c.call_id, c.handled_at, c.talk_us, c.hold_us, c.acw_us)
                for c in timeline.contacts
            ],
            key=lambda c: c[2],
        )
    return segments, contacts


def settings_for(url: str, bootstrap: str) -> MetricsSettings:
    return MetricsSettings(
        database_url=url, kafka_bootstrap_servers=bootstrap, environment="test", log_json=False
    )


async def test_two_replicas_compute_what_one_replay_computes(
    migrated_database: Any, broker: str
) -> None:
    url = await migrated_database("metrics", suffix="_replicas")
    events = traffic()
    delivered = events + random.Random(3).sample(events, 40)  # at-least-once duplicates
    async with AsyncExitStack() as stack:
        for _ in range(2):
            app = create_app(settings_for(url, broker))
            await stack.enter_async_context(app.router.lifespan_context(app))
        await publish(broker, delivered)
        await wait_applied(url, len(events))
    assert await derived(url) == expected(events)


async def test_restart_mid_stream_changes_nothing(migrated_database: Any, broker: str) -> None:
    url = await migrated_database("metrics", suffix="_restart")
    events = traffic(seed=5)
    shuffled = list(events)
    random.Random(9).shuffle(shuffled)  # late events included
    half = len(shuffled) // 2
    app = create_app(settings_for(url, broker))
    async with app.router.lifespan_context(app):
        await publish(broker, shuffled[:half])
        await wait_applied(url, half)
    app = create_app(settings_for(url, broker))
    async with app.router.lifespan_context(app):
        await publish(broker, shuffled[half:] + shuffled[:10])  # and some redelivered
        await wait_applied(url, len(events))
    assert await derived(url) == expected(events)
