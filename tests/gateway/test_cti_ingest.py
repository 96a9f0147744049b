"""CTI ingest through the real gateway against the real embedded broker: a batch is validated
whole (one bad event publishes nothing, proved by reading the topic), a 202 comes only after
the broker holds every event under its partition key, a broker that is away is a prompt 503
and the gateway recovers when it returns; the adapters publish the same way, resolving agents
through the roster's external ids that the gateway's roster.changes consumer keeps."""

from __future__ import annotations

import asyncio
import base64
import time
import uuid
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest
from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition

from shared.embedded import free_port
from shared.events import EventType, parse_event
from shared.events.types import Topic
from shared.messaging.kafka import ensure_topics, topic_names
from tests.gateway.adapters.helpers import sample
from tests.gateway.test_apikeys import create_key, key_header

pytestmark = pytest.mark.broker

TOPIC = Topic.CTI_EVENTS.value
EVENTS = "/v1/cti/events"
T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


class TopicWatch:
    """What appears on a topic from now on. (The embedded broker's ListOffsets answers with the
    start of the last batch, not the log end, so the end is found by reading to the fetch
    high watermark.)"""

    def __init__(self, consumer: AIOKafkaConsumer, partitions: list[TopicPartition]) -> None:
        self.consumer = consumer
        self.partitions = partitions
        self.seen: list[ConsumerRecord] = []

    async def drain(self) -> list[ConsumerRecord]:
        """Everything from the current positions to the end of every partition."""
        found: list[ConsumerRecord] = []
        deadline = time.monotonic() + 15
        while True:
            batch = await self.consumer.getmany(timeout_ms=150)
            records = [r for part in batch.values() for r in part]
            found.extend(records)
            caught_up = [
                await self.consumer.position(tp) >= (self.consumer.highwater(tp) or 0)
                for tp in self.partitions
            ]
            if not records and all(caught_up):
                return found
            assert time.monotonic() < deadline, "the topic was not read to its end in time"

    async def new_records(self) -> list[ConsumerRecord]:
        self.seen.extend(await self.drain())
        return sorted(self.seen, key=lambda r: (r.partition, r.offset))


@asynccontextmanager
async def watch(bootstrap: str, topic: str = TOPIC, *, from_start: bool = False):
    await ensure_topics(bootstrap, topic_names([Topic(topic)]), partitions=6)
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False
    )
    await consumer.start()
    try:
        await consumer.topics()  # loads the metadata
        partitions = [
            TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic))
        ]
        consumer.assign(partitions)
        found = TopicWatch(consumer, partitions)
        if from_start:
            await consumer.seek_to_beginning(*partitions)
        else:
            await consumer.seek_to_end(*partitions)
            await found.drain()
        yield found
    finally:
        await consumer.stop()


def event(
    type_: EventType, data: dict[str, Any], *, source: str, at: datetime = T0, id: str | None = None
) -> dict[str, Any]:
    return {
        "specversion": "1.0",
        "id": id or str(uuid.uuid4()),
        "type": type_.value,
        "source": source,
        "time": at.isoformat(),
        "data": data,
    }


def shift(source: str, agents: int = 5, calls: int = 5) -> list[dict[str, Any]]:
    """A small floor's morning: logins, calls answered and ended, per agent."""
    batch = []
    for a in range(agents):
        agent = f"agent-{a}"
        batch.append(event(EventType.AGENT_LOGGED_IN, {"agent_id": agent}, source=source))
        for c in range(calls):
            call = f"call-{a}-{c}"
            at = T0 + timedelta(minutes=c * 5)
            batch += [
                event(
                    EventType.CALL_OFFERED,
                    {"call_id": call, "queue_id": "q1"},
                    source=source,
                    at=at,
                ),
                event(
                    EventType.CALL_ANSWERED,
                    {"call_id": call, "queue_id": "q1", "agent_id": agent},
                    source=source,
                    at=at + timedelta(seconds=10),
                ),
                event(
                    EventType.CALL_ENDED,
                    {"call_id": call, "agent_id": agent},
                    source=source,
                    at=at + timedelta(minutes=3),
                ),
            ]
    return batch


