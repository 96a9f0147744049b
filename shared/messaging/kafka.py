"""Kafka clients and topic management.

Neither Kafka transactions nor the idempotent producer are used (the embedded broker has
neither); event ids carry correctness, so ``acks=all`` plus at-least-once delivery is enough.
"""

from __future__ import annotations

import asyncio
import contextlib
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


class TopicGuard:
    """Keeps a set of topics in existence over one long-lived admin connection.

    Checked before every outbox batch: a broker that lost its topics (the embedded broker
    keeps them in memory only) would otherwise acknowledge records into a topic nobody can read.
    """

    def __init__(
        self,
        bootstrap_servers: str,
        names: Iterable[str],
        *,
        partitions: int,
        replication_factor: int = 1,
    ) -> None:
        self._bootstrap = bootstrap_servers
        self._names = list(dict.fromkeys(names))
        self._partitions = partitions
        self._replication = replication_factor
        self._admin: AIOKafkaAdminClient | None = None

    async def ensure(self) -> None:
        if self._admin is None:
            admin = AIOKafkaAdminClient(
                bootstrap_servers=self._bootstrap, request_timeout_ms=10_000
            )
            await admin.start()
            self._admin = admin
        try:
            existing = set(await self._admin.list_topics())
            missing = [n for n in self._names if n not in existing]
            if missing:
                await self._create(missing)
        except BaseException:
            await self.close()
            raise

    async def _create(self, missing: list[str]) -> None:
        assert self._admin is not None
        response = await self._admin.create_topics(
            [
                NewTopic(n, num_partitions=self._partitions, replication_factor=self._replication)
                for n in missing
            ]
        )
        for name, code, message in response.topic_errors:
            if code not in (0, TOPIC_ALREADY_EXISTS):
                raise KafkaError(f"could not create topic {name}: {code} {message}")
        log.info("topics created", topics=missing, partitions=self._partitions)

    async def close(self) -> None:
        admin, self._admin = self._admin, None
        if admin is not None:
            with contextlib.suppress(Exception):
                await admin.close()


async def ensure_topics(
    bootstrap_servers: str, names: Iterable[str], *, partitions: int, replication_factor: int = 1
) -> None:
    """Create missing topics; existing ones are left as they are."""
    guard = TopicGuard(
        bootstrap_servers, names, partitions=partitions, replication_factor=replication_factor
    )
    try:
        await guard.ensure()
    finally:
        await guard.close()


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
