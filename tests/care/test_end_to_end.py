"""End to end on a real broker and real databases: a call tagged abusive, published to
``cti.events``, becomes a metrics signal and then a care task its agent's lead can see, within
five seconds."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaProducer

from services.care.app import create_app as create_care
from services.care.directory.models import Person
from services.care.settings import CareSettings
from services.metrics.app import create_app as create_metrics
from services.metrics.settings import MetricsSettings
from shared.auth import issue_token
from shared.db import make_engine, make_sessionmaker
from shared.embedded import EmbeddedKafka, free_port
from shared.events import EventType, make_event
from shared.events.cti import AgentLoggedIn, CallAnswered, CallTagged
from shared.messaging.kafka import ensure_topics
from tests.care.conftest import person_event, team_event

pytestmark = [pytest.mark.broker, pytest.mark.slow]


@pytest.fixture
async def broker(tmp_path) -> AsyncIterator[str]:
    kafka = EmbeddedKafka(port=free_port(), log_dir=tmp_path)
    kafka.start()
    try:
        yield kafka.bootstrap_servers
    finally:
        kafka.stop()


async def publish(producer: AIOKafkaProducer, topic: str, events: list) -> None:
    for event in events:
        await producer.send_and_wait(topic, value=event.to_json(), key=event.key.encode())


async def eventually(check, timeout_s: float, what: str) -> Any:
    deadline = time.monotonic() + timeout_s
    while True:
        result = await check()
        if result:
            return result
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.05)


async def test_tagged_abusive_call_reaches_the_leads_task_list(
    migrated_database: Any, broker: str
) -> None:
    topics = ["cti.events", "roster.changes", "metrics.signals", "care.events"]
    await ensure_topics(broker, topics + [f"{t}.dlq" for t in topics], partitions=2)
    common: dict[str, Any] = {
        "kafka_bootstrap_servers": broker,
        "kafka_topic_partitions": 2,
        "environment": "test",
        "log_json": False,
        "outbox_poll_interval_s": 0.2,
    }
    metrics_url = await migrated_database("metrics", suffix="_e2e")
    care_url = await migrated_database("care", suffix="_e2e")
    care_settings = CareSettings(database_url=care_url, **common)
    metrics = create_metrics(MetricsSettings(database_url=metrics_url, **common))
    care = create_care(care_settings)
    producer = AIOKafkaProducer(bootstrap_servers=broker, acks="all")
    await producer.start()
    engine = make_engine(care_settings.sqlalchemy_url, pool_size=1)
    async with AsyncExitStack() as stack:
        stack.push_async_callback(producer.stop)
        stack.push_async_callback(engine.dispose)
        for app in (metrics, care):
            await stack.enter_async_context(app.router.lifespan_context(app))
        consumers = [*metrics.state.consumers, *care.state.consumers]

        async def all_assigned() -> bool:
            return all(c.assigned for c in consumers)

        await eventually(all_assigned, 30, "consumer groups to assign partitions")
        await publish(
            producer,
            "roster.changes",
            [
                person_event("L1", team_id=None, role="team_lead"),
                person_event("A1", team_id="T1"),
                team_event("T1", "L1", ["A1"]),
            ],
        )

        async def roster_known() -> bool:
            async with make_sessionmaker(engine)() as session:
                person = await session.get(Person, "A1")
                return person is not None and person.team_id == "T1"

        await eventually(roster_known, 10, "care to learn the roster")

        now = datetime.now(UTC)
        cti = [
            make_event(
                EventType.AGENT_LOGGED_IN,
                AgentLoggedIn(agent_id="A1"),
                source="pbx",
                time=now - timedelta(minutes=5),
            ),
            make_event(
                EventType.CALL_ANSWERED,
                CallAnswered(call_id="call-77", queue_id="q1", agent_id="A1"),
                source="pbx",
                time=now - timedelta(minutes=3),
            ),
            make_event(
                EventType.CALL_TAGGED,
                CallTagged(call_id="call-77", agent_id="A1", tags=["abusive_customer"]),
                source="pbx",
                time=now,
            ),
        ]
        token, _ = issue_token(care_settings, subject="L1", role="team_lead", team_ids=["T1"])
        transport = httpx.ASGITransport(app=care)
        async with httpx.AsyncClient(transport=transport, base_url="http://care") as client:
            started = time.monotonic()
            await publish(producer, "cti.events", cti)

            async def leads_task() -> list:
                response = await client.get(
                    "/v1/care/tasks?status=open",
                    headers={"Authorization": f"Bearer {token}"},
                )
                assert response.status_code == 200, response.text
                return response.json()["items"]

            [task] = await eventually(leads_task, 5, "the care task")
            elapsed = time.monotonic() - started
    assert elapsed < 5
    assert (task["rule"], task["agent_id"], task["assignee_id"], task["urgent"]) == (
        "hard_call",
        "A1",
        "L1",
        True,
    )
    assert task["facts"]["tags"] == ["abusive_customer"] and task["signal_id"]
    assert "care break" in task["suggested_action"]
