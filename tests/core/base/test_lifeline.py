"""Processes end with their parent: a pool's workers (and multiprocessing's resource tracker) are gone within
seconds when the process that started them is killed with SIGKILL, which leaves it no chance to clean up."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.deadline import alive, children, wait_gone

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


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_pool_workers_and_resource_tracker_end_with_a_killed_parent(tmp_path):
    script = tmp_path / "parent.py"
    script.write_text(POOL_SCRIPT)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    parent = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True, env=env)
    try:
        workers = [int(p) for p in parent.stdout.readline().split()]
        assert len(workers) == 2 and all(alive(p) for p in workers)
        family = set(children(parent.pid))  # the workers and the resource tracker
        assert set(workers) <= family
        parent.send_signal(signal.SIGKILL)  # no cleanup of its own can run
        parent.wait(timeout=20)
        assert wait_gone(family) == [], "processes outlived their parent"
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait()
