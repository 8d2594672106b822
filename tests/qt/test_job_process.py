"""JobRunner(process=True): a core job in a child process; progress, result, failure, crash and cancel arrive as
the same signals, Cancel takes effect within a second, and no process outlives its job. JobSlot: the newest run
wins."""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
import time

import pytest

from audionet_gui.core.base.errors import AudioFileError, AudioNetError
from audionet_gui.core.base.jobs import Progress
from audionet_gui.qt.job_runner import JobFailure, JobRunner, JobSlot


def counting_job(n, *, step_s=0.0, progress=None, cancel=None):
    for i in range(n):
        cancel.raise_if_cancelled()
        time.sleep(step_s)
        progress(Progress("count", i + 1, n, f"item {i}"))
    return {"total": n, "pid": os.getpid()}


def failing_job(*, progress=None, cancel=None):
    progress(Progress("work", 1, 2))
    raise AudioFileError("/data/a.wav", "is not audio")


def exiting_job(code, progress=None):
    progress(Progress("work", 1, 2))
    os._exit(code)


def segfaulting_job():
    ctypes.string_at(0)


def killed_job():
    os.kill(os.getpid(), signal.SIGKILL)  # as the kernel's out-of-memory killer would


def deaf_job(seconds):
    """Never looks at its cancel token."""
    time.sleep(seconds)
    return "slept"


def job_with_a_worker(pid_file, *, cancel=None):
    """Starts a worker process of its own (as conversion does) and runs until cancelled."""
    worker = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    with open(pid_file, "w") as fh:
        fh.write(str(worker.pid))
    while True:
        time.sleep(5)  # deaf for a long while: only terminating the group stops the worker too


def unpicklable_result():
    return lambda: None


def environment_value(name):
    return os.environ.get(name)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie (exited, not yet reaped by its parent) is not running
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return True


def run(qtbot, runner: JobRunner, timeout=30000) -> list:
    seen = []
    for name in ("progress", "finished", "failed", "cancelled"):
        getattr(runner, name).connect(lambda *a, n=name: seen.append((n, *a)))
    with qtbot.waitSignal(runner.done, timeout=timeout):
        runner.start()
    return seen


def test_progress_then_the_result_from_a_child_process(qtbot):
    runner = JobRunner(counting_job, 4, process=True)
    seen = run(qtbot, runner)
    assert [s[1].done for s in seen[:-1]] == [1, 2, 3, 4] and all(s[0] == "progress" for s in seen[:-1])
    assert seen[-1][0] == "finished" and seen[-1][1]["total"] == 4
    assert seen[-1][1]["pid"] not in (os.getpid(), None) and seen[-1][1]["pid"] == runner.pid
    assert runner.outcome == "finished" and not runner.is_running()


def test_an_exception_in_the_child_arrives_with_its_type_fields_and_traceback(qtbot):
    seen = run(qtbot, JobRunner(failing_job, process=True))
    assert [s[0] for s in seen] == ["progress", "failed"]
    failure = seen[-1][1]
    assert isinstance(failure, JobFailure) and isinstance(failure.exception, AudioFileError)
    assert isinstance(failure.exception, AudioNetError)
    assert "is not audio" in failure.message and "/data/a.wav" in failure.message
    assert "failing_job" in failure.traceback


@pytest.mark.parametrize(("job", "args", "reason"), [(exiting_job, (3,), "exit code 3"),
                                                     (segfaulting_job, (), "SIGSEGV"),
                                                     (killed_job, (), "SIGKILL")])
def test_a_crashing_child_is_a_failure_with_the_reason_and_the_next_job_runs(qtbot, job, args, reason):
    seen = run(qtbot, JobRunner(job, *args, process=True))
    assert seen[-1][0] == "failed"
    assert "stopped unexpectedly" in seen[-1][1].message and reason in seen[-1][1].message
    again = run(qtbot, JobRunner(counting_job, 2, process=True))
    assert again[-1][0] == "finished"


def test_cancel_stops_a_child_that_never_checks_within_a_second(qtbot):
    runner = JobRunner(deaf_job, 30.0, process=True)
    outcomes = []
    runner.finished.connect(lambda r: outcomes.append("finished"))
    runner.cancelled.connect(lambda: outcomes.append("cancelled"))
    runner.start()
    qtbot.wait(300)
    assert runner.is_running()
    t0 = time.monotonic()
    with qtbot.waitSignal(runner.done, timeout=3000):
        runner.cancel()
    assert time.monotonic() - t0 < 1.0
    assert outcomes == ["cancelled"] and not _alive(runner.pid)