async def test_a_valid_batch_is_acknowledged_then_readable_under_its_partition_keys(
    stack, gateway_client, kafka_bootstrap
) -> None:
    async with gateway_client() as client:
        key = await create_key(client, stack, source="cti/pbx-ack")
        batch = shift("cti/pbx-ack")
        batch[3]["source"] = "cti/pbx-ack/queue-7"  # a path under the key's source
        async with watch(kafka_bootstrap) as topic:
            response = await client.post(EVENTS, json=batch, headers=key_header(key))
            # No waiting: a 202 means the broker already holds every event.
            records = await topic.new_records()

    assert response.status_code == 202 and response.json() == {"accepted": len(batch)}
    published = {parse_event(r.value).id: r for r in records}
    assert set(published) == {e["id"] for e in batch} and len(records) == len(batch)
    for sent in batch:
        record = published[sent["id"]]
        parsed = parse_event(record.value)
        assert (parsed.type, parsed.source, parsed.time) == (
            sent["type"],
            sent["source"],
            datetime.fromisoformat(sent["time"]),
        )
        data = sent["data"]
        assert record.key.decode() == data.get("agent_id", data.get("call_id"))
        assert parsed.data.model_dump(exclude_none=True) == data
    # One agent's events stay in one partition, in the order they were sent.
    agent_records = [r for r in records if r.key == b"agent-2"]
    assert len({r.partition for r in agent_records}) == 1
    order = [e["id"] for e in batch if e["data"].get("agent_id") == "agent-2"]
    assert [parse_event(r.value).id for r in agent_records] == order


async def test_one_bad_event_among_many_publishes_nothing_and_every_bad_index_is_named(
    stack, gateway_client, kafka_bootstrap
) -> None:
    async with gateway_client() as client:
        key = await create_key(client, stack, source="cti/pbx-bad")
        batch = shift("cti/pbx-bad", agents=10)  # 160 events
        del batch[37]["data"]["agent_id"]
        batch[80]["source"] = "cti/pbx-bad2"
        batch[91]["type"] = EventType.PERSON_CREATED.value
        del batch[5]["id"]
        batch[120]["time"] = "yesterday"
        batch[130] = "not an event"
        batch[140]["type"] = "cti.agent.teleported"
        batch[150] = event(
            EventType.AGENT_STATE_CHANGED,
            {"agent_id": "agent-9", "state": "aux"},
            source="cti/pbx-bad",
        )
        async with watch(kafka_bootstrap) as topic:
            response = await client.post(EVENTS, json=batch, headers=key_header(key))
            records = await topic.new_records()

    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["detail"] == "8 of 160 events are invalid; nothing was published."
    assert [(e["index"], e["field"]) for e in body["errors"]] == [
        (5, "id"),
        (37, "data.agent_id"),
        (80, "source"),
        (91, "type"),
        (120, "time"),
        (130, None),
        (140, "type"),
        (150, "data"),
    ]
    by_index = {e["index"]: e["detail"] for e in body["errors"]}
    assert by_index[5] == "Field required"
    assert "outside this API key's source 'cti/pbx-bad'" in by_index[80]
    assert "not a CTI event" in by_index[91]
    assert "reason is required when state is aux" in by_index[150]
    assert records == []


async def test_oversized_and_malformed_bodies_publish_nothing(
    stack, gateway_client, kafka_bootstrap
) -> None:
    async with gateway_client() as client:
        headers = key_header(await create_key(client, stack, source="cti/pbx-big"))
        one = event(EventType.AGENT_LOGGED_IN, {"agent_id": "a"}, source="cti/pbx-big")
        async with watch(kafka_bootstrap) as topic:
            too_many = await client.post(EVENTS, json=[one] * 1001, headers=headers)
            not_json = await client.post(
                EVENTS, content=b"[{", headers={**headers, "content-type": "application/json"}
            )
            wrapped = await client.post(EVENTS, json={"events": [one]}, headers=headers)
            huge = await client.post(
                EVENTS,
                json=[{**one, "data": {"agent_id": "a", "note": "x" * 70_000}}],
                headers=headers,
            )
            records = await topic.new_records()
    assert too_many.status_code == 413 and too_many.json()["max_events"] == 1000
    assert not_json.status_code == 400
    assert wrapped.status_code == 422
    assert huge.status_code == 422 and huge.json()["errors"][0]["index"] == 0
    assert records == []


async def test_resending_the_same_ids_is_harmless(stack, gateway_client, kafka_bootstrap) -> None:
    async with gateway_client() as client:
        headers = key_header(await create_key(client, stack, source="cti/pbx-again"))
        batch = shift("cti/pbx-again", agents=1, calls=2)
        async with watch(kafka_bootstrap) as topic:
            first = await client.post(EVENTS, json=batch, headers=headers)
            again = await client.post(EVENTS, json=batch, headers=headers)
            records = await topic.new_records()
    assert first.status_code == again.status_code == 202
    # The topic holds each event twice under one id: every consumer's inbox applies it once.
    ids = sorted(parse_event(r.value).id for r in records)
    assert ids == sorted([e["id"] for e in batch] * 2)


