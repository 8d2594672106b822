"""InspectWorker: jobs off the GUI thread, newest request per kind wins, failures and progress delivered."""

from __future__ import annotations

import sys
import threading
import time

from PySide6.QtCore import QCoreApplication, QObject, Signal

from audionet_gui.core.base.errors import AudioNetError
from audionet_gui.core.base.jobs import Progress
from audionet_gui.qt.inspect_worker import InspectWorker


def slow_square(x, *, delay=0.0, progress=None, cancel=None):
    for i in range(10):
        time.sleep(delay / 10)
        cancel.raise_if_cancelled()
        progress(Progress("square", i + 1, 10))
    return x * x, threading.get_ident()


def test_result_arrives_on_the_gui_thread_from_another_thread(qtbot):
    worker = InspectWorker()
    progress = []
    worker.progress.connect(lambda kind, p: progress.append((kind, p.done)))
    with qtbot.waitSignal(worker.finished, timeout=5000) as blocker:
        worker.submit("calc", slow_square, 7)
    kind, (value, thread_id) = blocker.args
    assert (kind, value) == ("calc", 49)
    assert thread_id != threading.get_ident()
    assert progress and progress[-1] == ("calc", 10)
    assert not worker.is_busy()


def test_newest_request_of_a_kind_wins(qtbot):
    worker = InspectWorker()
    results = []
    worker.finished.connect(lambda kind, result: results.append(result[0]))
    with qtbot.waitSignal(worker.busy_changed, check_params_cb=lambda busy: not busy, timeout=5000):
        worker.submit("calc", slow_square, 2, delay=0.3)
        worker.submit("calc", slow_square, 3, delay=0.3)   # replaces nothing yet: 2 is running, 3 pending
        worker.submit("calc", slow_square, 4, delay=0.05)  # replaces 3; 2 is asked to cancel
    assert results == [16]


def test_kinds_run_side_by_side_and_failures_are_reported(qtbot):
    worker = InspectWorker()
    done = {}
    worker.finished.connect(lambda kind, result: done.setdefault(kind, result))

    def broken():
        raise AudioNetError("clip.wav: file is empty (0 bytes)")

    with qtbot.waitSignal(worker.failed, timeout=5000) as failed:
        worker.submit("a", slow_square, 5, delay=0.1)
        worker.submit("b", broken)
    assert failed.args[0] == "b" and "file is empty" in failed.args[1].message
    # "a" may have finished before "b"'s failure was seen (a loaded machine): wait for its result, not its signal
    qtbot.waitUntil(lambda: "a" in done, timeout=5000)
    assert done["a"][0] == 25


def test_cancel_all_and_shutdown_deliver_nothing(qtbot):
    worker = InspectWorker()
    delivered = []
    worker.finished.connect(lambda *a: delivered.append(a))
    worker.submit("calc", slow_square, 9, delay=2.0)
    worker.cancel_all()
    t0 = time.monotonic()
    assert worker.shutdown(timeout_s=5.0)
    assert time.monotonic() - t0 < 1.0   # the job saw its cancel token within one step
    qtbot.wait(50)
    assert delivered == [] and not worker.is_busy()


def test_many_jobs_in_a_row_do_not_crash(qtbot):
    # each job emits several signals: without refcount_guard, PySide6 6.12.0 on Python 3.11 aborts after ~600
    worker = InspectWorker()
    for i in range(60):
        with qtbot.waitSignal(worker.finished, timeout=5000) as blocker:
            worker.submit("calc", slow_square, i)
        assert blocker.args[1][0] == i * i


def test_refcount_guard_keeps_true_and_none_alive():
    class Emitter(QObject):
        ping = Signal()

    app = QCoreApplication.instance() or QCoreApplication([])
    emitter = Emitter()
    for _ in range(5000):   # 8x the references True starts with
        emitter.ping.emit()
        app.processEvents()
    assert sys.getrefcount(True) > 1000 and sys.getrefcount(None) > 1000
