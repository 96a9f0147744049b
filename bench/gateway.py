"""Gateway overhead benchmark: ``GET /v1/people/{id}/overview`` through the gateway against the
same fetches made by the client straight to the services, in one run.

``make bench-gateway`` (or ``python -m bench.gateway``) starts an embedded PostgreSQL (or uses
``BENCH_DATABASE_URL``) and a fresh embedded broker, migrates a fresh database per service, and
runs roster, metrics, care and two gateways as real uvicorn servers on free ports, each in a
process of its own with the production defaults (one gateway on httpx with the aiohttp
transport, one on httpx's own transport: ``GATEWAY_UPSTREAM_TRANSPORT``; the gateways' rate
limits are lifted, a benchmark is not abuse). It seeds a floor: the roster's demo center (three
teams of 15 agents and their leads, through the roster's bootstrap), today's CTI traffic for
every agent (logins, calls, some tagged abusive, so KPIs, states and care tasks exist) and a
check-in per agent, and waits until metrics and care show all of it.

Each overview is asked by the agent's team lead (who may see every part) of three targets:

- direct, the baseline: the client itself runs the gateway's aggregation code
  (``services.gateway.aggregate.service.person_overview``) over the gateway's own kind of client
  pools, straight to the services: the same six fetches (profile, today's KPIs, open care tasks
  and the last check-in concurrently, then the real-time state and the risk) with the same
  per-part timeout;
- via the gateway on the aiohttp transport, and via the gateway on httpx's own.

Two loads, each from ``--concurrency`` clients in this process:

1. a closed loop (each client sends its next request as soon as its last one is answered):
   ``--warmup`` overviews, then ``--requests`` timed ones. This saturates the machine, so
   latency is concurrency divided by throughput (Little's law);
2. an open loop at a fixed offered rate (``--rate``, default half the direct throughput just
   measured) for ``--paced-seconds``: latency counts from when each request was due, so it shows
   what a client waits for when the servers are not saturated.

The load generator is httpx on the aiohttp transport (httpx's own transport would be the
bottleneck here). Every answer must be a 200 with every part ``ok``; anything else, a part that
timed out included, is counted as an error. Parts may take ``--part-timeout`` (30 s, against 2 s
in production): past its capacity the stack would otherwise answer with parts marked
unavailable after 2 s, and latency would measure the timeout rather than the work. Every process
shares the machine's cores, so the ratios to the direct baseline are what compare across
machines.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import IO, Any

import httpx
import psutil
from httpx_aiohttp import AiohttpTransport

from bench.pipeline import percentile, until
from services.gateway.aggregate.service import Fetcher, person_overview
from services.gateway.settings import GatewaySettings
from services.gateway.upstreams import Upstreams, upstreams_resource
from shared.auth import issue_token
from shared.embedded import EmbeddedKafka, EmbeddedPostgres, free_port
from shared.errors import Problem
from shared.events import CloudEvent, EventType, make_event
from shared.events.cti import (
    AgentLoggedIn,
    CallAnswered,
    CallEnded,
    CallOffered,
    CallTagged,
    CallWrapupEnded,
)
from shared.messaging.kafka import ensure_topics, new_producer
from shared.settings import ServiceSettings
from tests.conftest import migrate, recreate_database

ROOT = Path(__file__).resolve().parent.parent
SERVICES = ("roster", "metrics", "care")
TRANSPORTS = ("aiohttp", "httpx")
CALL_EVERY = timedelta(minutes=6)
TRAFFIC_HOURS = 2
HARD_CALL_EVERY = 7
"""Every seventh call is tagged abusive: a hard-call signal, so leads have open care tasks."""
IDLE_CPU_PERCENT = 5.0
"""A server below this (sampled over ``IDLE_SAMPLE_S``, twice in a row) is idle."""
IDLE_SAMPLE_S = 0.5


# -- the servers -------------------------------------------------------------------------------


class Server:
    """One service under uvicorn in a process of its own, its output in ``log_dir``."""

    def __init__(self, name: str, app: str, env: dict[str, str], log_dir: Path) -> None:
        self.name = name
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_dir / f"{name}.log"
        self._log: IO[bytes] = self.log_path.open("wb")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                f"services.{app}.app:create_app",
                "--factory",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--no-access-log",  # the services write their own access log
            ],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    async def ready(self, timeout_s: float = 60) -> None:
        async with httpx.AsyncClient(base_url=self.url, timeout=2, trust_env=False) as client:

            async def answers() -> bool:
                if self.process.poll() is not None:
                    raise RuntimeError(f"{self.name} exited; see {self.log_path}")
                with contextlib.suppress(httpx.HTTPError):
                    return (await client.get("/readyz")).status_code == 200
                return False

            await until(answers, timeout_s)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()


@dataclass
class Stack:
    servers: dict[str, Server]
    jwt: ServiceSettings
    """Signs tokens the servers accept (they share its secret)."""

    def headers(self, who: str, role: str, teams: list[str]) -> dict[str, str]:
        token, _ = issue_token(self.jwt, subject=who, role=role, team_ids=teams)
        return {"Authorization": f"Bearer {token}"}

    async def settle(self, timeout_s: float = 120) -> None:
        """Wait until every server is idle: requests a saturated run gave up on (a part past
        its timeout) are still being served after it ends, and events still being consumed
        after seeding, and either would slow the next run down."""
        processes = [psutil.Process(s.process.pid) for s in self.servers.values()]
        quiet_rounds = 0

        async def idle() -> bool:
            nonlocal quiet_rounds
            for process in processes:
                process.cpu_percent()  # starts the interval
            await asyncio.sleep(IDLE_SAMPLE_S)
            busy = max(process.cpu_percent() for process in processes)
            quiet_rounds = quiet_rounds + 1 if busy < IDLE_CPU_PERCENT else 0
            return quiet_rounds >= 2

        await until(idle, timeout_s)


@contextlib.asynccontextmanager
async def running_stack(
    server_url: str, bootstrap: str, log_dir: Path, part_timeout_s: float
) -> AsyncIterator[Stack]:
    """Fresh databases, the demo center bootstrapped, every server up and ready."""
    secret = secrets.token_urlsafe(32)
    env = dict(
        os.environ,
        ENVIRONMENT="development",
        JWT_SECRET=secret,
        KAFKA_BOOTSTRAP_SERVERS=bootstrap,
        PYTHONUNBUFFERED="1",
    )
    for name in (*SERVICES, "gateway"):
        url = await recreate_database(server_url, f"callpulse_bench_gw_{name}")
        await migrate(ROOT / "services" / name / "alembic.ini", url)
        env[f"{name.upper()}_DATABASE_URL"] = url
    bootstrap_log = (log_dir / "bootstrap.log").open("wb")
    with bootstrap_log:
        step = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "services.roster.bootstrap",
            cwd=ROOT,
            env=dict(env, DEMO="1"),
            stdout=bootstrap_log,
            stderr=subprocess.STDOUT,
        )
        if await step.wait() != 0:
            raise RuntimeError(f"the roster bootstrap failed; see {log_dir / 'bootstrap.log'}")

    servers: dict[str, Server] = {}
    try:
        for name in SERVICES:
            servers[name] = Server(name, name, env, log_dir)
            env[f"GATEWAY_{name.upper()}_URL"] = servers[name].url
        for transport in TRANSPORTS:
            gateway_env = dict(
                env,
                GATEWAY_UPSTREAM_TRANSPORT=transport,
                GATEWAY_RATE_LIMIT_USER_PER_MINUTE="1e9",
                GATEWAY_RATE_LIMIT_USER_BURST="1000000000",
                GATEWAY_PART_TIMEOUT_S=str(part_timeout_s),
            )
            servers[f"gateway-{transport}"] = Server(
                f"gateway-{transport}", "gateway", gateway_env, log_dir
            )
        await asyncio.gather(*(server.ready() for server in servers.values()))
        yield Stack(servers, ServiceSettings(jwt_secret=secret, environment="development"))
    finally:
        for server in servers.values():
            server.stop()


# -- the floor ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Agent:
    id: str
    team_id: str
    lead_id: str


async def load_floor(stack: Stack) -> list[Agent]:
    admin = stack.headers("bench-admin", "admin", [])
    async with httpx.AsyncClient(base_url=stack.servers["roster"].url, headers=admin) as roster:
        teams = (await roster.get("/v1/teams", params={"limit": 200})).json()["items"]
        people = (await roster.get("/v1/people", params={"role": "agent", "limit": 200})).json()[
            "items"
        ]
    lead_of = {team["id"]: team["lead_id"] for team in teams}
    return [
        Agent(person["id"], person["team_id"], lead_of[person["team_id"]])
        for person in people
        if person.get("team_id") in lead_of
    ]


def todays_traffic(agents: list[Agent], now: datetime) -> list[CloudEvent]:
    """Each agent logged in up to two hours ago (never before midnight UTC) and took a call
    every six minutes since."""
    midnight = datetime.combine(now.date(), datetime.min.time(), tzinfo=UTC)
    start = max(midnight, now - timedelta(hours=TRAFFIC_HOURS))
    events: list[CloudEvent] = []

    def emit(type_: EventType, data: Any, at: datetime) -> None:
        events.append(make_event(type_, data, source="bench", time=at))

    calls = itertools.count()
    for agent in agents:
        emit(EventType.AGENT_LOGGED_IN, AgentLoggedIn(agent_id=agent.id), start)
        at = start + timedelta(seconds=30)
        while at + timedelta(minutes=5) < now:
            n = next(calls)
            call, queue = f"bench-call-{n}", f"queue-{agent.team_id}"
            emit(EventType.CALL_OFFERED, CallOffered(call_id=call, queue_id=queue), at)
            answered = at + timedelta(seconds=5 + n % 20)
            emit(
                EventType.CALL_ANSWERED,
                CallAnswered(call_id=call, agent_id=agent.id, queue_id=queue),
                answered,
            )
            ended = answered + timedelta(seconds=120 + (n * 37) % 180)
            emit(EventType.CALL_ENDED, CallEnded(call_id=call, agent_id=agent.id), ended)
            if n % HARD_CALL_EVERY == 0:
                tags = CallTagged(call_id=call, agent_id=agent.id, tags=["abusive_customer"])
                emit(EventType.CALL_TAGGED, tags, ended)
            emit(
                EventType.CALL_WRAPUP_ENDED,
                CallWrapupEnded(call_id=call, agent_id=agent.id),
                ended + timedelta(seconds=30),
            )
            at += CALL_EVERY
    events.sort(key=lambda e: e.time)
    return events


async def publish(bootstrap: str, events: list[CloudEvent]) -> None:
    await ensure_topics(bootstrap, ["cti.events", "cti.events.dlq"], partitions=6)
    producer = new_producer(bootstrap, client_id="bench-gateway")
    await producer.start()
    try:
        sent = [
            await producer.send("cti.events", value=e.to_json(), key=(e.key or "").encode())
            for e in events
        ]
        await asyncio.gather(*sent)
    finally:
        await producer.stop()


async def seed_floor(stack: Stack, bootstrap: str, now: datetime) -> list[Agent]:
    """The demo center's agents with today's traffic and a check-in each, once the metrics and
    care services show it all."""
    agents = await load_floor(stack)
    teams = sorted({(a.team_id, a.lead_id) for a in agents})
    urls = {name: stack.servers[name].url for name in SERVICES}
    async with httpx.AsyncClient() as client:

        async def care_knows_the_floor() -> bool:
            for team_id, lead_id in teams:
                response = await client.get(
                    f"{urls['care']}/v1/care/balance",
                    params={"team_id": team_id},
                    headers=stack.headers(lead_id, "team_lead", [team_id]),
                )
                members = sum(1 for a in agents if a.team_id == team_id)
                if response.status_code != 200 or response.json()["summary"]["agents"] < members:
                    return False
            return True

        await until(care_knows_the_floor, 120)
        traffic = todays_traffic(agents, now)
        hard_calls = any(event.type == EventType.CALL_TAGGED for event in traffic)
        await publish(bootstrap, traffic)
        for agent in agents:
            response = await client.post(
                f"{urls['care']}/v1/care/checkins",
                json={"mood": 2 + len(agent.id) % 4, "stress": 3},
                headers=stack.headers(agent.id, "agent", [agent.team_id]),
            )
            response.raise_for_status()

        last = agents[-1]
        lead = stack.headers(last.lead_id, "team_lead", [last.team_id])

        async def metrics_has_the_day() -> bool:
            states = await client.get(
                f"{urls['metrics']}/v1/realtime/agents",
                params={"team_id": last.team_id},
                headers=lead,
            )
            tasks = await client.get(
                f"{urls['care']}/v1/care/tasks",
                params={"team_id": last.team_id, "status": "open"},
                headers=lead,
            )
            return (
                states.status_code == 200
                and any(s["agent_id"] == last.id for s in states.json())
                and tasks.status_code == 200
                and (bool(tasks.json()["items"]) or not hard_calls)  # none minutes after midnight
            )

        await until(metrics_has_the_day, 120)
    return agents


# -- the load ----------------------------------------------------------------------------------


@dataclass
class Run:
    name: str
    requests: int = 0
    errors: int = 0
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)

    @property
    def rps(self) -> float:
        return self.requests / self.seconds

    @property
    def p50_ms(self) -> float:
        return statistics.median(self.latencies) * 1000

    @property
    def p99_ms(self) -> float:
        return percentile(self.latencies, 0.99) * 1000


Overview = Callable[[Agent], Awaitable[bool]]
"""Fetches one agent's overview; True when every part came back ``ok``."""
Target = Callable[[], contextlib.AbstractAsyncContextManager[Overview]]


