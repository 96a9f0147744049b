"""Transactional outbox: events commit with the change that caused them; a relay publishes them.

``Outbox.add`` writes the event row in the caller's transaction (and a ``NOTIFY`` that fires
only if it commits). The relay claims unpublished rows in id order under a transaction-scoped
advisory lock, so exactly one relay per database publishes at a time and each key keeps its
order; a row is marked published only after the broker acknowledged it (``acks=all``). With the
broker down, writes keep succeeding and rows wait; they go out, oldest first, when it returns.
"""

from __future__ import annotations

import asyncio
import contextlib
import zlib
from datetime import datetime

import asyncpg
import structlog
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError
from sqlalchemy import (
    BigInteger,
    DateTime,
    Identity,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    func,
    select,
    text,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Mapped, declared_attr, mapped_column

from shared.events.envelope import CloudEvent
from shared.events.types import EventType
from shared.messaging.kafka import TopicGuard, new_producer

log = structlog.get_logger("outbox")

NOTIFY_CHANNEL = "callpulse_outbox"


class OutboxMixin:
    """Columns of a service's ``outbox`` table; mix into the service's declarative base."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(200), unique=True)
    event_type: Mapped[str] = mapped_column(String(200))
    topic: Mapped[str] = mapped_column(String(200))
    key: Mapped[str | None] = mapped_column(String(500))
    payload: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    last_error: Mapped[str | None] = mapped_column(Text)

    @declared_attr.directive
    def __table_args__(cls) -> tuple:
        return (
            Index(
                "ix_outbox_unpublished",
                "id",
                postgresql_where=text("published_at IS NULL"),
            ),
        )


class Outbox:
    """Writes events into one service's outbox table."""

    def __init__(self, model: type[OutboxMixin]) -> None:
        self.model = model

    async def add(self, session: AsyncSession, *events: CloudEvent) -> None:
        for event in events:
            session.add(
                self.model(
                    event_id=event.id,
                    event_type=event.type,
                    topic=EventType(event.type).topic.value,
                    key=event.key,
                    payload=event.to_json(),
                )
            )
        await session.flush()
        await session.execute(text(f"NOTIFY {NOTIFY_CHANNEL}"))


class OutboxRelay:
    """Publishes committed outbox rows to Kafka; one task per service process."""

    def __init__(
        self,
        *,
        model: type[OutboxMixin],
        sessionmaker: async_sessionmaker[AsyncSession],
        bootstrap_servers: str,
        topics: list[str],
        partitions: int,
        replication_factor: int,
        listen_dsn: str | None,
        client_id: str,
        batch_size: int = 500,
        poll_interval_s: float = 0.5,
    ) -> None:
        self._model = model
        self._sessionmaker = sessionmaker
        self._bootstrap = bootstrap_servers
        self._topics = TopicGuard(
            bootstrap_servers, topics, partitions=partitions, replication_factor=replication_factor
        )
        self._listen_dsn = listen_dsn
        self._client_id = client_id
        self._batch_size = batch_size
        self._poll_interval_s = poll_interval_s
        self._lock_key = zlib.crc32(f"outbox:{model.__table__.fullname}".encode())  # type: ignore[attr-defined]
        self._wakeup = asyncio.Event()
        self._producer: AIOKafkaProducer | None = None
        self._task: asyncio.Task[None] | None = None
        self._listener: asyncpg.Connection | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="outbox-relay")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self._close_producer()
        if self._listener is not None:
            with contextlib.suppress(Exception):
                await self._listener.close(timeout=2)

    async def _run(self) -> None:
        await self._listen()
        backoff = self._poll_interval_s
        while True:
            try:
                await self._ensure_producer()
                sent = await self.publish_pending()
                backoff = self._poll_interval_s
                if sent >= self._batch_size:
                    continue
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # broker or DB trouble: keep rows, back off, retry
                log.warning("outbox relay retrying", error=str(exc), retry_in_s=backoff)
                await self._close_producer()
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 10.0)
                continue
            self._wakeup.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wakeup.wait(), self._poll_interval_s)

    async def _listen(self) -> None:
        """Wake on NOTIFY so events leave within milliseconds of their commit."""
        if not self._listen_dsn:
            return
        try:
            self._listener = await asyncpg.connect(self._listen_dsn)
            await self._listener.add_listener(NOTIFY_CHANNEL, lambda *_: self._wakeup.set())
        except (OSError, asyncpg.PostgresError) as exc:
            log.warning("outbox LISTEN unavailable, polling instead", error=str(exc))

    async def _ensure_producer(self) -> None:
        if self._producer is not None:
            return
        await self._topics.ensure()
        producer = new_producer(self._bootstrap, client_id=self._client_id)
        try:
            await producer.start()
        except BaseException:
            await producer.stop()
            raise
        self._producer = producer

    async def _close_producer(self) -> None:
        await self._topics.close()
        producer, self._producer = self._producer, None
        if producer is not None:
            with contextlib.suppress(Exception):
                await producer.stop()

    async def publish_pending(self) -> int:
        """Publish one batch of unpublished rows in id order; returns how many were sent."""
        assert self._producer is not None
        model = self._model
        async with self._sessionmaker() as session, session.begin():
            locked = await session.scalar(select(func.pg_try_advisory_xact_lock(self._lock_key)))
            if not locked:
                return 0
            rows = (
                await session.execute(
                    select(model.id, model.topic, model.key, model.payload)
                    .where(model.published_at.is_(None))
                    .order_by(model.id)
                    .limit(self._batch_size)
                )
            ).all()
            if not rows:
                return 0
            await self._topics.ensure()
            futures = [
                await self._producer.send(
                    row.topic, value=row.payload, key=row.key.encode() if row.key else None
                )
                for row in rows
            ]
            results = await asyncio.gather(*futures, return_exceptions=True)
            # Only an unbroken prefix counts as published: a later row of the same key must
            # never be marked sent while an earlier one still waits.
            acked = next(
                (i for i, r in enumerate(results) if isinstance(r, BaseException)), len(rows)
            )
            if acked:
                await session.execute(
                    update(model)
                    .where(model.id.in_([row.id for row in rows[:acked]]))
                    .values(published_at=func.now(), attempts=model.attempts + 1)
                )
            if acked < len(rows):
                await session.execute(
                    update(model)
                    .where(model.id == rows[acked].id)
                    .values(attempts=model.attempts + 1, last_error=str(results[acked])[:2000])
                )
        if acked < len(rows):
            raise KafkaError(f"published {acked} of {len(rows)}: {results[acked]}")
        return acked
