"""Idempotent inbox consumer: each event id is applied at most once, ever.

A batch of records (up to ``max_batch`` or ``max_wait_ms``) is applied in ONE database
transaction that also inserts every event id into the service's ``inbox`` table; ids already
there are skipped. Offsets are committed only after that transaction, so a crash in between
redelivers the batch and the inbox turns the redelivery into a no-op.

Poison messages never stop the loop and are never dropped silently: unparseable or off-schema
records, and events whose handler keeps failing, go to ``<topic>.dlq`` with the reason in the
record headers.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import structlog
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.errors import CommitFailedError, KafkaError
from prometheus_client import Counter
from sqlalchemy import ARRAY, DateTime, String, Table, Text, bindparam, func, select
from sqlalchemy.dialects.postgresql import Insert, insert
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Mapped, mapped_column

from shared.events import CloudEvent, InvalidEvent, parse_event
from shared.messaging.kafka import ensure_topics, new_producer

log = structlog.get_logger("inbox")

EVENTS_APPLIED = Counter(
    "callpulse_events_applied_total", "Events applied by a consumer", ["consumer", "topic"]
)
EVENTS_DUPLICATE = Counter(
    "callpulse_events_duplicate_total", "Redelivered events skipped by the inbox", ["consumer"]
)
EVENTS_DEAD_LETTERED = Counter(
    "callpulse_events_dead_lettered_total", "Records sent to a dead-letter topic", ["consumer"]
)

BatchHandler = Callable[[AsyncSession, list[CloudEvent]], Awaitable[None]]


def is_transient(exc: BaseException) -> bool:
    """Errors of the connection rather than of the event: retry, never dead-letter."""
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    return isinstance(exc, OperationalError | InterfaceError | OSError | TimeoutError)


class InboxMixin:
    """Columns of a service's ``inbox`` table; mix into the service's declarative base."""

    __tablename__ = "inbox"

    event_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    event_type: Mapped[str] = mapped_column(String(200))
    topic: Mapped[str] = mapped_column(String(200))
    processed_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )


def record_ids_statement(inbox: Table) -> Insert:
    """Insert a batch's ids into the inbox, returning those not seen before: one statement
    from three arrays, built once (an executemany renders and binds every row in Python)."""
    source = (
        func.unnest(
            bindparam("event_ids", type_=ARRAY(Text)),
            bindparam("event_types", type_=ARRAY(Text)),
            bindparam("topics", type_=ARRAY(Text)),
        )
        .table_valued("event_id", "event_type", "topic")
        .render_derived(name="source")
    )
    return (
        insert(inbox)
        .from_select(["event_id", "event_type", "topic"], select(*source.c))
        .on_conflict_do_nothing(index_elements=["event_id"])
        .returning(inbox.c.event_id)
    )


@dataclass
class Batch:
    """Records read in one poll: the events parsed from them and the unparseable ones."""

    records: list[ConsumerRecord]
    events: list[tuple[ConsumerRecord, CloudEvent]] = field(default_factory=list)
    dead: list[tuple[ConsumerRecord, str]] = field(default_factory=list)


async def _discard(task: asyncio.Task[Batch] | None) -> None:
    """Cancel a read-ahead: its records were never committed, so they will be read again."""
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task


class InboxConsumer:
    """Consumes topics in one consumer group and applies events through the inbox."""

    def __init__(
        self,
        *,
        name: str,
        topics: Sequence[str],
        group_id: str,
        bootstrap_servers: str,
        sessionmaker: async_sessionmaker[AsyncSession],
        inbox_model: type[InboxMixin],
        handler: BatchHandler,
        partitions: int,
        replication_factor: int = 1,
        max_batch: int = 500,
        max_wait_ms: int = 100,
        max_attempts: int = 3,
    ) -> None:
        self.name = name
        self._topics = list(topics)
        self._group_id = group_id
        self._bootstrap = bootstrap_servers
        self._sessionmaker = sessionmaker
        self._handler = handler
        self._partitions = partitions
        self._replication = replication_factor
        self._max_batch = max_batch
        self._max_wait_ms = max_wait_ms
        self._max_attempts = max_attempts
        self._consumer: AIOKafkaConsumer | None = None
        self._producer: AIOKafkaProducer | None = None
        self._task: asyncio.Task[None] | None = None
        self._record_ids = record_ids_statement(inbox_model.__table__)

    @property
    def assigned(self) -> bool:
        """Whether the group gave this consumer its partitions (it is consuming)."""
        return self._consumer is not None and bool(self._consumer.assignment())

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"consumer-{self.name}")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self._close_clients()

    async def _run(self) -> None:
        backoff = 0.5
        ahead: asyncio.Task[Batch] | None = None
        try:
            while True:
                try:
                    await self._connect()
                    consumer = self._consumer
                    assert consumer is not None
                    batch = await ahead if ahead is not None else await self._read(consumer)
                    ahead = None
                    if len(batch.records) >= self._max_batch:
                        # Behind (a full batch): read and parse the next one while this one is
                        # applied. A partial batch means we are caught up; reading ahead then
                        # would only hold back what arrives during the transaction.
                        ahead = asyncio.create_task(self._read(consumer))
                    if batch.records:
                        await self._apply_batch(batch)
                        await self._commit(consumer, batch.records)
                    backoff = 0.5
                except asyncio.CancelledError:
                    raise
                except Exception as exc:  # broker or database trouble: reconnect and retry
                    log.warning("consumer retrying", consumer=self.name, error=str(exc))
                    await _discard(ahead)
                    ahead = None
                    await self._close_clients()
                    await asyncio.sleep(backoff)
                    backoff = min(backoff * 2, 10.0)
        finally:
            await _discard(ahead)

    async def _read(self, consumer: AIOKafkaConsumer) -> Batch:
        batches = await consumer.getmany(timeout_ms=self._max_wait_ms, max_records=self._max_batch)
        return self._parse([r for part in batches.values() for r in part])

    async def _commit(self, consumer: AIOKafkaConsumer, records: list[ConsumerRecord]) -> None:
        """Commit the offsets of the records applied — never those of a batch read ahead.

        A partition revoked meanwhile is left out (or the whole commit refused): its new owner
        re-reads from the last commit and the inbox skips what is done.
        """
        assigned = consumer.assignment()
        offsets: dict[TopicPartition, int] = {}
        for record in records:
            partition = TopicPartition(record.topic, record.partition)
            if partition in assigned:
                offsets[partition] = max(offsets.get(partition, 0), record.offset + 1)
        if offsets:
            with contextlib.suppress(CommitFailedError):
                await consumer.commit(offsets)

    async def _connect(self) -> None:
        if self._consumer is not None:
            return
        dlqs = [f"{t}.dlq" for t in self._topics]
        await ensure_topics(
            self._bootstrap,
            [*self._topics, *dlqs],
            partitions=self._partitions,
            replication_factor=self._replication,
        )
        consumer = AIOKafkaConsumer(
            *self._topics,
            bootstrap_servers=self._bootstrap,
            group_id=self._group_id,
            client_id=f"{self.name}-consumer",
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            max_poll_records=self._max_batch,
            # A fetch the broker holds open (500 ms by default) delays records that arrive
            # meanwhile on other partitions: never hold one longer than a batch may linger.
            fetch_max_wait_ms=self._max_wait_ms,
        )
        try:
            await consumer.start()
        except BaseException:
            await consumer.stop()
            raise
        self._consumer = consumer

    async def _close_clients(self) -> None:
        consumer, self._consumer = self._consumer, None
        producer, self._producer = self._producer, None
        for client in (consumer, producer):
            if client is not None:
                with contextlib.suppress(Exception):
                    await client.stop()

    async def process(self, records: Sequence[ConsumerRecord]) -> None:
        """Apply a batch of records; poison ones go to their dead-letter topic."""
        await self._apply_batch(self._parse(list(records)))

    @staticmethod
    def _parse(records: list[ConsumerRecord]) -> Batch:
        batch = Batch(records)
        for record in records:
            try:
                batch.events.append((record, parse_event(record.value)))
            except InvalidEvent as exc:
                batch.dead.append((record, f"invalid event: {exc}"))
        return batch

    async def _apply_batch(self, batch: Batch) -> None:
        dead = list(batch.dead)
        try:
            await self._apply(batch.events)
        except Exception as exc:
            if is_transient(exc):
                raise  # the database is away: retry the whole batch later, dead-letter nothing
            log.warning("batch failed, applying one by one", consumer=self.name, error=str(exc))
            dead.extend(await self._apply_each(batch.events))
        if dead:
            await self._dead_letter(dead)

    async def _apply_each(
        self, events: list[tuple[ConsumerRecord, CloudEvent]]
    ) -> list[tuple[ConsumerRecord, str]]:
        failed = []
        for record, event in events:
            for attempt in range(1, self._max_attempts + 1):
                try:
                    await self._apply([(record, event)])
                    break
                except Exception as exc:
                    if is_transient(exc):
                        raise
                    if attempt == self._max_attempts:
                        log.error("handler failed", consumer=self.name, event_id=event.id)
                        failed.append((record, f"handler failed {attempt} times: {exc!r}"))
                    else:
                        await asyncio.sleep(0.05 * attempt)
        return failed

    async def _apply(self, events: list[tuple[ConsumerRecord, CloudEvent]]) -> None:
        topics = {e.id: r.topic for r, e in events}
        unique = list({e.id: e for _, e in events}.values())
        if not unique:
            return
        async with self._sessionmaker() as session, session.begin():
            inserted = await session.scalars(
                self._record_ids,
                {
                    "event_ids": [e.id for e in unique],
                    "event_types": [e.type for e in unique],
                    "topics": [topics[e.id] for e in unique],
                },
            )
            fresh_ids = set(inserted)
            fresh = [e for e in unique if e.id in fresh_ids]
            if fresh:
                await self._handler(session, fresh)
        EVENTS_DUPLICATE.labels(self.name).inc(len(events) - len(fresh))
        for topic, count in collections.Counter(topics[e.id] for e in fresh).items():
            EVENTS_APPLIED.labels(self.name, topic).inc(count)

    async def _dead_letter(self, dead: list[tuple[ConsumerRecord, str]]) -> None:
        if self._producer is None:
            producer = new_producer(self._bootstrap, client_id=f"{self.name}-dlq")
            await producer.start()
            self._producer = producer
        futures = []
        for record, reason in dead:
            log.warning(
                "dead-lettered",
                consumer=self.name,
                topic=record.topic,
                partition=record.partition,
                offset=record.offset,
                reason=reason,
            )
            headers = [
                ("dlq.reason", reason[:4000].encode()),
                ("dlq.topic", record.topic.encode()),
                ("dlq.partition", str(record.partition).encode()),
                ("dlq.offset", str(record.offset).encode()),
                ("dlq.consumer", self.name.encode()),
            ]
            futures.append(
                await self._producer.send(
                    f"{record.topic}.dlq", value=record.value, key=record.key, headers=headers
                )
            )
        results = await asyncio.gather(*futures, return_exceptions=True)
        errors = [r for r in results if isinstance(r, BaseException)]
        if errors:
            # Offsets stay uncommitted, so the batch is read again and nothing is lost.
            raise KafkaError(f"dead-letter publish failed: {errors[0]}")
        EVENTS_DEAD_LETTERED.labels(self.name).inc(len(dead))
