"""``make run``: the whole system on one machine, embedded defaults unless told otherwise.

1. PostgreSQL: ``DATABASE_URL`` if set, else the embedded server (pgserver) with its data under
   ``$CALLPULSE_DATA_DIR/postgres`` (default ``.data``), kept across restarts.
2. Kafka: ``KAFKA_BOOTSTRAP_SERVERS`` if set, else the embedded Tansu broker on
   127.0.0.1:``$CALLPULSE_KAFKA_PORT`` (default 9092).
3. For every service that exists (``services/<name>/app.py``): its database, its migrations.
4. The roster's first-start bootstrap (admin, and the demo center unless ``DEMO=0``).
5. Every service under uvicorn, in dependency order; prints where each listens.

SIGINT/SIGTERM stops services in reverse order, then the broker, then PostgreSQL, within 15 s,
leaving no process behind. A service that dies on its own brings everything down (exit 1).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from shared.embedded import EmbeddedKafka, EmbeddedPostgres, database_url, ensure_database

ROOT = Path(__file__).resolve().parent.parent
STOP_DEADLINE_S = 15.0


@dataclass(frozen=True)
class ServiceInfo:
    name: str
    port: int

    @property
    def env_prefix(self) -> str:
        return f"{self.name.upper()}_"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


KNOWN_SERVICES = (
    ServiceInfo("roster", 8001),
    ServiceInfo("metrics", 8002),
    ServiceInfo("care", 8003),
    ServiceInfo("gateway", 8000),
)
"""Start order: the gateway last, once what it fronts is up."""


def existing_services() -> list[ServiceInfo]:
    return [s for s in KNOWN_SERVICES if (ROOT / "services" / s.name / "app.py").exists()]


def log(message: str) -> None:
    print(f"[callpulse] {message}", flush=True)


class Runner:
    def __init__(self) -> None:
        self.data_dir = Path(os.environ.get("CALLPULSE_DATA_DIR", ROOT / ".data")).resolve()
        self.postgres: EmbeddedPostgres | None = None
        self.kafka: EmbeddedKafka | None = None
        self.children: list[tuple[ServiceInfo, subprocess.Popen[bytes]]] = []
        self.helpers: list[subprocess.Popen[bytes]] = []
        self.services = existing_services()
        self.demo = os.environ.get("DEMO", "1") != "0"

    def port_of(self, service: ServiceInfo) -> int:
        return int(os.environ.get(f"{service.env_prefix}PORT", service.port))

    async def start(self) -> None:
        server_url = os.environ.get("DATABASE_URL")
        if server_url:
            log("PostgreSQL: using DATABASE_URL")
        else:
            self.postgres = EmbeddedPostgres(self.data_dir / "postgres")
            server_url = await asyncio.to_thread(self.postgres.start)
            log(f"PostgreSQL: embedded, data in {self.postgres.data_dir}")

        bootstrap = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
        if bootstrap:
            log(f"Kafka: using {bootstrap}")
        else:
            port = int(os.environ.get("CALLPULSE_KAFKA_PORT", "9092"))
            self.kafka = EmbeddedKafka(port=port, log_dir=self.data_dir / "logs")
            await asyncio.to_thread(self.kafka.start)
            bootstrap = self.kafka.bootstrap_servers
            log(f"Kafka: embedded Tansu broker on {bootstrap} (memory only)")

        env = dict(os.environ, KAFKA_BOOTSTRAP_SERVERS=bootstrap, PYTHONUNBUFFERED="1")
        env.setdefault("ENVIRONMENT", "development")
        env.setdefault("LOG_JSON", "false")
        for service in self.services:
            url = os.environ.get(f"{service.env_prefix}DATABASE_URL") or database_url(
                server_url, service.name
            )
            if not os.environ.get(f"{service.env_prefix}DATABASE_URL"):
                await ensure_database(server_url, service.name)
            env[f"{service.env_prefix}DATABASE_URL"] = url
            env[f"{service.env_prefix}PORT"] = str(self.port_of(service))
            await self.run_step(
                f"{service.name}: migrations",
                [
                    sys.executable,
                    "-m",
                    "alembic",
                    "-c",
                    f"services/{service.name}/alembic.ini",
                    "upgrade",
                    "head",
                ],
                env,
            )
        if any(s.name == "roster" for s in self.services):
            await self.run_step(
                "roster: first-start bootstrap",
                [sys.executable, "-m", "services.roster.bootstrap"],
                env,
            )
        for service in self.services:
            self.children.append((service, self.spawn(service, env)))
            await self.wait_ready(service)
        if self.demo and {"roster", "metrics"} <= {s.name for s in self.services}:
            self.helpers.append(self.spawn_simulator(env))
        self.print_summary()

    async def run_step(self, title: str, command: list[str], env: dict[str, str]) -> None:
        log(title)
        process = await asyncio.create_subprocess_exec(*command, cwd=ROOT, env=env)
        if await process.wait() != 0:
            raise RuntimeError(f"{title} failed (exit {process.returncode})")

    def spawn(self, service: ServiceInfo, env: dict[str, str]) -> subprocess.Popen[bytes]:
        log(f"{service.name}: starting on port {self.port_of(service)}")
        return subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                f"services.{service.name}.app:create_app",
                "--factory",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port_of(service)),
                "--no-access-log",
                "--timeout-graceful-shutdown",
                "5",
            ],
            cwd=ROOT,
            env=env,
            start_new_session=True,
        )

    def spawn_simulator(self, env: dict[str, str]) -> subprocess.Popen[bytes]:
        roster = next(s for s in self.services if s.name == "roster")
        log("simulator: CTI traffic for the demo center (DEMO=0 turns it off)")
        return subprocess.Popen(
            [sys.executable, "-m", "services.metrics.simulator"],
            cwd=ROOT,
            env=dict(env, SIMULATOR_ROSTER_URL=f"http://127.0.0.1:{self.port_of(roster)}"),
            start_new_session=True,
        )

    async def wait_ready(self, service: ServiceInfo, timeout_s: float = 60) -> None:
        url = f"http://127.0.0.1:{self.port_of(service)}/readyz"
        deadline = time.monotonic() + timeout_s
        async with httpx.AsyncClient(timeout=2) as client:
            while time.monotonic() < deadline:
                process = dict((s.name, p) for s, p in self.children)[service.name]
                if process.poll() is not None:
                    raise RuntimeError(f"{service.name} exited with {process.returncode}")
                try:
                    if (await client.get(url)).status_code == 200:
                        return
                except httpx.HTTPError:
                    pass
                await asyncio.sleep(0.3)
        raise TimeoutError(f"{service.name} was not ready within {timeout_s:.0f} s")

    def print_summary(self) -> None:
        from services.roster.bootstrap import BootstrapSettings

        boot = BootstrapSettings()
        lines = ["", "CallPulse is running:", ""]
        for service in self.services:
            base = f"http://127.0.0.1:{self.port_of(service)}"
            lines.append(f"  {service.name:<8} {base:<24} docs {base}/docs")
        roster = next((s for s in self.services if s.name == "roster"), None)
        if roster is not None:
            lines += [
                "",
                f"  admin: employee_no={boot.admin_employee_no!r} "
                f"password={boot.admin_password!r} (ADMIN_EMPLOYEE_NO / ADMIN_PASSWORD)",
                "  demo people (DEMO=1): M001 manager, L001-L003 team leads, A1001-A1045 agents,"
                " OPS1, QA1 - password 'demo-password'",
                "",
                "  get a token:",
                f"    curl -s -X POST http://127.0.0.1:{self.port_of(roster)}/v1/auth/token \\",
                "      -H 'content-type: application/json' \\",
                f'      -d \'{{"employee_no": "{boot.admin_employee_no}", '
                f'"password": "{boot.admin_password}"}}\'',
            ]
        lines += ["", "Press Ctrl-C to stop everything.", ""]
        print("\n".join(lines), flush=True)

    async def watch(self, stop: asyncio.Event) -> int:
        """Wait for a stop signal or for a service to die; returns the exit code."""
        while not stop.is_set():
            for service, process in self.children:
                if process.poll() is not None:
                    log(f"{service.name} exited unexpectedly with {process.returncode}")
                    return 1
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 0.5)
        return 0

    def stop(self) -> None:
        deadline = time.monotonic() + STOP_DEADLINE_S - 3
        for helper in self.helpers:
            _signal_group(helper, signal.SIGKILL)
            helper.wait()
        self.helpers.clear()
        for service, process in reversed(self.children):
            if process.poll() is None:
                log(f"{service.name}: stopping")
                _signal_group(process, signal.SIGTERM)
        for _service, process in reversed(self.children):
            try:
                process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                _signal_group(process, signal.SIGKILL)
                process.wait()
            _signal_group(process, signal.SIGKILL)  # anything the service left in its group
        self.children.clear()
        if self.kafka is not None:
            log("Kafka: stopping")
            self.kafka.stop(timeout_s=2)
        if self.postgres is not None:
            log("PostgreSQL: stopping")
            self.postgres.stop()
        log("stopped")


def _signal_group(process: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, sig)


async def main() -> int:
    runner = Runner()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    code = 0
    try:
        starting = asyncio.create_task(runner.start())
        stopped = asyncio.create_task(stop.wait())
        done, _ = await asyncio.wait({starting, stopped}, return_when=asyncio.FIRST_COMPLETED)
        if starting in done:
            starting.result()
            code = await runner.watch(stop)
        else:
            starting.cancel()
            await asyncio.gather(starting, return_exceptions=True)
        stopped.cancel()
    except Exception as exc:
        log(f"start-up failed: {exc}")
        code = 1
    finally:
        await asyncio.to_thread(runner.stop)
    return code


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
