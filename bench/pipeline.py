"""Pipeline benchmark: CTI events from publish until applied by the metrics service.

``make bench`` (or ``python -m bench.pipeline``) starts an embedded PostgreSQL (or uses
``BENCH_DATABASE_URL``) and a fresh embedded broker, then measures in one process:

1. raw broker throughput: the same messages produced (acks=all) and consumed by a plain
   consumer on the same broker — the baseline;
2. pipeline throughput: the messages published to ``cti.events`` until the metrics service
   (its real consumer, ingest and database) has applied every one;
3. latency at a fixed offered rate: probe events (logins of probe agents) published among the
   traffic, each timed until the API shows that agent's state.

Figures are machine-dependent; the ratio to the raw baseline is what compares across runs.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from aiokafka import AIOKafkaConsumer
from sqlalchemy import func, select

from services.metrics.app import create_app
from services.metrics.db import InboxMessage
from services.metrics.settings import MetricsSettings
from services.metrics.simulator import Activity, DaySimulation, SimAgent
from shared.auth import issue_token
from shared.db import make_engine, make_sessionmaker
from shared.embedded import EmbeddedKafka, EmbeddedPostgres, free_port
from shared.events import CloudEvent, EventType, make_event
from shared.events.cti import AgentLoggedIn
from shared.messaging.kafka import ensure_topics, new_producer
from tests.conftest import migrate, recreate_database

ROOT = Path(__file__).resolve().parent.parent


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


async def raw_throughput(bootstrap: str, payloads: list[tuple[bytes, bytes | None]]) -> float:
    topic = "bench.raw"
    await ensure_topics(bootstrap, [topic], partitions=6)
    producer = new_producer(bootstrap, client_id="bench-raw")
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id="bench-raw",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        max_poll_records=500,
    )
    await producer.start()
    await consumer.start()
    started = time.perf_counter()
    try:
        futures = [await producer.send(topic, value=v, key=k) for v, k in payloads]
        await asyncio.gather(*futures)
        seen = 0
        while seen < len(payloads):
            batch = await consumer.getmany(timeout_ms=200, max_records=500)
            seen += sum(len(r) for r in batch.values())
            await consumer.commit()
    finally:
        await producer.stop()
        await consumer.stop()
    return len(payloads) / (time.perf_counter() - started)


async def applied(sessionmaker) -> int:
    async with sessionmaker() as session:
        return await session.scalar(select(func.count()).select_from(InboxMessage))


async def pipeline_run(
    url: str, bootstrap: str, events: list[CloudEvent], rate: float | None, probes: int
) -> tuple[float, list[float]]:
    settings = MetricsSettings(
        database_url=url,
        kafka_bootstrap_servers=bootstrap,
        environment="test",
        log_json=True,
        log_level="WARNING",
    )
    app = create_app(settings)
    engine = make_engine(settings.sqlalchemy_url, pool_size=2)
    sessionmaker = make_sessionmaker(engine)
    token, _ = issue_token(settings, subject="bench", role="admin", team_ids=[])
    headers = {"Authorization": f"Bearer {token}"}
    latencies: list[float] = []
    try:
        async with app.router.lifespan_context(app):
            await ensure_topics(bootstrap, ["cti.events", "cti.events.dlq"], partitions=6)
            async with httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://metrics"
            ) as client:
                await asyncio.sleep(2)  # consumer group joined
                producer = new_producer(bootstrap, client_id="bench-pipeline")
                await producer.start()
                probe_every = max(1, len(events) // probes) if probes else 0
                pending: dict[str, float] = {}
                poller = asyncio.create_task(poll_probes(client, headers, pending, latencies))
                sent_probes = 0
                started = time.perf_counter()
                try:
                    for i, event in enumerate(events):
                        await producer.send(
                            "cti.events",
                            value=event.to_json(),
                            key=event.key.encode() if event.key else None,
                        )
                        if probe_every and i % probe_every == 0:
                            probe = make_event(
                                EventType.AGENT_LOGGED_IN,
                                AgentLoggedIn(agent_id=f"probe-{i}"),
                                source="bench",
                                time=datetime.now(UTC),
                            )
                            pending[f"probe-{i}"] = time.perf_counter()
                            await producer.send(
                                "cti.events", value=probe.to_json(), key=probe.key.encode()
                            )
                            sent_probes += 1
                        if rate:
                            lag = (i + 1) / rate - (time.perf_counter() - started)
                            if lag > 0:
                                await asyncio.sleep(lag)
                    await producer.flush()
                finally:
                    await producer.stop()
                total = len(events) + sent_probes
                while True:
                    if await applied(sessionmaker) >= total:
                        break
                    await asyncio.sleep(0.05)
                elapsed = time.perf_counter() - started
                while True:
                    if not pending:
                        break
                    await asyncio.sleep(0.05)
                poller.cancel()
    finally:
        await engine.dispose()
    return len(events) / elapsed, latencies


async def poll_probes(
    client: httpx.AsyncClient, headers: dict, pending: dict[str, float], latencies: list[float]
) -> None:
    """One poller for all probes, so measuring does not load the service it measures."""
    while True:
        if pending:
            agents = (await client.get("/v1/realtime/agents", headers=headers)).json()
            now = time.perf_counter()
            for agent in agents:
                sent = pending.pop(agent["agent_id"], None)
                if sent is not None:
                    latencies.append(now - sent)
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
            day = datetime(2026, 11, 23, tzinfo=UTC)
            events = traffic(args.agents, day)[: args.events]
            payloads = [(e.to_json(), e.key.encode() if e.key else None) for e in events]
            raw = await raw_throughput(kafka.bootstrap_servers, payloads)

            url = await recreate_database(server_url, "callpulse_bench_throughput")
            await migrate(ROOT / "services" / "metrics" / "alembic.ini", url)
            throughput, _ = await pipeline_run(url, kafka.bootstrap_servers, events, None, 0)

            url = await recreate_database(server_url, "callpulse_bench_latency")
            await migrate(ROOT / "services" / "metrics" / "alembic.ini", url)
            later = traffic(args.agents, day + timedelta(days=1))[: int(args.rate * args.seconds)]
            offered, latencies = await pipeline_run(
                url, kafka.bootstrap_servers, later, args.rate, args.probes
            )
        finally:
            kafka.stop()
            if postgres is not None:
                postgres.stop()

    rows = [
        ("events", f"{len(events):,}"),
        ("raw broker produce+consume (events/s)", f"{raw:,.0f}"),
        ("pipeline publish -> applied (events/s)", f"{throughput:,.0f}"),
        ("pipeline / raw", f"{throughput / raw:.3f}"),
        (f"latency at {args.rate:,.0f} events/s offered: achieved (events/s)", f"{offered:,.0f}"),
        (
            "latency publish -> visible in API p50 (ms)",
            f"{statistics.median(latencies) * 1000:,.0f}",
        ),
        (
            "latency publish -> visible in API p99 (ms)",
            f"{percentile(latencies, 0.99) * 1000:,.0f}",
        ),
    ]
    width = max(len(r[0]) for r in rows)
    print()
    for name, value in rows:
        print(f"{name:<{width}}  {value:>10}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="CallPulse metrics pipeline benchmark")
    parser.add_argument("--agents", type=int, default=300)
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--rate", type=float, default=5_000)
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--probes", type=int, default=50)
    asyncio.run(main(parser.parse_args()))
