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
from shared.runner import ROOT, STOP_DEADLINE_S, existing_services

pytestmark = pytest.mark.slow


def process_tree(pid: int) -> set[psutil.Process]:
    root = psutil.Process(pid)
    return {root, *root.children(recursive=True)}


def test_runner_starts_everything_and_stops_cleanly_on_sigint(tmp_path: Path) -> None:
    ports = {s.name: free_port() for s in existing_services()}
    assert ports, "no service to run"
    # The embedded path is the one under test: no external servers, ports nobody uses.
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
    output = tmp_path / "runner.log"
    with output.open("wb") as sink:
        runner = subprocess.Popen(
            [sys.executable, "-m", "shared.runner"],
            cwd=ROOT,
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    spawned: set[psutil.Process] = set()
    try:
        deadline = time.monotonic() + 120
        ready: set[str] = set()
        while ready != set(ports) and time.monotonic() < deadline:
            assert runner.poll() is None, output.read_text()
            for name, port in ports.items():
                try:
                    if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200:
                        ready.add(name)
                except httpx.HTTPError:
                    pass
            time.sleep(0.5)
        assert ready == set(ports), f"not ready: {set(ports) - ready}\n{output.read_text()}"
        # Each service reports /readyz before the next one starts: all are up once the last is.
        spawned |= set(psutil.Process(runner.pid).children(recursive=True))
        postmaster = int((tmp_path / "postgres" / "postmaster.pid").read_text().split()[0])
        spawned |= process_tree(postmaster)  # pg_ctl daemonizes it: not the runner's child
        assert {"tansu", "postgres"} <= {p.name().split("-")[0] for p in spawned}
        assert "CallPulse is running" in output.read_text()

        started = time.monotonic()
        runner.send_signal(signal.SIGINT)
        runner.wait(STOP_DEADLINE_S)
        assert time.monotonic() - started < STOP_DEADLINE_S
        assert runner.returncode == 0, output.read_text()
        _, alive = psutil.wait_procs(spawned, timeout=1)
        survivors = [p for p in alive if p.status() != psutil.STATUS_ZOMBIE]
        assert not survivors, [p.cmdline() for p in survivors]
    finally:
        if runner.poll() is None:
            runner.kill()
            runner.wait()
