"""Runs the inspector's core jobs (load a file, recompute a spectrogram, render a window's image, export)
off the GUI thread, where the newest request of each kind wins.

Moving a slider sends many requests; computing each would queue seconds of stale work on two cores. Per kind
there is at most one running job and one pending request: a new request replaces the pending one and asks the
running one to cancel, and a result that was overtaken by a newer request is never delivered.

Jobs run in plain Python threads and hand their reports to the GUI thread through a queue that a QTimer
drains, so no Qt object is ever touched off the GUI thread and a job needs no QThread of its own.
"""

from __future__ import annotations

import inspect
import queue
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal

from audionet_gui.core.base.jobs import Cancelled, CancelToken
from audionet_gui.qt.job_runner import JobFailure
from audionet_gui.qt.refcount_guard import protect_singletons

POLL_INTERVAL_MS = 15
protect_singletons()  # every signal emit would otherwise wear down True's reference count (PySide6 6.12.0)


def _accepts(fn: Callable[..., Any], name: str) -> bool:
    """Whether ``fn`` takes a keyword ``name`` (so a quick job without ``progress`` still runs)."""
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False
    return name in params or any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())


@dataclass
class _Job:
    kind: str
    token: CancelToken
    thread: threading.Thread | None = None


class InspectWorker(QObject):
    finished = Signal(str, object)   # kind, the job's result (only of the newest request of that kind)
    failed = Signal(str, object)     # kind, JobFailure
    progress = Signal(str, object)   # kind, Progress
    busy_changed = Signal(bool)

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._running: dict[str, _Job] = {}
        self._pending: dict[str, tuple[Callable[..., Any], tuple, dict]] = {}
        self._reports: queue.Queue[tuple[_Job, str, Any]] = queue.Queue()
        self._busy = False
        self._poll = QTimer(self, interval=POLL_INTERVAL_MS)
        self._poll.timeout.connect(self.deliver)

    def submit(self, kind: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        """Run ``fn(*args, **kwargs)`` (given ``progress``/``cancel`` if it takes them) as the newest ``kind`` job."""
        self._pending[kind] = (fn, args, kwargs)
        running = self._running.get(kind)
        if running is not None:
            running.token.cancel()
        else:
            self._start_next(kind)
        self._update_busy()

    def cancel(self, kind: str) -> None:
        self._pending.pop(kind, None)
        if kind in self._running:
            self._running[kind].token.cancel()
        self._update_busy()

    def cancel_all(self) -> None:
        for kind in set(self._pending) | set(self._running):
            self.cancel(kind)

    def is_busy(self, kind: str | None = None) -> bool:
        if kind is None:
            return bool(self._running or self._pending)
        return kind in self._running or kind in self._pending

    def shutdown(self, timeout_s: float = 5.0) -> bool:
        """Cancel everything and wait for the threads to end (window close). True when all ended."""
        self._pending.clear()
        jobs = list(self._running.values())
        for job in jobs:
            job.token.cancel()
        end = time.monotonic() + timeout_s
        for job in jobs:
            if job.thread is not None:
                job.thread.join(max(0.0, end - time.monotonic()))
        self._drain(deliver_results=False)
        self._poll.stop()
        return not self._running

    def deliver(self) -> None:
        """Hand queued reports to the signals (the poll timer calls this; tests may too)."""
        self._drain(deliver_results=True)

    # -- internals ------------------------------------------------------------------------------------------------
    def _start_next(self, kind: str) -> None:
        request = self._pending.pop(kind, None)
        if request is None:
            return
        fn, args, kwargs = request
        job = _Job(kind, CancelToken())
        hooks = {}
        if _accepts(fn, "progress"):
            hooks["progress"] = lambda p, job=job: self._reports.put((job, "progress", p))
        if _accepts(fn, "cancel"):
            hooks["cancel"] = job.token
        job.thread = threading.Thread(target=self._run, args=(job, fn, args, {**kwargs, **hooks}),
                                      name=f"inspect:{kind}", daemon=True)
        self._running[kind] = job
        job.thread.start()
        self._poll.start()

    def _run(self, job: _Job, fn: Callable[..., Any], args: tuple, kwargs: dict) -> None:
        """Worker thread: touches no Qt object, only the queue."""
        try:
            result = fn(*args, **kwargs)
        except Cancelled:
            self._reports.put((job, "cancelled", None))
        except Exception as exc:
            message = str(exc) or type(exc).__name__
            self._reports.put((job, "failed", JobFailure(exc, message, traceback.format_exc())))
        else:
            self._reports.put((job, "finished", result))

    def _drain(self, deliver_results: bool) -> None:
        while True:
            try:
                job, what, payload = self._reports.get_nowait()
            except queue.Empty:
                break
            current = self._running.get(job.kind) is job
            overtaken = job.token.cancelled or job.kind in self._pending or not current
            if what == "progress":
                if deliver_results and not overtaken:
                    self.progress.emit(job.kind, payload)
                continue
            if current:
                del self._running[job.kind]
            if deliver_results and not overtaken and what == "finished":
                self.finished.emit(job.kind, payload)
            elif deliver_results and not overtaken and what == "failed":
                self.failed.emit(job.kind, payload)
            if deliver_results:
                self._start_next(job.kind)
        if not self._running:
            self._poll.stop()
        self._update_busy()

    def _update_busy(self) -> None:
        busy = self.is_busy()
        if busy != self._busy:
            self._busy = busy
            self.busy_changed.emit(busy)