async def load(
    name: str,
    overview: Overview,
    agents: list[Agent],
    count: int,
    concurrency: int,
    rate: float | None = None,
) -> Run:
    """``count`` overviews from ``concurrency`` clients. Without ``rate`` a closed loop: each
    client sends its next request as soon as its last one is answered. With ``rate`` an open
    loop: request ``i`` is due ``i / rate`` s after the start, and its latency counts from then,
    so a request that had to wait for a free client counts that wait too."""
    run = Run(name, requests=count)
    numbers = iter(range(count))
    started = time.perf_counter()

    async def client() -> None:
        for i in numbers:
            due = time.perf_counter() if rate is None else started + i / rate
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            try:
                ok = await overview(agents[i % len(agents)])
            except httpx.HTTPError:
                ok = False
            run.latencies.append(time.perf_counter() - due)
            run.errors += not ok

    await asyncio.gather(*(client() for _ in range(concurrency)))
    run.seconds = time.perf_counter() - started
    return run


def fast_client(base_url: str, concurrency: int) -> httpx.AsyncClient:
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    return httpx.AsyncClient(
        base_url=base_url, timeout=30, transport=AiohttpTransport(limits=limits)
    )


def lead_headers(stack: Stack, agents: list[Agent]) -> dict[str, dict[str, str]]:
    return {a.id: stack.headers(a.lead_id, "team_lead", [a.team_id]) for a in agents}


