"""``make run``: the whole system on one machine, embedded defaults unless told otherwise.

1. PostgreSQL: ``DATABASE_URL`` if set, else the embedded server (pgserver) with its data under
   ``$CALLPULSE_DATA_DIR/postgres`` (default ``.data``), kept across restarts.
2. Kafka: ``KAFKA_BOOTSTRAP_SERVERS`` if set, else the embedded Tansu broker on
   127.0.0.1:``$CALLPULSE_KAFKA_PORT`` (default 9092), memory only.
3. For every service that exists (``services/<name>/app.py``) and has migrations: its database
   (unless ``<NAME>_DATABASE_URL`` names one) and ``alembic upgrade head``.
4. The roster's first-start bootstrap (admin, and the demo center unless ``DEMO=0``).
5. Every service under uvicorn in dependency order, each awaited on ``/readyz``; with the demo
   center, the CTI traffic simulator. Prints where each listens and how to get a token.

Every child runs in a process group of its own; its output appears on ours prefixed by its name
(``roster    | …``). The broker logs to ``$CALLPULSE_DATA_DIR/logs/tansu-<port>.log``, the
embedded PostgreSQL to ``$CALLPULSE_DATA_DIR/postgres/log``.

SIGINT/SIGTERM stops the services in reverse order, then the broker, then PostgreSQL, within
15 s, leaving no process behind. A service that dies on its own brings everything down (exit 1).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TypeVar

import httpx
from pydantic import TypeAdapter

from shared.defaults import DEFAULT_ADMIN_EMPLOYEE_NO, DEFAULT_ADMIN_PASSWORD
from shared.embedded import EmbeddedKafka, EmbeddedPostgres, database_url, ensure_database

ROOT = Path(__file__).resolve().parent.parent
STOP_DEADLINE_S = 15.0
"""Everything is down this long after SIGINT/SIGTERM at the latest."""
SERVICES_STOP_S = 8.0
"""The services' share of it; the broker and PostgreSQL get the rest."""
GRACEFUL_SHUTDOWN_S = 4
"""How long uvicorn lets in-flight requests finish."""
READY_TIMEOUT_S = 60.0

T = TypeVar("T")


@dataclass(frozen=True)
class ServiceInfo:
    name: str
    port: int

    @property
    def env_prefix(self) -> str:
        return f"{self.name.upper()}_"

    @property
    def alembic_ini(self) -> Path:
        return ROOT / "services" / self.name / "alembic.ini"


KNOWN_SERVICES = (
    ServiceInfo("roster", 8001),
    ServiceInfo("metrics", 8002),
    ServiceInfo("care", 8003),
    ServiceInfo("gateway", 8000),
)
"""In start order: the gateway last, once what it fronts is up."""


def existing_services() -> list[ServiceInfo]:
    return [s for s in KNOWN_SERVICES if (ROOT / "services" / s.name / "app.py").exists()]


_output_lock = threading.Lock()


def log(message: str, source: str = "callpulse") -> None:
    with _output_lock:
        print(f"{source:<9} | {message}", flush=True)


def _pump(source: str, stream: IO[bytes]) -> None:
    """Copy a child's output to ours, line by line, prefixed by its name."""
    with stream:
        for raw in iter(stream.readline, b""):
            with contextlib.suppress(OSError, ValueError):  # our stdout is gone: keep draining
                log(raw.decode(errors="replace").rstrip(), source)


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


class Child:
    """A child process leading a process group of its own (so a terminal's Ctrl-C reaches only
    the runner, which stops children in order), its output prefixed on ours."""

    def __init__(self, source: str, command: list[str], env: dict[str, str]) -> None:
        self.process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        assert self.process.stdout is not None
        self._pump = threading.Thread(
            target=_pump, args=(source, self.process.stdout), name=f"{source}-output", daemon=True
        )
        self._pump.start()

    def poll(self) -> int | None:
        return self.process.poll()

    def stop(self, timeout_s: float) -> None:
        """SIGTERM the group; SIGKILL it (and whatever the child left in it) after ``timeout_s``."""
        if self.process.poll() is None:
            _signal_group(self.process.pid, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout_s)
        _signal_group(self.process.pid, signal.SIGKILL)
        self.process.wait()
        self._pump.join(1)


