"""Transactional outbox end to end: the real roster app, a real database and a broker that
is down, comes up, goes away and comes back. Writes never fail because of the broker, and
every event reaches ``roster.changes`` exactly once per id, in order per key."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import AsyncIterator
from typing import Any

import httpx
import orjson
import pytest
from aiokafka import AIOKafkaConsumer
from sqlalchemy import func, select

from services.roster.app import create_app
from services.roster.db import OutboxMessage
from services.roster.settings import RosterSettings
from shared.auth import issue_token
from shared.db import make_engine, make_sessionmaker
from shared.embedded import EmbeddedKafka, free_port

pytestmark = [pytest.mark.broker, pytest.mark.slow]


@pytest.fixture
async def outbox_db_url(migrated_database: Any) -> str:
    return await migrated_database("roster", suffix="_outbox")


async def unpublished(url: str) -> int:
    engine = make_engine(url, pool_size=1)
    try:
        async with make_sessionmaker(engine)() as session:
            return await session.scalar(
                select(func.count()).where(OutboxMessage.published_at.is_(None))
            )
    finally:
        await engine.dispose()


async def wait_until(predicate, timeout_s: float = 30) -> None:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not await predicate():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.2)


async def read_topic(bootstrap: str, topic: str, expected: int) -> list[dict]:
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest")
    await consumer.start()
    events: list[dict] = []
    try:
        deadline = asyncio.get_running_loop().time() + 20
        while len(events) < expected and asyncio.get_running_loop().time() < deadline:
            for part in (await consumer.getmany(timeout_ms=200)).values():
                events.extend(orjson.loads(r.value) | {"_key": r.key.decode()} for r in part)
    finally:
        await consumer.stop()
    return events


async def create_people(client: httpx.AsyncClient, headers: dict, prefix: str, n: int) -> None:
    for i in range(n):
        response = await client.post(
            "/v1/people",
            headers=headers,
            json={"employee_no": f"{prefix}{i}", "name": f"Agent {prefix}{i}", "role": "agent"},
        )
        assert response.status_code == 201, response.text
        person_id = response.json()["id"]
        response = await client.patch(
            f"/v1/people/{person_id}", headers=headers, json={"name": f"Renamed {prefix}{i}"}
        )
        assert response.status_code == 200, response.text


@pytest.fixture
async def running_app(outbox_db_url: str) -> AsyncIterator[tuple[httpx.AsyncClient, dict, str]]:
    port = free_port()
    settings = RosterSettings(
        database_url=outbox_db_url,
        kafka_bootstrap_servers=f"127.0.0.1:{port}",
        environment="test",
        log_json=False,
        outbox_poll_interval_s=0.2,
    )
    app = create_app(settings)
    token, _ = issue_token(settings, subject="root", role="admin", team_ids=[])
    headers = {"Authorization": f"Bearer {token}"}
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://roster") as client:
            yield client, headers, f"127.0.0.1:{port}"


async def test_writes_succeed_while_the_broker_is_down_and_arrive_once_later(
    running_app, outbox_db_url: str, tmp_path
) -> None:
    client, headers, bootstrap = running_app
    port = int(bootstrap.rsplit(":", 1)[1])

    await create_people(client, headers, "down-", 5)  # no broker yet
    assert await unpublished(outbox_db_url) == 10

    broker = EmbeddedKafka(port=port, log_dir=tmp_path)
    broker.start()
    try:
        await wait_until(lambda: _is_zero(unpublished(outbox_db_url)))
        first = await read_topic(bootstrap, "roster.changes", expected=10)
        assert_exactly_once_in_order(first, expected=10)

        # The broker dies (the embedded one forgets everything) and comes back.
        broker.stop()
        await create_people(client, headers, "gone-", 3)
        assert await unpublished(outbox_db_url) == 6
        broker.start()
        await wait_until(lambda: _is_zero(unpublished(outbox_db_url)))
        second = await read_topic(bootstrap, "roster.changes", expected=6)
        assert_exactly_once_in_order(second, expected=6)
        assert not {e["id"] for e in first} & {e["id"] for e in second}
    finally:
        broker.stop()


async def _is_zero(count: Any) -> bool:
    return await count == 0


def assert_exactly_once_in_order(events: list[dict], *, expected: int) -> None:
    ids = [e["id"] for e in events]
    assert len(ids) == expected and len(set(ids)) == expected
    per_key: dict[str, list[str]] = defaultdict(list)
    for event in events:
        per_key[event["_key"]].append(event["type"])
    for types in per_key.values():
        assert types == ["roster.person.created", "roster.person.updated"]