@contextlib.asynccontextmanager
async def via_gateway(
    stack: Stack, transport: str, agents: list[Agent], concurrency: int
) -> AsyncIterator[Overview]:
    headers = lead_headers(stack, agents)
    server = stack.servers[f"gateway-{transport}"]
    async with fast_client(server.url, concurrency) as client:

        async def overview(agent: Agent) -> bool:
            response = await client.get(
                f"/v1/people/{agent.id}/overview", headers=headers[agent.id]
            )
            return response.status_code == 200 and all_ok(response.json())

        yield overview


@contextlib.asynccontextmanager
async def direct(
    stack: Stack, agents: list[Agent], part_timeout_s: float
) -> AsyncIterator[Overview]:
    headers = lead_headers(stack, agents)
    settings = GatewaySettings(
        **{f"{name}_url": stack.servers[name].url for name in SERVICES},
        upstream_transport="aiohttp",
        part_timeout_s=part_timeout_s,
    )
    holder = SimpleNamespace(state=SimpleNamespace())  # receives the gateway's client pools
    async with upstreams_resource(settings)(holder):  # type: ignore[arg-type]
        upstreams: Upstreams = holder.state.upstreams

        async def overview(agent: Agent) -> bool:
            fetcher = Fetcher(upstreams, headers[agent.id], settings.part_timeout_s)
            try:
                body = await person_overview(
                    fetcher, agent.lead_id, agent.id, settings.center_timezone, datetime.now(UTC)
                )
            except Problem:  # the gateway's 404 or 503 (the profile did not come in time)
                return False
            return all_ok(body)

        yield overview


