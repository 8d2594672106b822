"""``audionet convert`` killed while its workers convert: SIGTERM and SIGKILL leave no worker and no resource
tracker running, and SIGTERM runs the cleanup and says so (exit status 143)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.deadline import alive, children, wait_gone
from tests.tone_dataset import make_tone_dataset

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    return make_tone_dataset(tmp_path_factory.mktemp("data"), files_per_class=12, seconds=3.0)


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL])
def test_a_killed_convert_leaves_no_process_behind(dataset, tmp_path, sig):
    env = {**os.environ, "PYTHONPATH": str(REPO), "TF_CPP_MIN_LOG_LEVEL": "2"}
    cmd = [sys.executable, "-m", "audionet_gui.cli.entry", "convert", str(dataset), "--out", str(tmp_path / "ws"),
           "--workers", "2", "--augment", "6"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        deadline = time.monotonic() + 120
        workers: list[int] = []
        while time.monotonic() < deadline and proc.poll() is None:
            workers = [p for p in children(proc.pid) if "resource_tracker" not in _cmdline(p)]
            if len(workers) == 2:
                break
            time.sleep(0.1)
        assert len(workers) == 2, "the workers never started"
        time.sleep(1.5)  # they are converting now
        family = set(children(proc.pid))
        assert proc.poll() is None, "convert finished before it could be killed: give it more work"
        proc.send_signal(sig)
        _out, err = proc.communicate(timeout=60)
        assert wait_gone(family) == [], "worker processes outlived convert"
        if sig == signal.SIGTERM:
            assert proc.returncode == 143 and "terminated" in err
            assert "Traceback" not in err
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert not any(alive(p) for p in workers)
