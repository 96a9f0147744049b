"""Kafka clients and topic management.

Neither Kafka transactions nor the idempotent producer are used (the embedded broker has
neither); event ids carry correctness, so ``acks=all`` plus at-least-once delivery is enough.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

import structlog
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError, TopicAlreadyExistsError

from shared.events.types import Topic

log = structlog.get_logger("kafka")

TOPIC_ALREADY_EXISTS = TopicAlreadyExistsError.errno


def new_producer(bootstrap_servers: str, *, client_id: str) -> AIOKafkaProducer:
    return AIOKafkaProducer(
        bootstrap_servers=bootstrap_servers,
        client_id=client_id,
        acks="all",
        enable_idempotence=False,
        linger_ms=5,
        request_timeout_ms=10_000,
        retry_backoff_ms=200,
    )


def topic_names(topics: Iterable[Topic], *, with_dlq: bool = True) -> list[str]:
    names: list[str] = []
    for topic in topics:
        names.append(topic.value)
        if with_dlq:
            names.append(topic.dlq)
    return names


async def ensure_topics(
    bootstrap_servers: str, names: Iterable[str], *, partitions: int, replication_factor: int = 1
) -> None:
    """Create missing topics; existing ones are left as they are."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers, request_timeout_ms=10_000)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [n for n in dict.fromkeys(names) if n not in existing]
        if not missing:
            return
        response = await admin.create_topics(
            [
                NewTopic(n, num_partitions=partitions, replication_factor=replication_factor)
                for n in missing
            ]
        )
        for name, code, message in response.topic_errors:
            if code not in (0, TOPIC_ALREADY_EXISTS):
                raise KafkaError(f"could not create topic {name}: {code} {message}")
        log.info("topics created", topics=missing, partitions=partitions)
    finally:
        await admin.close()


async def broker_reachable(bootstrap_servers: str, timeout_s: float = 2.0) -> bool:
    """True when the broker answers a metadata request within the timeout."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers, request_timeout_ms=2_000)
    try:
        await asyncio.wait_for(admin.start(), timeout_s)
        await asyncio.wait_for(admin.list_topics(), timeout_s)
        return True
    except (KafkaError, TimeoutError, OSError):
        return False
    finally:
        await admin.close()