def all_ok(body: dict[str, Any]) -> bool:
    return set(body["parts"].values()) == {"ok"}


# -- the report --------------------------------------------------------------------------------


def table(title: str, runs: list[Run]) -> str:
    lines = [f"{title:<34}{'requests':>9}{'errors':>8}{'rps':>8}{'p50 ms':>9}{'p99 ms':>9}"]
    for run in runs:
        lines.append(
            f"{run.name:<34}{run.requests:>9,}{run.errors:>8,}{run.rps:>8,.0f}"
            f"{run.p50_ms:>9.1f}{run.p99_ms:>9.1f}"
        )
    baseline = runs[0]
    for run in runs[1:]:
        lines.append(
            f"{'  ' + run.name.split(', ')[-1] + ' / direct':<34}"
            f"{'':>25}{run.p50_ms / baseline.p50_ms:>8.2f}x{run.p99_ms / baseline.p99_ms:>8.2f}x"
        )
    return "\n".join(lines)


async def measure(args: argparse.Namespace, server_url: str, bootstrap: str, logs: Path) -> None:
    async with running_stack(server_url, bootstrap, logs, args.part_timeout) as stack:
        print("servers up; seeding the floor", flush=True)
        agents = await seed_floor(stack, bootstrap, datetime.now(UTC))
        print(f"floor: {len(agents)} agents; measuring", flush=True)
        targets: list[tuple[str, Target]] = [
            ("direct (client -> services)", lambda: direct(stack, agents, args.part_timeout))
        ]
        for transport in TRANSPORTS:
            targets.append(
                (
                    f"gateway, {transport} transport",
                    lambda t=transport: via_gateway(stack, t, agents, args.concurrency),
                )
            )
        saturated = []
        for name, target in targets:
            await stack.settle()
            async with target() as overview:
                await load(name, overview, agents, args.warmup, args.concurrency)
                saturated.append(
                    await load(name, overview, agents, args.requests, args.concurrency)
                )
        rate = args.rate or saturated[0].rps / 2
        paced = []
        for name, target in targets:
            await stack.settle()
            async with target() as overview:
                count = max(1, round(rate * args.paced_seconds))
                paced.append(await load(name, overview, agents, count, args.concurrency, rate))
    print()
    print(table(f"{args.concurrency} clients, closed loop", saturated))
    print()
    print(table(f"{rate:,.0f}/s offered, open loop", paced))
    print()
    print("targets: gateway / direct <= 1.3x; gateway p99 <= 50 ms")


def main(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(prefix="callpulse-bench-gw-") as tmp:
        logs = Path(args.log_dir or tmp)
        logs.mkdir(parents=True, exist_ok=True)
        server_url = os.environ.get("BENCH_DATABASE_URL")
        postgres = None
        if not server_url:
            postgres = EmbeddedPostgres(Path(tmp) / "postgres")
            server_url = postgres.start()
        kafka = EmbeddedKafka(port=free_port(), log_dir=Path(tmp))
        kafka.start()
        try:
            asyncio.run(measure(args, server_url, kafka.bootstrap_servers, logs))
        finally:
            kafka.stop()
            if postgres is not None:
                postgres.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="CallPulse gateway overhead benchmark")
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--warmup", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=100)
    parser.add_argument(
        "--rate", type=float, help="open-loop overviews/s (default: half the direct throughput)"
    )
    parser.add_argument("--paced-seconds", type=float, default=20)
    parser.add_argument(
        "--part-timeout",
        type=float,
        default=30,
        help="seconds a part may take (GATEWAY_PART_TIMEOUT_S; in production 2): generous, so "
        "a saturated run measures the work and not the timeout",
    )
    parser.add_argument("--log-dir", help="keep the servers' logs here (default: discarded)")
    main(parser.parse_args())
