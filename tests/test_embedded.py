"""The embedded PostgreSQL and broker for real: start, use, stop, restart, nothing left behind."""

from __future__ import annotations

import socket
from pathlib import Path

import asyncpg
import psutil
import pytest

from shared.embedded import (
    EmbeddedKafka,
    EmbeddedPostgres,
    database_url,
    ensure_database,
    free_port,
    libpq_url,
)


@pytest.mark.parametrize(
    ("server_url", "expected"),
    [
        (
            "postgresql://postgres:@/postgres?host=/tmp/pg data",
            "postgresql+asyncpg://postgres@/roster?host=/tmp/pg%20data",
        ),
        (
            "postgresql://postgres@127.0.0.1:5432/test",
            "postgresql+asyncpg://postgres@127.0.0.1:5432/roster",
        ),
        (
            "postgres://app:s%40cret@db.example:6543/main?sslmode=require",
            "postgresql+asyncpg://app:s%40cret@db.example:6543/roster?ssl=require",
        ),
        (
            "postgresql+asyncpg://app@db/callpulse?ssl=verify-full",
            "postgresql+asyncpg://app@db/roster?ssl=verify-full",
        ),
    ],
)
def test_database_url_swaps_the_database_and_keeps_the_rest(server_url, expected) -> None:
    assert database_url(server_url, "roster") == expected


def test_libpq_url_speaks_libpq() -> None:
    url = "postgresql+asyncpg://app@db/callpulse?ssl=require&host=/run/pg"
    assert libpq_url(url, "postgres") == "postgresql://app@db/postgres?sslmode=require&host=/run/pg"


def postgres_processes(data_dir: Path) -> list[psutil.Process]:
    """The postmaster of ``data_dir`` and its backends."""
    found = []
    for process in psutil.process_iter(["name", "cmdline"]):
        if process.info["name"] == "postgres" and str(data_dir) in (process.info["cmdline"] or []):
            found.append(process)
            found += process.children(recursive=True)
    return found


@pytest.mark.slow
async def test_postgres_keeps_its_data_across_restarts_and_leaves_no_process(
    tmp_path: Path,
) -> None:
    server = EmbeddedPostgres(tmp_path / "pg")
    url = server.start()
    await ensure_database(url, "roster")
    await ensure_database(url, "roster")  # idempotent
    conn = await asyncpg.connect(libpq_url(url, "roster"))
    await conn.execute("CREATE TABLE kept (id int); INSERT INTO kept VALUES (42)")
    running = postgres_processes(server.data_dir)
    assert running  # the postmaster and the backend serving us

    server.stop()  # fast shutdown, despite the open connection
    server.stop()  # idempotent
    psutil.wait_procs(running, timeout=2)
    assert not [p for p in running if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
    conn.terminate()

    url = server.start()  # same process, same data
    try:
        conn = await asyncpg.connect(libpq_url(url, "roster"))
        assert await conn.fetchval("SELECT id FROM kept") == 42
        await conn.close()
    finally:
        server.stop()
    assert not postgres_processes(server.data_dir)


@pytest.mark.slow
def test_broker_listens_refuses_a_taken_port_and_stops_without_a_trace(tmp_path: Path) -> None:
    broker = EmbeddedKafka(port=free_port(), log_dir=tmp_path)
    broker.start()
    pid = broker.pid
    try:
        with socket.create_connection(("127.0.0.1", broker.port), timeout=1):
            pass
        with pytest.raises(RuntimeError, match="already in use"):
            EmbeddedKafka(port=broker.port).start()
    finally:
        broker.stop()
    broker.stop()  # idempotent
    assert pid is not None and not psutil.pid_exists(pid)
    assert broker.log_file is not None and broker.log_file.exists()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", broker.port), timeout=1).close()
