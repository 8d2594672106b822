"""Processes end with their parent: a pool's workers (and multiprocessing's resource tracker) are gone within
seconds when the process that started them is killed, by SIGTERM or by SIGKILL, and SIGTERM of a command runs its
cleanup and says so."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]

POOL_SCRIPT = """
import multiprocessing, os, sys, time
from audionet_gui.core.base.lifeline import process_pool
if __name__ == "__main__":
    pool = process_pool(2, multiprocessing.get_context("spawn"))
    futures = [pool.submit(time.sleep, 120) for _ in range(2)]
    while len(getattr(pool, "_processes", {}) or {}) < 2:
        time.sleep(0.05)
    time.sleep(1.0)  # the workers are up and sleeping
    print(" ".join(str(pid) for pid in pool._processes), flush=True)
    time.sleep(120)
"""


def _children(pid: int) -> list[int]:
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                out.append(int(entry.name))
    return out


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _wait_gone(pids, timeout=10.0) -> list[int]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        left = [p for p in pids if _alive(p)]
        if not left:
            return []
        time.sleep(0.1)
    return [p for p in pids if _alive(p)]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_pool_workers_and_resource_tracker_end_with_a_killed_parent(tmp_path):
    script = tmp_path / "parent.py"
    script.write_text(POOL_SCRIPT)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    parent = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True, env=env)
    try:
        workers = [int(p) for p in parent.stdout.readline().split()]
        assert len(workers) == 2 and all(_alive(p) for p in workers)
        family = set(_children(parent.pid))  # the workers and the resource tracker
        assert set(workers) <= family
        parent.send_signal(signal.SIGKILL)  # no cleanup of its own can run
        parent.wait(timeout=20)
        assert _wait_gone(family) == [], "processes outlived their parent"
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait()