def test_cancel_of_a_cooperative_child_is_prompt_and_clean(qtbot):
    runner = JobRunner(counting_job, 10_000, step_s=0.01, process=True)
    with qtbot.waitSignal(runner.progress, timeout=10000):
        runner.start()
    t0 = time.monotonic()
    with qtbot.waitSignal(runner.cancelled, timeout=3000):
        runner.cancel()
    assert time.monotonic() - t0 < 1.0
    assert runner.wait(3000) and runner.outcome == "cancelled"


def test_cancel_stops_the_workers_a_child_started_too(qtbot, tmp_path):
    pid_file = tmp_path / "worker.pid"
    runner = JobRunner(job_with_a_worker, str(pid_file), process=True)
    runner.start()
    qtbot.waitUntil(lambda: pid_file.exists() and pid_file.read_text().strip() != "", timeout=10000)
    worker = int(pid_file.read_text())
    assert _alive(worker)
    with qtbot.waitSignal(runner.cancelled, timeout=3000):
        runner.cancel()
    qtbot.waitUntil(lambda: not _alive(worker), timeout=2000)


def test_wait_from_a_blocked_gui_thread_terminates_a_cancelled_child(qtbot):
    runner = JobRunner(deaf_job, 30.0, process=True)
    runner.start()
    qtbot.wait(200)
    runner.cancel()
    t0 = time.monotonic()
    assert runner.wait(5000)  # as the window's closeEvent does, with no event processing
    assert time.monotonic() - t0 < 1.5
    with qtbot.waitSignal(runner.done, timeout=3000):
        pass
    assert runner.outcome == "cancelled"


def test_a_result_that_does_not_pickle_is_a_clear_failure(qtbot):
    seen = run(qtbot, JobRunner(unpicklable_result, process=True))
    assert seen[-1][0] == "failed" and "picklable" in seen[-1][1].message


def test_the_child_sees_the_environment_of_now(qtbot, monkeypatch):
    run(qtbot, JobRunner(environment_value, "HOME", process=True))  # the fork server is running by now
    monkeypatch.setenv("AUDIONET_TEST_VALUE", "set-after-start")
    seen = run(qtbot, JobRunner(environment_value, "AUDIONET_TEST_VALUE", process=True))
    assert seen[-1] == ("finished", "set-after-start")


def test_a_slot_delivers_only_the_newest_run(qtbot):
    slot = JobSlot(process=True)
    results, cancelled = [], []
    slot.finished.connect(lambda r: results.append(r["total"]))
    slot.cancelled.connect(lambda: cancelled.append(True))
    first = slot.start(counting_job, 1000, step_s=0.01)
    qtbot.wait(200)
    second = slot.start(counting_job, 3)
    assert first.cancel_requested and not second.is_running()  # waits for the first to stop
    with qtbot.waitSignal(slot.busy_changed, check_params_cb=lambda busy: not busy, timeout=10000):
        pass
    assert results == [3] and cancelled == []
    assert first.outcome == "cancelled" and second.outcome == "finished"


APP_THAT_DIES = """
import os, signal, sys, time
from PySide6.QtCore import QCoreApplication
from audionet_gui.qt.job_runner import JobRunner
from tests.qt.test_job_process import job_with_a_worker
app = QCoreApplication([])
runner = JobRunner(job_with_a_worker, sys.argv[1], process=True).start()
end = time.monotonic() + 60
while not (os.path.exists(sys.argv[1]) and open(sys.argv[1]).read().strip()) and time.monotonic() < end:
    app.processEvents()
    time.sleep(0.02)
print(runner.pid, flush=True)
os.kill(os.getpid(), signal.SIGKILL)  # the app crashes hard: no atexit, no cleanup
"""


def test_a_job_and_its_workers_die_with_an_app_that_crashes(tmp_path):
    pid_file = tmp_path / "worker.pid"
    out = subprocess.run([sys.executable, "-c", APP_THAT_DIES, str(pid_file)], capture_output=True, text=True,
                         timeout=120)
    child, worker = int(out.stdout.split()[0]), int(pid_file.read_text())
    end = time.monotonic() + 3
    while (_alive(child) or _alive(worker)) and time.monotonic() < end:
        time.sleep(0.05)
    assert not _alive(child) and not _alive(worker)
