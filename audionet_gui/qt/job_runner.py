"""Runs any core job ``fn(..., progress=, cancel=)`` in a QThread and turns what happens into Qt signals.

A thin adapter with no logic of its own: the job function does the work, reports ``Progress`` and polls the
cancel token; this class only carries those reports across threads. ``progress`` and ``cancel`` are passed
only to a function that takes them. Exactly one of ``finished``,
``failed`` or ``cancelled`` is emitted per run, always after the last ``progress``.

    job = JobRunner(convert_dataset, spec, workspace, spec_cfg, win_cfg, parent=window)
    job.progress.connect(bar.show_progress)
    job.finished.connect(on_done)
    job.start()
    ...
    job.cancel()
"""

from __future__ import annotations

import inspect
import os
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QObject, QThread, Signal, Slot

from audionet_gui.core.base.jobs import Cancelled, CancelToken, Progress
from audionet_gui.qt.refcount_guard import protect_singletons

protect_singletons()  # PySide6 6.12.0 emit() leaks a reference to True per call; long jobs emit thousands


@dataclass
class JobFailure:
    """What went wrong in a job: the exception itself (for its type and fields), a one-line message and the
    traceback text for a log."""

    exception: BaseException
    message: str
    traceback: str

    def __str__(self) -> str:
        return self.message


class _JobBody(QObject):
    """Lives in the worker thread; calls the job function once."""

    progress = Signal(object)
    finished = Signal(object)
    failed = Signal(object)
    cancelled = Signal()

    def __init__(self, fn: Callable[..., Any], args: tuple, kwargs: dict, token: CancelToken):
        super().__init__()
        self._fn, self._args, self._kwargs, self._token = fn, args, kwargs, token

    @Slot()
    def run(self) -> None:
        _lower_thread_priority()
        hooks = {name: value for name, value in (("progress", self._report), ("cancel", self._token))
                 if _accepts(self._fn, name)}
        try:
            result = self._fn(*self._args, **hooks, **self._kwargs)
        except Cancelled:
            self.cancelled.emit()
        except Exception as exc:
            message = str(exc) or type(exc).__name__
            self.failed.emit(JobFailure(exc, message, traceback.format_exc()))
        else:
            self.finished.emit(result)
        finally:
            # The thread stops by itself once the job is over, so ``wait()`` works even while the GUI thread is
            # busy (e.g. closing the window); the outcome signal is already queued for the GUI thread.
            self.thread().quit()

    def _report(self, p: Progress) -> None:
        self.progress.emit(p)


JOB_NICENESS = 10


def _lower_thread_priority() -> None:
    """Run the job below the GUI thread's priority, so the window stays responsive when the job (and the worker
    processes and TensorFlow threads it starts, which inherit this) keeps every core busy. On Linux the nice value
    belongs to a thread; elsewhere this is a no-op."""
    try:
        tid = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, tid, max(os.getpriority(os.PRIO_PROCESS, tid), JOB_NICENESS))
    except (AttributeError, OSError):
        pass


def _accepts(fn: Callable[..., Any], name: str) -> bool:
    """Whether ``fn`` takes a keyword ``name`` (a job without ``progress``, such as a quick load, still runs)."""
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return True
    return name in params or any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())


class JobRunner(QObject):
    """Owns one worker thread for one run of ``fn``. Signals arrive on the thread that created the runner."""

    progress = Signal(object)  # Progress
    finished = Signal(object)  # the job's return value
    failed = Signal(object)  # JobFailure
    cancelled = Signal()
    done = Signal()  # after any of the three outcomes, once the thread has stopped

    def __init__(self, fn: Callable[..., Any], *args: Any, parent: QObject | None = None, name: str = "", **kwargs: Any):
        super().__init__(parent)
        self.name = name or getattr(fn, "__name__", "job")
        self._token = CancelToken()
        self._thread = QThread()
        self._thread.setObjectName(f"job:{self.name}")
        self._body = _JobBody(fn, args, kwargs, self._token)
        self._body.moveToThread(self._thread)
        self._thread.started.connect(self._body.run)
        # Outcomes first reach this object (queued, GUI thread), then the thread is asked to stop.
        self._body.progress.connect(self.progress)
        self._body.finished.connect(self._on_finished)
        self._body.failed.connect(self._on_failed)
        self._body.cancelled.connect(self._on_cancelled)
        self._thread.finished.connect(self._on_thread_finished)
        self._outcome: str | None = None

    # -- control ---------------------------------------------------------------------------------------------
    def start(self) -> JobRunner:
        self._thread.start()
        return self

    def cancel(self) -> None:
        self._token.cancel()

    @property
    def cancel_requested(self) -> bool:
        return self._token.cancelled

    def is_running(self) -> bool:
        return self._thread.isRunning()

    def wait(self, timeout_ms: int = -1) -> bool:
        """Block until the thread stops (for shutdown and tests; never call from a slot during normal use)."""
        return self._thread.wait() if timeout_ms < 0 else self._thread.wait(timeout_ms)

    @property
    def outcome(self) -> str | None:
        """'finished', 'failed', 'cancelled' or None while running."""
        return self._outcome

    # -- outcomes ----------------------------------------------------------------------------------------------
    def _on_finished(self, result: Any) -> None:
        self._outcome = "finished"
        self._thread.quit()
        self.finished.emit(result)

    def _on_failed(self, failure: JobFailure) -> None:
        self._outcome = "failed"
        self._thread.quit()
        self.failed.emit(failure)

    def _on_cancelled(self) -> None:
        self._outcome = "cancelled"
        self._thread.quit()
        self.cancelled.emit()

    def _on_thread_finished(self) -> None:
        self.done.emit()


def run_job(fn: Callable[..., Any], *args: Any, parent: QObject | None = None, **kwargs: Any) -> JobRunner:
    """Create and start a ``JobRunner`` (convenience)."""
    return JobRunner(fn, *args, parent=parent, **kwargs).start()