@pytest.mark.slow
async def test_a_broker_that_is_away_is_a_prompt_503_and_its_return_is_noticed(
    stack, gateway_client, embedded_kafka_factory, tmp_path
) -> None:
    port = free_port()
    broker = embedded_kafka_factory(port=port, log_dir=tmp_path)
    try:
        async with gateway_client(
            kafka_bootstrap_servers=f"127.0.0.1:{port}", cti_publish_timeout_s=3
        ) as client:
            admin = stack.headers("AD", "admin")
            headers = key_header(await create_key(client, stack, source="cti/pbx-down"))
            batch = shift("cti/pbx-down", agents=1, calls=1)
            started = time.monotonic()
            down = await client.post(EVENTS, json=batch, headers=headers)
            elapsed = time.monotonic() - started
            ready = await client.get("/readyz")
            admin_still_served = await client.get("/v1/cti/api-keys", headers=admin)

            await asyncio.to_thread(broker.start)
            back = await client.post(EVENTS, json=batch, headers=headers)
            async with watch(broker.bootstrap_servers, from_start=True) as topic:
                records = await topic.new_records()
            ready_again = await client.get("/readyz")
    finally:
        await asyncio.to_thread(broker.stop)

    assert down.status_code == 503 and elapsed < 5
    assert down.headers["content-type"] == "application/problem+json"
    assert down.json()["type"].endswith("/broker-unavailable")
    assert ready.status_code == 503 and ready.json()["checks"]["broker"] == "unavailable"
    assert admin_still_served.status_code == 200
    assert back.status_code == 202
    assert sorted(parse_event(r.value).id for r in records) == sorted(e["id"] for e in batch)
    assert ready_again.status_code == 200


async def test_the_asterisk_adapter_publishes_its_events_with_the_keys_source(
    stack, gateway_client, kafka_bootstrap
) -> None:
    async with gateway_client() as client:
        headers = key_header(await create_key(client, stack, source="cti/asterisk-9"))
        text = sample("asterisk_queue_log.txt") + "1795431800|NONE|support|PJSIP/1001|SHINYNEW|1\n"
        async with watch(kafka_bootstrap) as topic:
            response = await client.post(
                "/v1/cti/asterisk/queue-log",
                content=text.encode(),
                headers={**headers, "content-type": "text/plain"},
            )
            records = await topic.new_records()
            again = await client.post(
                "/v1/cti/asterisk/queue-log",
                content=text.encode(),
                headers={**headers, "content-type": "text/plain"},
            )
            garbage = await client.post(
                "/v1/cti/asterisk/queue-log", content=b"hello\nworld\n", headers=headers
            )
            not_text = await client.post(
                "/v1/cti/asterisk/queue-log", content=b"\xff\xfe\x00", headers=headers
            )
            after = await topic.new_records()

    assert response.status_code == 202, response.text
    report = response.json()
    assert report["accepted"] == 30 and report["records"] == 42
    assert [(u["line_no"], u["verb"]) for u in report["unknown"]] == [(42, "SHINYNEW")]
    assert [i["line_no"] for i in report["ignored"]] == [1, 10, 12, 37]
    assert report["unresolved_agents"] == [
        "Agent/1003",
        "Agent/1004",
        "Local/1005@agents/n",
        "PJSIP/1001",
        "SIP/agent2",
    ]
    published = [parse_event(r.value) for r in records]
    assert sorted(e.id for e in published) == sorted(report["event_ids"])
    assert {e.source for e in published} == {"cti/asterisk-9"}
    assert again.json()["event_ids"] == report["event_ids"]  # a re-sent excerpt, the same ids
    assert garbage.status_code == 422 and not_text.status_code == 400
    assert len(after) == 2 * len(records)  # nothing from the refused bodies


async def test_the_amazon_connect_adapter_takes_a_kinesis_batch(
    stack, gateway_client, kafka_bootstrap
) -> None:
    records = orjson.loads(sample("amazon_connect_lifecycle.json"))
    kinesis = {
        "Records": [
            {"kinesis": {"data": base64.b64encode(orjson.dumps(r)).decode(), "partitionKey": "x"}}
            for r in records
        ]
    }
    async with gateway_client() as client:
        headers = key_header(await create_key(client, stack, source="cti/connect-9"))
        async with watch(kafka_bootstrap) as topic:
            response = await client.post(
                "/v1/cti/amazon-connect/agent-events", json=kinesis, headers=headers
            )
            published = [parse_event(r.value) for r in await topic.new_records()]
            not_json = await client.post(
                "/v1/cti/amazon-connect/agent-events", content=b"{", headers=headers
            )
            a_string = await client.post(
                "/v1/cti/amazon-connect/agent-events", json="hello", headers=headers
            )
            nothing_usable = await client.post(
                "/v1/cti/amazon-connect/agent-events", json=[{"a": 1}], headers=headers
            )
            after = await topic.new_records()
    assert response.status_code == 202, response.text
    report = response.json()
    assert report["accepted"] == 10 and report["records"] == 13
    assert report["unresolved_agents"] == ["jdoe"]
    assert sorted(e.id for e in published) == sorted(report["event_ids"])
    assert {e.source for e in published} == {"cti/connect-9"}
    assert [e.type for e in published if e.type.startswith("cti.agent")][:1] == [
        "cti.agent.logged_in"
    ]
    assert not_json.status_code == 400
    assert a_string.status_code == 422 and nothing_usable.status_code == 422
    assert len(after) == len(published)
