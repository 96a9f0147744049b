"""Pipeline benchmark: CTI events from publish until applied by the metrics service.

``make bench`` (or ``python -m bench.pipeline``) starts an embedded PostgreSQL (or uses
``BENCH_DATABASE_URL``) and a fresh embedded broker, then measures in one run:

1. raw broker throughput, the baseline: the messages published to a topic of their own and
   read (offsets committed per batch) by a plain consumer — first publish to last read;
2. pipeline throughput: the same messages published to ``cti.events`` until the metrics
   service (its real consumer, ingest, signals and database) has committed every one —
   first publish to last applied;
3. catch-up: the same messages already waiting in the topic, from the moment the service's
   consumer is assigned until it has applied every one (the service alone on the machine),
   against the plain consumer reading the same backlog;
4. latency at a fixed offered rate: probe logins (agents of a probe team) published among the
   traffic, each timed from its publish until ``GET /v1/realtime/agents?team_id=`` shows it.

The publisher always runs in a process of its own (``multiprocessing``, spawned), so it never
shares the event loop or the GIL with what is measured; raw and pipeline runs use the same
publisher, the same messages, partitions and broker, so their ratio compares like with like.
Publish and arrival times are read from the same monotonic clock in both processes. "Applied"
is the consumer's applied-events counter, which counts a batch once its transaction commits.

Figures are machine-dependent; the ratio to the raw baseline is what compares across runs.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import multiprocessing
import os
import queue
import statistics
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer
from fastapi import FastAPI

from services.metrics.app import create_app
from services.metrics.settings import MetricsSettings
from services.metrics.simulator import Activity, DaySimulation, SimAgent
from shared.auth import issue_token
from shared.embedded import EmbeddedKafka, EmbeddedPostgres, free_port
from shared.events import CloudEvent, EventType, make_event
from shared.events.cti import AgentLoggedIn
from shared.events.roster import TeamChanged
from shared.messaging.inbox import EVENTS_APPLIED
from shared.messaging.kafka import ensure_topics, new_producer
from tests.conftest import migrate, recreate_database

ROOT = Path(__file__).resolve().parent.parent
PROBE_TEAM = "bench-probes"

Message = tuple[bytes, bytes | None]


def traffic(agents: int, day: datetime) -> list[CloudEvent]:
    plan = []
    for i in range(agents):
        start = day + timedelta(hours=7 + i % 4)
        plan.append(
            SimAgent(
                f"bench-{i}",
                f"queue-{i % 5}",
                (
                    Activity("work", start, start + timedelta(hours=2)),
                    Activity(
                        "break", start + timedelta(hours=2), start + timedelta(hours=2, minutes=15)
                    ),
                    Activity(
                        "work", start + timedelta(hours=2, minutes=15), start + timedelta(hours=8)
                    ),
                ),
            )
        )
    return DaySimulation(plan, seed=1, timezone="UTC", peak_calls_per_min=agents / 6).run(
        day, day + timedelta(days=1)
    )


def message(event: CloudEvent) -> Message:
    return event.to_json(), event.key.encode() if event.key else None


# -- the publisher process ---------------------------------------------------------------------


@dataclass
class Published:
    """What the publisher reports: when it started and finished, and when each probe left."""

    started: float
    finished: float
    probes_sent: dict[str, float] = field(default_factory=dict)


def publisher_main(
    bootstrap: str,
    topic: str,
    messages: list[Message],
    rate: float | None,
    probes: dict[int, tuple[str, Message]],
    ready: Any,
    go: Any,
    results: Any,
) -> None:
    """Entry point of the publisher process: connect, wait for the go, publish, report."""
    results.put(asyncio.run(publish(bootstrap, topic, messages, rate, probes, ready, go)))


async def publish(
    bootstrap: str,
    topic: str,
    messages: list[Message],
    rate: float | None,
    probes: dict[int, tuple[str, Message]],
    ready: Any,
    go: Any,
) -> Published:
    """Publish ``messages`` (at ``rate`` per second, else flat out); probe ``i`` after message
    ``i``. Connected and topic metadata loaded before ``ready``, so the clock starts at the
    first send."""
    producer = new_producer(bootstrap, client_id="bench-publisher")
    await producer.start()
    try:
        await producer.partitions_for(topic)
        ready.set()
        await asyncio.to_thread(go.wait)
        report = Published(started=time.monotonic(), finished=0.0)
        futures = []
        for i, (value, key) in enumerate(messages):
            futures.append(await producer.send(topic, value=value, key=key))
            probe = probes.get(i)
            if probe is not None:
                agent_id, (probe_value, probe_key) = probe
                report.probes_sent[agent_id] = time.monotonic()
                futures.append(await producer.send(topic, value=probe_value, key=probe_key))
            if rate and i % 25 == 0:
                ahead = (i + 1) / rate - (time.monotonic() - report.started)
                if ahead > 0:
                    await asyncio.sleep(ahead)
        await asyncio.gather(*futures)
        report.finished = time.monotonic()
        return report
    finally:
        await producer.stop()


class Publisher:
    """A publisher process, connected and waiting; :meth:`start` releases it."""

    def __init__(
        self,
        bootstrap: str,
        topic: str,
        messages: list[Message],
        *,
        rate: float | None = None,
        probes: dict[int, tuple[str, Message]] | None = None,
    ) -> None:
        context = multiprocessing.get_context("spawn")
        self._ready, self._go, self._results = context.Event(), context.Event(), context.Queue()
        self._process = context.Process(
            target=publisher_main,
            args=(
                bootstrap,
                topic,
                messages,
                rate,
                probes or {},
                self._ready,
                self._go,
                self._results,
            ),
            name="bench-publisher",
        )

    async def __aenter__(self) -> Publisher:
        self._process.start()
        await self._while_alive(lambda: self._ready.wait(0.1), "connect")
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if self._process.is_alive():
            self._process.terminate()
        await asyncio.to_thread(self._process.join, 10)

    def start(self) -> None:
        self._go.set()

    async def report(self) -> Published:
        report: Published = await self._while_alive(
            lambda: self._results.get(True, 0.1), "publish", empty=queue.Empty
        )
        await asyncio.to_thread(self._process.join, 10)
        return report

    async def _while_alive(
        self, step: Callable[[], Any], what: str, empty: type[Exception] | None = None
    ) -> Any:
        """Repeat a short blocking ``step`` until it yields a result; fail if the process died."""
        while True:
            try:
                result = await asyncio.to_thread(step)
            except Exception as exc:
                if empty is None or not isinstance(exc, empty):
                    raise
                result = None
            if result:
                return result
            if not self._process.is_alive():
                raise RuntimeError(f"the publisher process died before it could {what}")


# -- measurements ------------------------------------------------------------------------------


async def raw_throughput(bootstrap: str, messages: list[Message]) -> tuple[float, float]:
    """The baseline: publisher process → topic → a plain consumer committing every batch;
    then the same consumer group reading the same messages again as a waiting backlog."""
    topic = "bench.raw"
    await ensure_topics(bootstrap, [topic], partitions=6)
    async with Publisher(bootstrap, topic, messages) as publisher:
        async with raw_consumer(bootstrap, topic) as consumer:
            publisher.start()
            done = await consume(consumer, len(messages))
        report = await publisher.report()
    live = len(messages) / (done - report.started)

    async with Publisher(bootstrap, topic, messages) as publisher:
        publisher.start()
        await publisher.report()
    async with raw_consumer(bootstrap, topic) as consumer:
        started = time.monotonic()
        done = await consume(consumer, len(messages))
    return live, len(messages) / (done - started)


@contextlib.asynccontextmanager
async def raw_consumer(bootstrap: str, topic: str) -> AsyncIterator[AIOKafkaConsumer]:
    """A plain consumer of ``topic``, its partitions assigned."""
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id="bench-raw",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        max_poll_records=500,
    )
    await consumer.start()
    try:
        await until(lambda: bool(consumer.assignment()), 60)
        yield consumer
    finally:
        await consumer.stop()


async def consume(consumer: AIOKafkaConsumer, count: int) -> float:
    """Read ``count`` messages, committing offsets after every batch; returns when done."""
    seen = 0
    while seen < count:
        batch = await consumer.getmany(timeout_ms=100, max_records=500)
        seen += sum(len(records) for records in batch.values())
        if batch:
            await consumer.commit()
    return time.monotonic()


def applied_count(consumer: str = "metrics.cti", topic: str = "cti.events") -> float:
    """Events a consumer of the service has committed: its in-process counter, which keeps
    counting across the service instances of one run (measure differences). Read from that
    one metric: collecting the whole registry (process stats from /proc) would load the
    process being measured."""
    labels = {"consumer": consumer, "topic": topic}
    for metric in EVENTS_APPLIED.collect():
        for sample in metric.samples:
            if sample.name == "callpulse_events_applied_total" and sample.labels == labels:
                return sample.value
    return 0.0


async def until(condition: Callable[[], Awaitable[bool] | bool], timeout_s: float = 600) -> float:
    """Wait until ``condition`` holds; returns the monotonic time it was first seen to."""
    deadline = time.monotonic() + timeout_s
    while True:
        result = condition()
        if not isinstance(result, bool):
            result = await result
        if result:
            return time.monotonic()
        if time.monotonic() > deadline:
            raise TimeoutError("the pipeline did not finish in time")
        await asyncio.sleep(0.02)


class Service:
    """The metrics app on its own fresh database, its consumers assigned."""

    def __init__(self, server_url: str, bootstrap: str, name: str) -> None:
        self._server_url, self._bootstrap, self._name = server_url, bootstrap, name
        self.app: FastAPI | None = None
        self.settings: MetricsSettings | None = None
        self._lifespan: Any = None

    async def __aenter__(self) -> Service:
        url = await recreate_database(self._server_url, f"callpulse_bench_{self._name}")
        await migrate(ROOT / "services" / "metrics" / "alembic.ini", url)
        settings = MetricsSettings(
            database_url=url,
            kafka_bootstrap_servers=self._bootstrap,
            environment="test",
            log_json=True,
            log_level="WARNING",
        )
        self.settings = settings
        self.app = create_app(settings)
        self._lifespan = self.app.router.lifespan_context(self.app)
        await self._lifespan.__aenter__()
        await until(lambda: all(c.assigned for c in self.app.state.consumers), 60)
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self._lifespan.__aexit__(*exc_info)


async def pipeline_throughput(
    server_url: str, bootstrap: str, messages: list[Message]
) -> tuple[float, float]:
    """Publish → applied with both running, then the catch-up of a pre-produced backlog."""
    async with Service(server_url, bootstrap, "throughput"):
        base = applied_count()
        async with Publisher(bootstrap, "cti.events", messages) as publisher:
            publisher.start()
            done = await until(lambda: applied_count() - base >= len(messages))
            report = await publisher.report()
    live = len(messages) / (done - report.started)

    async with Publisher(bootstrap, "cti.events", messages) as publisher:
        publisher.start()  # into the topic while no service runs
        await publisher.report()
    base = applied_count()  # the group resumes at its committed offsets: only the backlog
    async with Service(server_url, bootstrap, "catch_up"):
        started = time.monotonic()  # consumers assigned
        done = await until(lambda: applied_count() - base >= len(messages))
    return live, len(messages) / (done - started)


async def latency_at_rate(
    server_url: str,
    bootstrap: str,
    messages: list[Message],
    rate: float,
    probe_count: int,
) -> tuple[float, list[float]]:
    """Publish at ``rate``; each probe login timed until the realtime API shows it."""
    every = max(1, len(messages) // probe_count)
    probes: dict[int, tuple[str, Message]] = {}
    for i in range(0, len(messages), every):
        agent_id = f"probe-{i}"
        login = make_event(
            EventType.AGENT_LOGGED_IN,
            AgentLoggedIn(agent_id=agent_id),
            source="bench",
            time=datetime.now(UTC),
        )
        probes[i] = (agent_id, message(login))
    async with Service(server_url, bootstrap, "latency") as service:
        await join_probe_team(service, bootstrap, [agent_id for agent_id, _ in probes.values()])
        seen: dict[str, float] = {}
        base = applied_count()
        async with Publisher(bootstrap, "cti.events", messages, rate=rate, probes=probes) as pub:
            poller = asyncio.create_task(poll_probes(service, len(probes), seen))
            pub.start()
            total = len(messages) + len(probes)
            done = await until(lambda: applied_count() - base >= total)
            await asyncio.wait_for(poller, 60)
            report = await pub.report()
    latencies = [seen[agent_id] - sent for agent_id, sent in report.probes_sent.items()]
    return len(messages) / (done - report.started), latencies


async def join_probe_team(service: Service, bootstrap: str, agent_ids: list[str]) -> None:
    """Put the probe agents in a team of their own, so polling them reads only them."""
    team = make_event(
        EventType.TEAM_CHANGED,
        TeamChanged(
            team_id=PROBE_TEAM,
            name="Benchmark probes",
            member_ids=agent_ids,
            joined=agent_ids,
            effective_at=datetime(2020, 1, 1, tzinfo=UTC),
        ),
        source="bench",
        time=datetime(2020, 1, 1, tzinfo=UTC),
    )
    base = applied_count("metrics.roster", "roster.changes")
    producer = new_producer(bootstrap, client_id="bench-roster")
    await producer.start()
    try:
        await producer.send_and_wait("roster.changes", value=team.to_json(), key=team.key.encode())
    finally:
        await producer.stop()
    await until(lambda: applied_count("metrics.roster", "roster.changes") > base)


async def poll_probes(service: Service, expected: int, seen: dict[str, float]) -> None:
    """One poller of the probe team every 20 ms: measuring barely loads the measured service."""
    assert service.app is not None and service.settings is not None
    token, _ = issue_token(service.settings, subject="bench", role="admin", team_ids=[])
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=service.app),
        base_url="http://metrics",
        headers={"Authorization": f"Bearer {token}"},
    ) as client:
        while len(seen) < expected:
            response = await client.get("/v1/realtime/agents", params={"team_id": PROBE_TEAM})
            now = time.monotonic()
            for agent in response.json():
                seen.setdefault(agent["agent_id"], now)
            await asyncio.sleep(0.02)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def main(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(prefix="callpulse-bench-") as tmp:
        server_url = os.environ.get("BENCH_DATABASE_URL")
        postgres = None
        if not server_url:
            postgres = EmbeddedPostgres(Path(tmp) / "postgres")
            server_url = postgres.start()
        kafka = EmbeddedKafka(port=free_port(), log_dir=Path(tmp))
        kafka.start()
        try:
            bootstrap = kafka.bootstrap_servers
            day = datetime(2026, 11, 23, tzinfo=UTC)
            messages = [message(e) for e in traffic(args.agents, day)[: args.events]]
            await ensure_topics(bootstrap, ["cti.events", "cti.events.dlq"], partitions=6)
            raw, raw_catch_up = await raw_throughput(bootstrap, messages)
            live, catch_up = await pipeline_throughput(server_url, bootstrap, messages)
            later = traffic(args.agents, day + timedelta(days=1))[: int(args.rate * args.seconds)]
            offered, latencies = await latency_at_rate(
                server_url, bootstrap, [message(e) for e in later], args.rate, args.probes
            )
        finally:
            kafka.stop()
            if postgres is not None:
                postgres.stop()

    rows = [
        ("events (publisher in its own process)", f"{len(messages):,}"),
        ("raw broker publish -> consumed (events/s)", f"{raw:,.0f}"),
        ("pipeline publish -> applied (events/s)", f"{live:,.0f}"),
        ("pipeline / raw", f"{live / raw:.2f}"),
        ("catch-up of a waiting backlog (events/s)", f"{catch_up:,.0f}"),
        ("raw consume of a waiting backlog (events/s)", f"{raw_catch_up:,.0f}"),
        ("catch-up / raw consume", f"{catch_up / raw_catch_up:.2f}"),
        (f"latency run: {args.rate:,.0f} events/s offered, applied at", f"{offered:,.0f}"),
        (
            f"publish -> visible in API p50 (ms, {len(latencies)} probes)",
            f"{statistics.median(latencies) * 1000:,.0f}",
        ),
        ("publish -> visible in API p99 (ms)", f"{percentile(latencies, 0.99) * 1000:,.0f}"),
    ]
    width = max(len(name) for name, _ in rows)
    print()
    for name, value in rows:
        print(f"{name:<{width}}  {value:>8}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="CallPulse metrics pipeline benchmark")
    parser.add_argument("--agents", type=int, default=300)
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--rate", type=float, default=5_000)
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument("--probes", type=int, default=80)
    asyncio.run(main(parser.parse_args()))
