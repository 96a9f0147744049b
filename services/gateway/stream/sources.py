"""Where the stream's events come from.

- Agent states and queue figures: the metrics service owns the agent state machine and the
  queue maths, so the gateway does not rebuild them from ``cti.events``; it reads metrics'
  ``/v1/realtime/agents`` and ``/v1/realtime/queues`` every ``stream_poll_interval_s`` over the
  pooled upstream client, as a service caller (a short-lived ``ops`` token it signs itself: ops
  reads every agent and queue and no care data), and pushes only what changed. One poller per
  gateway process whatever the number of clients, and only while at least one is connected, so
  an unwatched gateway costs metrics nothing. Changes between two polls are folded into one
  (a client sees the state at each poll, which is what a wallboard shows anyway).
- Care tasks: ``care.events`` from Kafka, read without a consumer group from the latest offset.
  Every gateway replica must see every task change (each serves its own clients), which a
  shared group would split; events from before the process started are of no use to a stream
  whose ids start over with it (a client from before gets a reset and re-lists tasks).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import OrderedDict
from datetime import UTC, datetime

import structlog
from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.errors import KafkaError

from services.gateway.settings import GatewaySettings
from services.gateway.stream.changes import care_task, queue_changed, queue_snapshot
from services.gateway.stream.hub import Hub
from services.gateway.stream.schemas import AgentState, QueueFigures, QueueSnapshot
from services.gateway.stream.visibility import Audience, Kind
from services.gateway.upstreams import Upstreams
from shared.auth import issue_token
from shared.events import InvalidEvent, Topic, parse_event
from shared.messaging.kafka import ensure_topics

log = structlog.get_logger("stream")

SERVICE_SUBJECT = "gateway:stream"


class ServiceCredential:
    """A short-lived ``ops`` token for the gateway itself, signed again before it expires.

    Signed like local accounts' tokens (HS256, ``JWT_SECRET``): where the services accept only
    an external identity provider's tokens (RS256), metrics refuses it and the stream carries
    care tasks only."""

    TTL_S = 300

    def __init__(self, settings: GatewaySettings) -> None:
        self._settings = settings.model_copy(update={"access_token_ttl_s": self.TTL_S})
        self._header = ""
        self._renew_at = 0.0

    def authorization(self) -> str:
        now = time.monotonic()
        if now >= self._renew_at:
            token, ttl = issue_token(
                self._settings, subject=SERVICE_SUBJECT, role="ops", team_ids=[]
            )
            self._header = f"Bearer {token}"
            self._renew_at = now + ttl / 2
        return self._header


class PollFailed(Exception):
    pass


class MetricsPoller:
    """Reads metrics every ``interval_s`` while the hub is watched, and on demand when a client
    connects to an idle hub."""

    def __init__(self, hub: Hub, upstreams: Upstreams, settings: GatewaySettings) -> None:
        self._hub = hub
        self._upstreams = upstreams
        self._credential = ServiceCredential(settings)
        self._interval_s = settings.stream_poll_interval_s
        self._agents: dict[str, AgentState] = {}
        self._queues: dict[str, QueueSnapshot] = {}
        """The last state pushed of each agent and queue."""
        self._read_at: float | None = None
        self._failing = False
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None

    @property
    def fresh(self) -> bool:
        """Whether the states were read recently enough to hand out as a snapshot."""
        return (
            self._read_at is not None
            and time.monotonic() - self._read_at <= 2 * self._interval_s + 1
        )

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="stream-metrics-poller")

    async def stop(self, grace_s: float = 2.0) -> None:
        """Let a read in flight finish (an abandoned query costs metrics its connection),
        then stop."""
        if self._task is None:
            return
        idle = False
        with contextlib.suppress(TimeoutError):  # stuck: cancel it mid-read after all
            idle = await asyncio.wait_for(self._lock.acquire(), grace_s)
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        if idle:
            self._lock.release()

    async def ensure_fresh(self, timeout_s: float) -> None:
        """Read now unless a recent read exists (an idle poller's states may be old). Gives up
        after ``timeout_s``: the snapshot then says how old it is (``as_of``)."""
        if self.fresh:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._poll(only_if_stale=True), timeout_s)

    async def _run(self) -> None:
        while True:
            await self._hub.watched.wait()
            await self._poll()
            await asyncio.sleep(self._interval_s)

    async def _poll(self, *, only_if_stale: bool = False) -> None:
        async with self._lock:
            if only_if_stale and self.fresh:
                return
            try:
                await self.poll_once()
            except Exception as exc:  # metrics away or answering nonsense: keep the last state
                if not self._failing:
                    log.warning("stream cannot read metrics", error=str(exc) or repr(exc))
                self._failing = True
                return
            if self._failing:
                log.info("stream reads metrics again")
            self._failing = False
            self._read_at = time.monotonic()

    async def poll_once(self) -> None:
        as_of = datetime.now(UTC)
        headers = {"authorization": self._credential.authorization()}
        agents, queues = await asyncio.gather(
            self._upstreams.get_json("metrics", "/v1/realtime/agents", headers=headers),
            self._upstreams.get_json("metrics", "/v1/realtime/queues", headers=headers),
        )
        for response in (agents, queues):
            if response.status_code != 200:
                raise PollFailed(f"metrics answered {response.status_code} to {response.url.path}")
        self.apply(
            [AgentState.model_validate(a) for a in agents.json()],
            [QueueFigures.model_validate(q) for q in queues.json()],
            as_of,
        )

    def apply(self, agents: list[AgentState], queues: list[QueueFigures], as_of: datetime) -> None:
        """Remember every state for snapshots; push what changed since the last push (on the
        first read, everything: a client may have connected while metrics was away)."""
        hub = self._hub
        for agent in agents:
            data = agent.model_dump(mode="json")
            audience = Audience(agent_id=agent.agent_id, team_id=agent.team_id)
            hub.set_current(Kind.AGENT_STATE, agent.agent_id, data, audience)
            if self._agents.get(agent.agent_id) != agent:
                self._agents[agent.agent_id] = agent
                hub.publish(Kind.AGENT_STATE, data, audience)
        reported = set()
        for figures in queues:
            reported.add(figures.queue_id)
            snapshot = queue_snapshot(figures, as_of)
            data = snapshot.model_dump(mode="json")
            hub.set_current(Kind.QUEUE_SNAPSHOT, figures.queue_id, data, Audience())
            if queue_changed(self._queues.get(figures.queue_id), snapshot):
                self._queues[figures.queue_id] = snapshot
                hub.publish(Kind.QUEUE_SNAPSHOT, data, Audience())
        for queue_id in set(self._queues) - reported:
            # no call today (a new day began): the queue's figures start from zero
            del self._queues[queue_id]
            hub.forget(Kind.QUEUE_SNAPSHOT, queue_id)
            idle = queue_snapshot(
                QueueFigures(
                    queue_id=queue_id,
                    calls_waiting=0,
                    offered_today=0,
                    answered_today=0,
                    abandoned_today=0,
                ),
                as_of,
            )
            hub.publish(Kind.QUEUE_SNAPSHOT, idle.model_dump(mode="json"), Audience())
        hub.as_of = as_of.isoformat()


class CareTaskFeed:
    """``care.events`` into ``care_task`` events. After a lost connection it goes on from the
    offsets where it stopped; an event id delivered twice is pushed once."""

    SEEN_IDS = 10_000

    def __init__(self, hub: Hub, settings: GatewaySettings) -> None:
        self._hub = hub
        self._bootstrap = settings.kafka_bootstrap_servers
        self._partitions = settings.kafka_topic_partitions
        self._replication = settings.kafka_replication_factor
        self._consumer: AIOKafkaConsumer | None = None
        self._next_offsets: dict[TopicPartition, int] = {}
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._task: asyncio.Task[None] | None = None

    @property
    def ready(self) -> bool:
        """Positioned on every partition: any task change published from now on is pushed."""
        return self._consumer is not None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="stream-care-events")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self._close()

    async def _run(self) -> None:
        backoff = 0.5
        while True:
            try:
                consumer = self._consumer or await self._connect()
                batches = await consumer.getmany(timeout_ms=500)
                for partition, records in batches.items():
                    self.apply(records)
                    self._next_offsets[partition] = records[-1].offset + 1
                backoff = 0.5
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # broker trouble: reconnect and go on where we stopped
                log.warning("stream care feed retrying", error=str(exc) or repr(exc))
                await self._close()
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 10.0)

    async def _connect(self) -> AIOKafkaConsumer:
        topic = Topic.CARE_EVENTS.value
        await ensure_topics(
            self._bootstrap,
            [topic, Topic.CARE_EVENTS.dlq],
            partitions=self._partitions,
            replication_factor=self._replication,
        )
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self._bootstrap,
            group_id=None,
            client_id="gateway-stream",
            enable_auto_commit=False,
            auto_offset_reset="latest",
        )
        try:
            await consumer.start()
            await consumer.topics()  # fresh metadata
            numbers = consumer.partitions_for_topic(topic)
            if not numbers:
                raise KafkaError(f"no partitions known for {topic} yet")
            partitions = [TopicPartition(topic, n) for n in sorted(numbers)]
            consumer.assign(partitions)
            unknown = [p for p in partitions if p not in self._next_offsets]
            if unknown:  # from now on; after a lost connection, from where it stopped
                self._next_offsets.update(await consumer.end_offsets(unknown))
            for partition in partitions:
                consumer.seek(partition, self._next_offsets[partition])
        except BaseException:
            await consumer.stop()
            raise
        self._consumer = consumer
        return consumer

    async def _close(self) -> None:
        consumer, self._consumer = self._consumer, None
        if consumer is not None:
            with contextlib.suppress(Exception):
                await consumer.stop()

    def apply(self, records: list[ConsumerRecord]) -> None:
        for record in records:
            try:
                event = parse_event(record.value)
            except InvalidEvent as exc:  # care's own consumers dead-letter it; we just skip it
                log.warning(
                    "stream skipped an invalid care event", offset=record.offset, error=str(exc)
                )
                continue
            task = care_task(event)
            if task is None or event.id in self._seen:
                continue
            self._seen[event.id] = None
            if len(self._seen) > self.SEEN_IDS:
                self._seen.popitem(last=False)
            self._hub.publish(
                Kind.CARE_TASK,
                task.model_dump(mode="json"),
                Audience(
                    agent_id=task.agent_id, team_id=task.team_id, assignee_id=task.assignee_id
                ),
            )
