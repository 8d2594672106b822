"""JobRunner: a core job in a QThread, with its progress, result, failure and cancel turned into signals."""

import multiprocessing
import os
import threading
import time

from audionet_gui.core.base.errors import AudioNetError
from audionet_gui.core.base.jobs import Progress
from audionet_gui.core.base.lifeline import process_pool
from audionet_gui.qt.job_runner import POOL_NICENESS, JobFailure, JobRunner


def counting_job(n, *, step_s=0.0, progress=None, cancel=None):
    for i in range(n):
        cancel.raise_if_cancelled()
        time.sleep(step_s)
        progress(Progress("count", i + 1, n, f"item {i}"))
    return {"total": n, "thread": threading.get_ident()}


def failing_job(*, progress=None, cancel=None):
    progress(Progress("work", 1, 2))
    raise AudioNetError("the data set has no classes")


def test_progress_then_finished_with_result_from_another_thread(qtbot):
    runner = JobRunner(counting_job, 5)
    seen = []
    runner.progress.connect(lambda p: seen.append((p.done, p.total, p.stage)))
    with qtbot.waitSignal(runner.finished, timeout=5000) as blocker:
        runner.start()
    qtbot.waitUntil(lambda: not runner.is_running(), timeout=5000)
    assert seen == [(i, 5, "count") for i in range(1, 6)]  # all reports arrive before the outcome
    assert blocker.args[0]["total"] == 5
    assert blocker.args[0]["thread"] != threading.get_ident()
    assert runner.outcome == "finished"


def test_failure_carries_the_exception_and_a_message(qtbot):
    runner = JobRunner(failing_job)
    with qtbot.waitSignal(runner.failed, timeout=5000) as blocker:
        runner.start()
    failure = blocker.args[0]
    assert isinstance(failure, JobFailure)
    assert isinstance(failure.exception, AudioNetError)
    assert "no classes" in failure.message
    assert "failing_job" in failure.traceback
    assert runner.outcome == "failed"
    qtbot.waitUntil(lambda: not runner.is_running(), timeout=5000)


def test_cancel_stops_promptly_and_emits_cancelled_only(qtbot):
    runner = JobRunner(counting_job, 10_000, step_s=0.01)
    outcomes = []
    runner.finished.connect(lambda r: outcomes.append("finished"))
    runner.failed.connect(lambda f: outcomes.append("failed"))
    runner.cancelled.connect(lambda: outcomes.append("cancelled"))
    with qtbot.waitSignal(runner.progress, timeout=5000):
        runner.start()
    t0 = time.monotonic()
    with qtbot.waitSignal(runner.cancelled, timeout=5000):
        runner.cancel()
    assert time.monotonic() - t0 < 1.0
    with qtbot.waitSignal(runner.done, timeout=5000, raising=False):
        pass
    qtbot.waitUntil(lambda: not runner.is_running(), timeout=5000)
    assert outcomes == ["cancelled"]
    assert runner.cancel_requested


def test_extra_arguments_reach_the_job(qtbot):
    got = {}

    def job(a, b=0, *, progress=None, cancel=None):
        got.update(a=a, b=b, has_progress=callable(progress), has_cancel=hasattr(cancel, "raise_if_cancelled"))
        return a + b

    runner = JobRunner(job, 2, b=3)
    with qtbot.waitSignal(runner.finished, timeout=5000) as blocker:
        runner.start()
    assert blocker.args == [5]
    assert got == {"a": 2, "b": 3, "has_progress": True, "has_cancel": True}
    runner.wait(5000)


def test_done_fires_after_the_thread_stopped(qtbot):
    runner = JobRunner(counting_job, 1)
    with qtbot.waitSignal(runner.done, timeout=5000):
        runner.start()
    assert not runner.is_running()


def test_a_function_without_progress_or_cancel_still_runs(qtbot):
    def plain(x):
        return x * 2

    runner = JobRunner(plain, 21)
    with qtbot.waitSignal(runner.finished, timeout=5000) as blocker:
        runner.start()
    assert blocker.args == [42]
    runner.wait(5000)


def test_the_thread_stops_by_itself_so_wait_works_from_a_blocked_gui_thread(qtbot):
    runner = JobRunner(counting_job, 3)
    runner.start()
    # no event processing here: the GUI thread is blocked in wait(), as in closeEvent
    assert runner.wait(5000)
    assert not runner.is_running()
    with qtbot.waitSignal(runner.finished, timeout=5000):
        pass  # the queued outcome still arrives once events flow


def priorities_job():
    """The job thread's own priority and that of a pool worker it starts."""
    with process_pool(1, multiprocessing.get_context("spawn")) as pool:
        worker = pool.submit(os.getpriority, os.PRIO_PROCESS, 0).result(timeout=60)
    return os.getpriority(os.PRIO_PROCESS, threading.get_native_id()), worker


def test_a_thread_job_keeps_the_gui_priority_and_nices_the_workers_it_starts(qtbot):
    # a niced thread holding the GIL while a busy machine preempts it stalls the GUI thread: the thread keeps the
    # GUI's priority; its pool workers, which share no GIL, are the ones lowered
    gui = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    runner = JobRunner(priorities_job)
    with qtbot.waitSignal(runner.finished, timeout=90000) as blocker:
        runner.start()
    thread, worker = blocker.args[0]
    assert thread == gui
    assert worker >= max(gui, POOL_NICENESS)
    qtbot.waitUntil(lambda: not runner.is_running(), timeout=5000)