class Runner:
    def __init__(self) -> None:
        self.data_dir = Path(os.environ.get("CALLPULSE_DATA_DIR", ROOT / ".data")).resolve()
        self.services = existing_services()
        self.postgres: EmbeddedPostgres | None = None
        self.kafka: EmbeddedKafka | None = None
        self.steps: list[Child] = []
        self.running: list[tuple[ServiceInfo, Child]] = []
        self.simulator: Child | None = None
        self._blocking: set[asyncio.Future[object]] = set()

    def port_of(self, service: ServiceInfo) -> int:
        return int(os.environ.get(f"{service.env_prefix}PORT", service.port))

    def has(self, name: str) -> bool:
        return any(s.name == name for s in self.services)

    async def start(self) -> None:
        demo = TypeAdapter(bool).validate_python(os.environ.get("DEMO", "1"))
        log(f"services found: {', '.join(s.name for s in self.services) or 'none'}")
        log(
            f"first admin (created on first start): ADMIN_EMPLOYEE_NO={admin_employee_no()} "
            f"ADMIN_PASSWORD={admin_password_shown()}"
        )

        server_url = os.environ.get("DATABASE_URL")
        if server_url:
            log("PostgreSQL: DATABASE_URL")
        else:
            self.postgres = EmbeddedPostgres(self.data_dir / "postgres")
            server_url = await self._blocking_call(self.postgres.start)
            log(f"PostgreSQL: embedded, data and log in {self.postgres.data_dir}")

        bootstrap = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
        if bootstrap:
            log(f"Kafka: {bootstrap} (KAFKA_BOOTSTRAP_SERVERS)")
        else:
            port = int(os.environ.get("CALLPULSE_KAFKA_PORT", "9092"))
            self.kafka = EmbeddedKafka(port=port, log_dir=self.data_dir / "logs")
            try:
                await self._blocking_call(self.kafka.start)
            except RuntimeError as exc:
                raise RuntimeError(
                    f"Kafka: {exc} (another `make run`? set CALLPULSE_KAFKA_PORT, "
                    "or KAFKA_BOOTSTRAP_SERVERS for an external broker)"
                ) from exc
            bootstrap = self.kafka.bootstrap_servers
            log(f"Kafka: embedded Tansu on {bootstrap}, memory only (log: {self.kafka.log_file})")

        env = dict(os.environ, KAFKA_BOOTSTRAP_SERVERS=bootstrap, PYTHONUNBUFFERED="1")
        env.setdefault("ENVIRONMENT", "development")
        env.setdefault("LOG_JSON", "false")
        for service in self.services:
            env[f"{service.env_prefix}PORT"] = str(self.port_of(service))
        for upstream in self.services:  # where the gateway finds the services behind it
            if upstream.name != "gateway":
                env.setdefault(
                    f"GATEWAY_{upstream.name.upper()}_URL",
                    f"http://127.0.0.1:{self.port_of(upstream)}",
                )
        for service in self.services:
            if not service.alembic_ini.exists():
                continue  # a service without a database of its own
            url_var = f"{service.env_prefix}DATABASE_URL"
            if url_var not in os.environ:
                await ensure_database(server_url, service.name)
                env[url_var] = database_url(server_url, service.name)
            log("applying migrations", service.name)
            ini = str(service.alembic_ini.relative_to(ROOT))
            await self.run_step(
                service.name, [sys.executable, "-m", "alembic", "-c", ini, "upgrade", "head"], env
            )
        if self.has("roster"):
            log("first-start bootstrap", "roster")
            await self.run_step("roster", [sys.executable, "-m", "services.roster.bootstrap"], env)

        for service in self.services:
            port = self.port_of(service)
            log(f"starting on 127.0.0.1:{port}", service.name)
            command = [
                sys.executable,
                "-m",
                "uvicorn",
                f"services.{service.name}.app:create_app",
                "--factory",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--no-access-log",  # the services write their own access log
                "--timeout-graceful-shutdown",
                str(GRACEFUL_SHUTDOWN_S),
            ]
            self.running.append((service, Child(service.name, command, env)))
            await self.wait_ready(service)
        if demo and self.has("roster") and self.has("metrics"):
            roster = next(s for s in self.services if s.name == "roster")
            log("CTI traffic for the demo center (DEMO=0 turns it off)", "simulator")
            self.simulator = Child(
                "simulator",
                [sys.executable, "-m", "services.metrics.simulator"],
                dict(env, SIMULATOR_ROSTER_URL=f"http://127.0.0.1:{self.port_of(roster)}"),
            )
        self.print_summary(demo)

    async def _blocking_call(self, call: Callable[[], T]) -> T:
        """Run a blocking start-up call in a thread. Shielded from cancellation: :meth:`stop`
        waits for it, so a server it is starting gets stopped rather than orphaned."""
        future = asyncio.ensure_future(asyncio.to_thread(call))
        self._blocking.add(future)
        future.add_done_callback(self._blocking.discard)
        return await asyncio.shield(future)

    async def run_step(self, source: str, command: list[str], env: dict[str, str]) -> None:
        step = Child(source, command, env)
        self.steps.append(step)
        code = await asyncio.to_thread(step.process.wait)  # if cancelled, stop() kills the step
        self.steps.remove(step)
        if code != 0:
            raise RuntimeError(f"{source}: `{' '.join(command[1:])}` failed (exit {code})")

    def dead_service(self) -> tuple[ServiceInfo, int] | None:
        for service, child in self.running:
            if (code := child.poll()) is not None:
                return service, code
        return None

    async def wait_ready(self, service: ServiceInfo) -> None:
        url = f"http://127.0.0.1:{self.port_of(service)}/readyz"
        deadline = time.monotonic() + READY_TIMEOUT_S
        async with httpx.AsyncClient(timeout=2, trust_env=False) as client:
            while True:
                if dead := self.dead_service():
                    raise RuntimeError(f"{dead[0].name} exited with {dead[1]}")
                with contextlib.suppress(httpx.HTTPError):
                    if (await client.get(url)).status_code == 200:
                        log("ready", service.name)
                        return
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{url} was not 200 within {READY_TIMEOUT_S:.0f} s")
                await asyncio.sleep(0.3)

    def print_summary(self, demo: bool) -> None:
        lines = ["", "CallPulse is running. Ctrl-C stops everything.", ""]
        lines.append(f"  {'service':<9} {'URL':<24} API docs")
        for service in self.services:
            base = f"http://127.0.0.1:{self.port_of(service)}"
            lines.append(f"  {service.name:<9} {base:<24} {base}/docs")
        if self.has("roster"):
            door = next(
                (s for s in self.services if s.name == "gateway"),
                next(s for s in self.services if s.name == "roster"),
            )
            body = {"employee_no": admin_employee_no(), "password": DEFAULT_ADMIN_PASSWORD}
            data = f"'{json.dumps(body)}'"
            if "ADMIN_PASSWORD" in os.environ:  # the shell fills it in; the runner never echoes it
                body["password"] = "$ADMIN_PASSWORD"
                data = '"' + json.dumps(body).replace('"', '\\"') + '"'
            lines += [
                "",
                f"  admin: {admin_employee_no()} / {admin_password_shown()}",
                "",
                "  get a token:",
                f"    curl -s -X POST http://127.0.0.1:{self.port_of(door)}/v1/auth/token \\",
                f"      -H 'content-type: application/json' -d {data}",
            ]
            if demo:
                from services.roster.bootstrap import DEMO_PASSWORD

                lines += [
                    "",
                    "  demo center: manager M001, team leads L001-L003, agents A1001-A1045, "
                    f"OPS1, QA1 (password {DEMO_PASSWORD!r})",
                ]
        lines.append("")
        with _output_lock:
            print("\n".join(lines), flush=True)

    async def watch(self, stop: asyncio.Event) -> int:
        """Wait for a stop signal or for a service to die; returns the exit code."""
        simulator_reported = False
        while not stop.is_set():
            if dead := self.dead_service():
                log(f"{dead[0].name} exited unexpectedly with {dead[1]}; stopping everything")
                return 1
            if self.simulator and not simulator_reported and self.simulator.poll() is not None:
                log(f"exited with {self.simulator.poll()}; the services keep running", "simulator")
                simulator_reported = True
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 0.5)
        return 0

    async def stop(self) -> None:
        started = time.monotonic()
        if self._blocking:
            await asyncio.wait(self._blocking, timeout=STOP_DEADLINE_S / 2)
        await asyncio.to_thread(self._stop_all, started)

    def _stop_all(self, started: float) -> None:
        for step in self.steps:
            step.stop(1.0)
        if self.simulator is not None:
            self.simulator.stop(1.0)
        services_deadline = started + SERVICES_STOP_S
        for service, child in reversed(self.running):
            if child.poll() is None:
                log("stopping", service.name)
            child.stop(max(0.5, services_deadline - time.monotonic()))
        if self.kafka is not None:
            log("Kafka: stopping")
            self.kafka.stop(timeout_s=1.5)
        if self.postgres is not None:
            log("PostgreSQL: stopping")
            self.postgres.stop(timeout_s=max(2.0, started + STOP_DEADLINE_S - 1 - time.monotonic()))
        log(f"stopped in {time.monotonic() - started:.1f} s")


def admin_employee_no() -> str:
    return os.environ.get("ADMIN_EMPLOYEE_NO", DEFAULT_ADMIN_EMPLOYEE_NO)


def admin_password_shown() -> str:
    """The default password in clear; one chosen through the environment is not echoed."""
    return "(from ADMIN_PASSWORD)" if "ADMIN_PASSWORD" in os.environ else DEFAULT_ADMIN_PASSWORD


async def main() -> int:
    runner = Runner()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    starting = asyncio.create_task(runner.start())
    stopping = asyncio.create_task(stop.wait())
    code = 0
    try:
        done, _ = await asyncio.wait({starting, stopping}, return_when=asyncio.FIRST_COMPLETED)
        if starting in done:
            starting.result()
            code = await runner.watch(stop)
        else:
            log("stop requested during start-up")
            starting.cancel()
            await asyncio.gather(starting, return_exceptions=True)
    except Exception as exc:
        log(f"start-up failed: {exc}")
        code = 1
    finally:
        stopping.cancel()
        await runner.stop()
    return code


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
