"""The idempotent inbox against a real broker and a real PostgreSQL.

A test-only table records each applied event; the inbox must make every id count once however
often it is delivered, and poison records must land in ``<topic>.dlq`` with their reason.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator

import orjson
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from prometheus_client import REGISTRY
from sqlalchemy import String, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.db import make_engine, make_sessionmaker, new_metadata
from shared.events import CloudEvent, EventType, make_event
from shared.events.cti import AgentLoggedIn
from shared.messaging.inbox import InboxConsumer, InboxMixin
from shared.messaging.kafka import ensure_topics
from tests.conftest import drop_database, recreate_database

pytestmark = pytest.mark.broker


class Base(DeclarativeBase):
    metadata = new_metadata()


class TestInbox(InboxMixin, Base):
    __test__ = False


class Applied(Base):
    __tablename__ = "applied"
    event_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    agent_id: Mapped[str] = mapped_column(String(200))


@pytest.fixture(scope="module")
async def sessionmaker(pg_server_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    name = f"callpulse_test_inbox_{os.getpid()}"
    url = await recreate_database(pg_server_url, name)
    engine = make_engine(url, pool_size=2)
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    yield make_sessionmaker(engine)
    await engine.dispose()
    await drop_database(pg_server_url, name)


@pytest.fixture
async def clean(sessionmaker) -> None:
    async with sessionmaker() as session, session.begin():
        await session.execute(Applied.__table__.delete())
        await session.execute(TestInbox.__table__.delete())


async def record_applied(session: AsyncSession, events: list[CloudEvent]) -> None:
    for event in events:
        if event.data.agent_id == "explodes":
            raise RuntimeError("handler cannot cope with this agent")
        # A plain INSERT: a second application of the same id would violate the key.
        session.add(Applied(event_id=event.id, agent_id=event.data.agent_id))
    await session.flush()


def login(agent: str, id: str | None = None) -> CloudEvent:
    return make_event(
        EventType.AGENT_LOGGED_IN, AgentLoggedIn(agent_id=agent), source="test", id=id
    )


def new_consumer(
    topic: str, group: str, bootstrap: str, sessionmaker, handler=record_applied
) -> InboxConsumer:
    return InboxConsumer(
        name=group,
        topics=[topic],
        group_id=group,
        bootstrap_servers=bootstrap,
        sessionmaker=sessionmaker,
        inbox_model=TestInbox,
        handler=handler,
        partitions=3,
        max_wait_ms=50,
    )


async def produce(bootstrap: str, topic: str, values: list[bytes]) -> None:
    await ensure_topics(bootstrap, [topic, f"{topic}.dlq"], partitions=3)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        for value in values:
            await producer.send_and_wait(topic, value=value, key=b"k")
    finally:
        await producer.stop()


async def read_all(bootstrap: str, topic: str, expected: int, timeout_s: float = 15) -> list:
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", group_id=None
    )
    await consumer.start()
    records: list = []
    try:
        deadline = asyncio.get_running_loop().time() + timeout_s
        while len(records) < expected and asyncio.get_running_loop().time() < deadline:
            batch = await consumer.getmany(timeout_ms=200)
            for part in batch.values():
                records.extend(part)
    finally:
        await consumer.stop()
    return records


async def applied_ids(sessionmaker) -> list[str]:
    async with sessionmaker() as session:
        return sorted(await session.scalars(select(Applied.event_id)))


async def wait_for(predicate, timeout_s: float = 20) -> None:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not await predicate():
        assert asyncio.get_running_loop().time() < deadline, "condition not reached in time"
        await asyncio.sleep(0.1)


async def test_each_id_applied_once_and_poison_dead_lettered(
    kafka_bootstrap: str, sessionmaker, clean
) -> None:
    topic = f"test.inbox.{uuid.uuid4().hex[:8]}"
    events = [login(f"a{i}", id=f"e{i}") for i in range(5)]
    values = [e.to_json() for e in events]
    values += [events[0].to_json(), events[3].to_json()]  # at-least-once duplicates
    values += [
        b"{not json",
        orjson.dumps(
            {
                "specversion": "1.0",
                "id": "x",
                "type": "cti.agent.logged_in",
                "source": "s",
                "time": "2026-11-22T09:00:00Z",
                "data": {},
            }
        ),
    ]
    await produce(kafka_bootstrap, topic, values)

    consumer = new_consumer(topic, f"g-{topic}", kafka_bootstrap, sessionmaker)
    await consumer.start()
    try:

        async def all_applied() -> bool:
            return len(await applied_ids(sessionmaker)) == 5

        await wait_for(all_applied)
        dead = await read_all(kafka_bootstrap, f"{topic}.dlq", expected=2)
    finally:
        await consumer.stop()

    assert await applied_ids(sessionmaker) == [f"e{i}" for i in range(5)]
    assert len(dead) == 2
    reasons = sorted(dict(r.headers)["dlq.reason"].decode() for r in dead)
    assert reasons[0].startswith("invalid event: data.agent_id")
    assert reasons[1].startswith("invalid event: not JSON")
    assert {dict(r.headers)["dlq.topic"].decode() for r in dead} == {topic}


async def test_redelivered_batch_is_applied_once(kafka_bootstrap: str, sessionmaker, clean) -> None:
    topic = f"test.inbox.{uuid.uuid4().hex[:8]}"
    await produce(kafka_bootstrap, topic, [login(f"a{i}", id=f"r{i}").to_json() for i in range(4)])
    records = await read_all(kafka_bootstrap, topic, expected=4)
    consumer = new_consumer(topic, f"g-{topic}", kafka_bootstrap, sessionmaker)

    await consumer.process(records)
    await consumer.process(records)  # the broker redelivers after a crash before the commit
    await consumer.process(list(reversed(records)))

    assert await applied_ids(sessionmaker) == ["r0", "r1", "r2", "r3"]
    async with sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(TestInbox)) == 4


async def test_a_second_consumer_group_replaying_everything_changes_nothing(
    kafka_bootstrap: str, sessionmaker, clean
) -> None:
    topic = f"test.inbox.{uuid.uuid4().hex[:8]}"
    await produce(kafka_bootstrap, topic, [login(f"a{i}", id=f"s{i}").to_json() for i in range(6)])
    first = new_consumer(topic, f"first-{topic}", kafka_bootstrap, sessionmaker)
    await first.start()
    try:

        async def six_applied() -> bool:
            return len(await applied_ids(sessionmaker)) == 6

        await wait_for(six_applied)
    finally:
        await first.stop()

    replay = new_consumer(topic, f"replay-{topic}", kafka_bootstrap, sessionmaker)
    await replay.start()
    try:

        async def six_skipped() -> bool:
            skipped = REGISTRY.get_sample_value(
                "callpulse_events_duplicate_total", {"consumer": replay.name}
            )
            return skipped == 6

        await wait_for(six_skipped)
    finally:
        await replay.stop()
    assert await applied_ids(sessionmaker) == [f"s{i}" for i in range(6)]


async def test_handler_failure_dead_letters_only_that_event(
    kafka_bootstrap: str, sessionmaker, clean
) -> None:
    topic = f"test.inbox.{uuid.uuid4().hex[:8]}"
    values = [
        login("ok-1", id="h1").to_json(),
        login("explodes", id="h2").to_json(),
        login("ok-2", id="h3").to_json(),
    ]
    await produce(kafka_bootstrap, topic, values)
    records = await read_all(kafka_bootstrap, topic, expected=3)
    consumer = new_consumer(topic, f"g-{topic}", kafka_bootstrap, sessionmaker)
    try:
        await consumer.process(records)
    finally:
        await consumer.stop()

    assert await applied_ids(sessionmaker) == ["h1", "h3"]
    dead = await read_all(kafka_bootstrap, f"{topic}.dlq", expected=1)
    assert len(dead) == 1
    assert "handler failed 3 times" in dict(dead[0].headers)["dlq.reason"].decode()
    assert orjson.loads(dead[0].value)["id"] == "h2"


async def test_a_database_outage_dead_letters_nothing(
    kafka_bootstrap: str, sessionmaker, clean
) -> None:
    topic = f"test.inbox.{uuid.uuid4().hex[:8]}"
    await produce(kafka_bootstrap, topic, [login("a1", id="o1").to_json()])
    records = await read_all(kafka_bootstrap, topic, expected=1)

    async def database_gone(session, events) -> None:
        raise ConnectionRefusedError("database is restarting")

    consumer = new_consumer(topic, f"g-{topic}", kafka_bootstrap, sessionmaker, database_gone)
    with pytest.raises(ConnectionRefusedError):
        await consumer.process(records)  # the loop backs off and re-reads; offsets stay put
    await consumer.stop()
    assert await read_all(kafka_bootstrap, f"{topic}.dlq", expected=1, timeout_s=1) == []
    assert await applied_ids(sessionmaker) == []


async def test_a_backlog_read_ahead_is_applied_once_and_committed_to_its_end(
    kafka_bootstrap: str, sessionmaker, clean
) -> None:
    """Full batches make the consumer read the next one while applying; a transient failure
    then drops what was read ahead, and nothing is lost, repeated or left uncommitted."""
    topic = f"test.inbox.{uuid.uuid4().hex[:8]}"
    ids = [f"b{i:04d}" for i in range(1_000)]
    await ensure_topics(kafka_bootstrap, [topic, f"{topic}.dlq"], partitions=3)
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all")
    await producer.start()
    try:
        sent = [
            await producer.send(topic, login(f"a{i % 7}", id=id).to_json())
            for i, id in enumerate(ids)
        ]
        await asyncio.gather(*sent)
    finally:
        await producer.stop()

    failed_once: list[str] = []

    async def flaky(session: AsyncSession, events: list[CloudEvent]) -> None:
        if "b0550" in {e.id for e in events} and not failed_once:
            failed_once.append("b0550")
            raise ConnectionRefusedError("database is restarting")
        await record_applied(session, events)

    group = f"g-{topic}"
    consumer = InboxConsumer(
        name=group,
        topics=[topic],
        group_id=group,
        bootstrap_servers=kafka_bootstrap,
        sessionmaker=sessionmaker,
        inbox_model=TestInbox,
        handler=flaky,
        partitions=3,
        max_batch=100,
        max_wait_ms=50,
    )
    await consumer.start()
    try:

        async def all_applied() -> bool:
            return len(await applied_ids(sessionmaker)) == len(ids)

        await wait_for(all_applied, timeout_s=60)
    finally:
        await consumer.stop()

    assert failed_once and await applied_ids(sessionmaker) == ids
    ends: dict[TopicPartition, int] = {}
    for record in await read_all(kafka_bootstrap, topic, expected=len(ids)):
        ends[TopicPartition(topic, record.partition)] = record.offset + 1
    check = AIOKafkaConsumer(topic, bootstrap_servers=kafka_bootstrap, group_id=group)
    await check.start()
    try:
        committed = {p: await check.committed(p) for p in ends}
    finally:
        await check.stop()
    assert committed == ends
