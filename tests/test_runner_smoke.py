"""`make run` end to end: the runner brings every service up on embedded defaults, each
answers /readyz, and SIGINT stops everything within 15 s with no process left behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psutil
import pytest

from shared.embedded import free_port
from shared.runner import ROOT, existing_services

pytestmark = pytest.mark.slow


def test_runner_starts_everything_and_stops_cleanly_on_sigint(tmp_path: Path) -> None:
    ports = {s.name: free_port() for s in existing_services()}
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DATABASE_URL", "KAFKA_BOOTSTRAP_SERVERS") and not k.endswith("_DATABASE_URL")
    }
    env.update(
        DEMO="0",
        CALLPULSE_DATA_DIR=str(tmp_path),
        CALLPULSE_KAFKA_PORT=str(free_port()),
        **{f"{name.upper()}_PORT": str(port) for name, port in ports.items()},
    )
    runner = subprocess.Popen(
        [sys.executable, "-m", "shared.runner"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    spawned: set[int] = set()
    try:
        deadline = time.monotonic() + 120
        ready: set[str] = set()
        while ready != set(ports) and time.monotonic() < deadline:
            assert runner.poll() is None, runner.stdout.read().decode()  # type: ignore[union-attr]
            spawned |= {p.pid for p in psutil.Process(runner.pid).children(recursive=True)}
            for name, port in ports.items():
                try:
                    if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200:
                        ready.add(name)
                except httpx.HTTPError:
                    pass
            time.sleep(0.5)
        assert ready == set(ports), f"not ready: {set(ports) - ready}"
        postmaster = int((tmp_path / "postgres" / "postmaster.pid").read_text().split()[0])
        spawned |= {p.pid for p in psutil.Process(runner.pid).children(recursive=True)}
        spawned.add(postmaster)

        started = time.monotonic()
        runner.send_signal(signal.SIGINT)
        runner.wait(15)
        assert time.monotonic() - started < 15
        assert runner.returncode == 0, runner.stdout.read().decode()  # type: ignore[union-attr]
        time.sleep(0.3)
        survivors = [
            pid
            for pid in spawned
            if psutil.pid_exists(pid) and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
        ]
        assert not survivors, [psutil.Process(p).cmdline() for p in survivors]
    finally:
        if runner.poll() is None:
            runner.kill()
            runner.wait()
