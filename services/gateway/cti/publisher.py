"""The gateway's producer to ``cti.events``: created in the app lifespan, connected on demand.

A publish sends every event first, then waits for the broker to acknowledge each one
(``acks=all``), all within ``cti_publish_timeout_s``: a 2xx is only ever sent for events the
broker holds. When the broker cannot be reached, or does not answer in time, the request fails
with a 503 and the producer is dropped; the next publish connects afresh, so the gateway
recovers on its own when the broker returns (and starts even while it is away).

A failed publish may have delivered some of its events. That is harmless by design: ids are
stable (the caller re-sends the same ids, and the adapters derive theirs from the input) and
every consumer applies an id at most once.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Sequence

import structlog
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError
from fastapi import FastAPI

from services.gateway.settings import GatewaySettings
from shared.errors import ServiceUnavailable
from shared.events import CloudEvent, Topic
from shared.messaging.kafka import ensure_topics, new_producer, topic_names

log = structlog.get_logger("cti.publisher")


class BrokerUnavailable(ServiceUnavailable):
    type = "broker-unavailable"

    def __init__(self, reason: str) -> None:
        super().__init__(
            f"The event broker is unavailable ({reason}); nothing was accepted. Retry later: "
            "re-sending the same events is harmless.",
            service="broker",
        )


class CtiPublisher:
    def __init__(self, settings: GatewaySettings) -> None:
        self._settings = settings
        self._timeout_s = settings.cti_publish_timeout_s
        self._producer: AIOKafkaProducer | None = None
        self._connecting = asyncio.Lock()
        self._closing: set[asyncio.Task[None]] = set()

    async def publish(self, events: Sequence[CloudEvent]) -> None:
        """Publish and wait for every acknowledgement; raises :class:`BrokerUnavailable`."""
        if not events:
            return
        try:
            async with asyncio.timeout(self._timeout_s):
                producer = await self._connected()
                acks = [
                    await producer.send(
                        Topic.CTI_EVENTS.value,
                        value=event.to_json(),
                        key=event.key.encode() if event.key else None,
                    )
                    for event in events
                ]
                await asyncio.gather(*acks)
        except TimeoutError:
            self._drop()
            raise BrokerUnavailable(f"no acknowledgement within {self._timeout_s:g} s") from None
        except (KafkaError, OSError) as exc:
            self._drop()
            raise BrokerUnavailable(type(exc).__name__) from None

    async def _connected(self) -> AIOKafkaProducer:
        async with self._connecting:
            if self._producer is None:
                settings = self._settings
                await ensure_topics(
                    settings.kafka_bootstrap_servers,
                    topic_names([Topic.CTI_EVENTS]),
                    partitions=settings.kafka_topic_partitions,
                    replication_factor=settings.kafka_replication_factor,
                )
                producer = new_producer(settings.kafka_bootstrap_servers, client_id="gateway-cti")
                try:
                    await producer.start()
                except BaseException:
                    self._stop_later(producer)
                    raise
                self._producer = producer
            return self._producer

    async def warm_up(self) -> None:
        """Connect ahead of the first request; a broker that is away is no error yet."""
        try:
            async with asyncio.timeout(self._timeout_s):
                await self._connected()
        except (TimeoutError, KafkaError, OSError) as exc:
            log.warning("broker not reachable yet", error=str(exc) or type(exc).__name__)

    def _drop(self) -> None:
        producer, self._producer = self._producer, None
        if producer is not None:
            self._stop_later(producer)

    def _stop_later(self, producer: AIOKafkaProducer) -> None:
        """Stopping flushes what is still buffered, which may wait on a dead broker: never in
        a request's time."""
        task = asyncio.create_task(self._stop(producer))
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    async def _stop(self, producer: AIOKafkaProducer) -> None:
        with contextlib.suppress(Exception):
            async with asyncio.timeout(self._settings.cti_publish_timeout_s):
                await producer.stop()

    async def close(self) -> None:
        self._drop()
        await asyncio.gather(*self._closing, return_exceptions=True)


def publisher_resource(
    settings: GatewaySettings,
) -> Callable[[FastAPI], contextlib.AbstractAsyncContextManager[None]]:
    @contextlib.asynccontextmanager
    async def open_publisher(app: FastAPI) -> AsyncIterator[None]:
        publisher = CtiPublisher(settings)
        app.state.cti_publisher = publisher
        warm_up = asyncio.create_task(publisher.warm_up())
        try:
            yield
        finally:
            warm_up.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await warm_up
            await publisher.close()

    return open_publisher
