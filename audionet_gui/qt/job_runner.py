"""Runs any core job ``fn(..., progress=, cancel=)`` off the GUI thread and turns what happens into Qt signals.

One runner for every background job of the app, in one of two places:

- ``process=True``: a **child process** (multiprocessing 'forkserver', or 'spawn' where there is none; never
  'fork', unsafe with Qt's and TensorFlow's threads). For anything that builds or runs a Keras model, and for
  scanning and converting: TensorFlow's C++ calls and long Python loops hold the GIL, and in the GUI's process
  they froze the window. Arguments and the result must pickle (``fn`` a module-level function). Cancel asks the
  child, and stops its whole process group if it has not ended ``CANCEL_GRACE_S`` later. A crash (exception,
  ``os._exit``, segfault, killed) is a ``failed`` with the reason. The child dies with its job and with the app.
- ``process=False`` (default): a Python thread, for quick jobs and jobs that need this process's objects
  (a running live engine, a loaded model).

Either way the worker never touches a Qt object: it puts its reports in a queue (a pipe for a child) that a
QTimer on the runner's thread drains, so every signal is emitted on the thread that created the runner, in
order: ``progress``..., then exactly one of ``finished``, ``failed`` or ``cancelled``, then ``done`` once the
worker has stopped. ``progress`` and ``cancel`` are passed only to a function that takes them.

    job = JobRunner(convert_project, project, parent=window, process=True)
    job.progress.connect(bar.show_progress)
    job.finished.connect(on_done)
    job.start()
    ...
    job.cancel()

``JobSlot`` is the rule for stale results, in one place: a slot runs one kind of job; starting it again cancels
the running run and drops everything that run still reports (Orange's ``ConcurrentMixin.start``).
"""

from __future__ import annotations

import atexit
import collections
import contextlib
import inspect
import multiprocessing
import multiprocessing.forkserver
import os
import signal
import sys
import threading
import time
import traceback
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal

from audionet_gui.core.base.job_process import FailureInfo, WorkerProcessError, child_main, exit_reason
from audionet_gui.core.base.jobs import Cancelled, CancelToken
from audionet_gui.core.base.lifeline import nice_pool_workers

POLL_MS = 20
POOL_NICENESS = 10  # pool workers of a thread job: they share no GIL with the window, only its cores
CANCEL_GRACE_S = 0.6   # a child that has not stopped by then is terminated (Cancel takes effect within a second)
KILL_AFTER_S = 0.25    # and killed if SIGTERM was not enough
PROCESS_JOBS = True    # False runs process jobs in threads (tests whose monkeypatches must reach the job)
# Imported once by the fork server, so each child starts in milliseconds (none of them imports TensorFlow).
FORKSERVER_PRELOAD = ["audionet_gui.core.base.job_process", "audionet_gui.core.data.project",
                      "audionet_gui.core.pipeline", "audionet_gui.core.model.predict"]


@dataclass
class JobFailure:
    """What went wrong in a job: the exception itself (for its type and fields), a one-line message and the
    traceback text for a log."""

    exception: BaseException
    message: str
    traceback: str

    def __str__(self) -> str:
        return self.message


def _accepts(fn: Callable[..., Any], name: str) -> bool:
    """Whether ``fn`` takes a keyword ``name`` (a job without ``progress``, such as a quick load, still runs)."""
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return True
    return name in params or any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())


_context = None


def process_context():
    """The multiprocessing context for child jobs (created once)."""
    global _context
    if _context is None:
        frozen = getattr(sys, "frozen", False)
        if "forkserver" in multiprocessing.get_all_start_methods() and not frozen:
            _context = multiprocessing.get_context("forkserver")
            _context.set_forkserver_preload(FORKSERVER_PRELOAD)
        else:
            _context = multiprocessing.get_context("spawn")
    return _context


def prestart_process_server() -> None:
    """Start the fork server now, in the background, so the first child job does not wait for it."""
    ctx = process_context()
    if ctx.get_start_method() == "forkserver":
        threading.Thread(target=_ensure_fork_server, name="job-forkserver", daemon=True).start()


def _ensure_fork_server() -> None:
    with contextlib.suppress(Exception):
        multiprocessing.forkserver.ensure_running()


_live_children: weakref.WeakSet = weakref.WeakSet()


def _signal_group(process, sig: int, group_only: bool = False) -> None:
    """Send ``sig`` to the child's process group (itself and the workers it started), or to it alone when it
    has no group of its own yet (not with ``group_only``: after the child was reaped its pid may be reused)."""
    pid = process.pid
    if pid is None:
        return
    try:
        os.killpg(pid, sig)
    except (OSError, AttributeError):
        if not group_only:
            with contextlib.suppress(OSError):
                os.kill(pid, sig)


@atexit.register
def _kill_children_at_exit() -> None:
    """No job process outlives the app (runs before multiprocessing's own exit hook, which would wait for them)."""
    for process in list(_live_children):
        if process.is_alive():
            _signal_group(process, getattr(signal, "SIGKILL", signal.SIGTERM))
            process.join(2)


class JobRunner(QObject):
    """One run of ``fn`` in a thread or a child process. Signals arrive on the thread that created the runner."""

    progress = Signal(object)  # Progress
    finished = Signal(object)  # the job's return value
    failed = Signal(object)  # JobFailure
    cancelled = Signal()
    done = Signal()  # after any of the three outcomes, once the worker has stopped

    def __init__(self, fn: Callable[..., Any], *args: Any, parent: QObject | None = None, name: str = "",
                 process: bool = False, **kwargs: Any):
        super().__init__(parent)
        self.name = name or getattr(fn, "__name__", "job")
        self.in_process = bool(process) and PROCESS_JOBS
        self._fn, self._args, self._kwargs = fn, args, kwargs
        self._token = CancelToken()
        self._inbox: collections.deque = collections.deque()  # (what, payload), appended by the worker
        self._thread: threading.Thread | None = None
        self._process = None
        self._conn = None
        self._eof = False
        self._cancel_at: float | None = None
        self._terminated_at: float | None = None
        self._outcome: str | None = None
        self._done_sent = False
        self._started = False
        self._timer = QTimer(self)
        self._timer.setInterval(POLL_MS)
        self._timer.timeout.connect(self._poll)

    # -- control ---------------------------------------------------------------------------------------------
    def start(self) -> JobRunner:
        if self._started:
            return self
        self._started = True
        hooks = tuple(name for name in ("progress", "cancel") if _accepts(self._fn, name))
        if self.in_process:
            # Starting a process waits for the fork server (seconds the first time, while it imports its
            # modules) and pickles the arguments: a thread of its own does it, never the GUI thread.
            self._thread = threading.Thread(target=self._start_process, args=(hooks, dict(os.environ), os.getcwd()),
                                            name=f"job-start:{self.name}", daemon=True)
            self._thread.start()
        else:
            self._thread = threading.Thread(target=self._run_in_thread, args=(hooks,), name=f"job:{self.name}",
                                            daemon=True)
            self._thread.start()
        self._timer.start()
        return self

    def cancel(self) -> None:
        if self._token.cancelled:
            return
        self._token.cancel()
        self._cancel_at = time.monotonic()
        if self._conn is not None and not self._eof:
            with contextlib.suppress(OSError, ValueError):
                self._conn.send(("cancel",))

    @property
    def cancel_requested(self) -> bool:
        return self._token.cancelled

    def is_running(self) -> bool:
        """The worker (thread or process) has not stopped yet."""
        if self._thread is not None and self._thread.is_alive():
            return True  # a thread job, or a child process being started
        return self._process is not None and self._process.is_alive()

    def wait(self, timeout_ms: int = -1) -> bool:
        """Block until the worker stops (shutdown and tests; never from a slot in normal use). A cancelled child
        is still terminated after the grace period. The outcome is delivered once events flow again."""
        end = None if timeout_ms < 0 else time.monotonic() + timeout_ms / 1000
        if self._thread is not None:
            self._thread.join(None if end is None else max(0.0, end - time.monotonic()))
            if self._thread.is_alive():
                return False
        while self._process is not None and self._process.is_alive():
            self._read_pipe()  # a child blocked writing a large result would never end otherwise
            self._escalate_cancel()
            left = 0.05 if end is None else min(0.05, end - time.monotonic())
            if left <= 0:
                return False
            self._process.join(left)
        return True

    @property
    def outcome(self) -> str | None:
        """'finished', 'failed', 'cancelled' or None while running."""
        return self._outcome

    @property
    def pid(self) -> int | None:
        """The child's process id (process jobs)."""
        return None if self._process is None else self._process.pid

    # -- worker side ------------------------------------------------------------------------------------------------
    def _start_process(self, hooks: tuple[str, ...], env: dict, cwd: str) -> None:
        """Thread: start the child process (the GUI side picks up ``_conn`` once it is set)."""
        ctx = process_context()
        parent_conn, child_conn = ctx.Pipe(duplex=True)
        process = ctx.Process(target=child_main, name=f"job:{self.name}",
                              args=(child_conn, self._fn, self._args, self._kwargs, hooks, env, cwd))
        try:
            process.start()
        except Exception as exc:  # arguments that do not pickle, no resources for a process...
            parent_conn.close()
            self._inbox.append(("failed", JobFailure(exc, f"could not start the job's process: {exc}",
                                                     traceback.format_exc())))
        else:
            _live_children.add(process)
            self._process = process
            self._conn = parent_conn
            if self._token.cancelled:  # cancelled while starting
                with contextlib.suppress(OSError, ValueError):
                    parent_conn.send(("cancel",))
        finally:
            child_conn.close()

    def _run_in_thread(self, hooks: tuple[str, ...]) -> None:
        """Touches no Qt object, only the inbox. Runs at the GUI thread's own priority: a lowered (niced) thread
        that holds the GIL when a busy machine preempts it keeps the GUI thread waiting for the GIL until the
        scheduler gives it a turn again (measured: 4 busy loops, a niced pure-Python thread, the main thread's
        10 ms beat: worst gap 145 ms at nice 10, 32 ms at nice 0). The processes it starts are niced instead:
        a conversion's pool workers here, a child job's process by itself."""
        nice_pool_workers(POOL_NICENESS)
        given = {"progress": lambda p: self._inbox.append(("progress", p)), "cancel": self._token}
        try:
            result = self._fn(*self._args, **{k: given[k] for k in hooks}, **self._kwargs)
        except Cancelled:
            self._inbox.append(("cancelled", None))
        except Exception as exc:
            message = str(exc) or type(exc).__name__
            self._inbox.append(("failed", JobFailure(exc, message, traceback.format_exc())))
        else:
            self._inbox.append(("finished", result))

    # -- GUI side ------------------------------------------------------------------------------------------------
    def _read_pipe(self) -> None:
        if self._conn is None or self._eof:
            return
        try:
            for _ in range(500):
                if not self._conn.poll():
                    return
                what, payload = self._conn.recv()
                if what == "failed" and isinstance(payload, FailureInfo):
                    payload = JobFailure(payload.exception(), payload.message, payload.traceback)
                self._inbox.append((what, payload))
        except (EOFError, OSError):
            self._eof = True
        except Exception as exc:  # a result that does not unpickle here
            self._inbox.append(("failed", JobFailure(exc, f"the job's answer could not be read: {exc}",
                                                     traceback.format_exc())))

    def _escalate_cancel(self) -> None:
        """A cancelled child that does not stop by itself is terminated, then killed."""
        if self._cancel_at is None or self._process is None or not self._process.is_alive():
            return
        now = time.monotonic()
        if self._terminated_at is None and now - self._cancel_at >= CANCEL_GRACE_S:
            self._terminated_at = now
            _signal_group(self._process, signal.SIGTERM)
        elif self._terminated_at is not None and now - self._terminated_at >= KILL_AFTER_S:
            _signal_group(self._process, getattr(signal, "SIGKILL", signal.SIGTERM))

    def _poll(self) -> None:
        self._read_pipe()
        self._escalate_cancel()
        while self._inbox:
            what, payload = self._inbox.popleft()
            if self._outcome is not None:
                continue
            if what == "progress":
                self.progress.emit(payload)
                continue
            self._outcome = what
            getattr(self, f"_emit_{what}")(payload)
        if self._process is not None and self._outcome is None and self._eof and not self._process.is_alive():
            self._process.join(0)
            self._on_child_gone()
        if self._outcome is not None and not self.is_running() and not self._done_sent:
            self._done_sent = True
            self._timer.stop()
            self._close_pipe()
            self._fn, self._args, self._kwargs = None, (), {}  # large inputs (audio) are not kept alive
            self.done.emit()

    def _on_child_gone(self) -> None:
        """The child ended without an answer: cancelled if asked to stop, else it crashed. Worker processes it
        started (its process group) go with it."""
        _signal_group(self._process, getattr(signal, "SIGKILL", signal.SIGTERM), group_only=True)
        if self._token.cancelled:
            self._outcome = "cancelled"
            self.cancelled.emit()
            return
        reason = exit_reason(self._process.exitcode)
        message = f"the job's process stopped unexpectedly ({reason})"
        self._outcome = "failed"
        self.failed.emit(JobFailure(WorkerProcessError(message), message, ""))

    def _release(self) -> None:
        self._fn, self._args, self._kwargs = None, (), {}

    def _close_pipe(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(OSError):
                self._conn.close()
            self._conn = None

    def _emit_finished(self, result: Any) -> None:
        self.finished.emit(result)

    def _emit_failed(self, failure: JobFailure) -> None:
        self.failed.emit(failure)

    def _emit_cancelled(self, _payload: Any) -> None:
        self.cancelled.emit()


def run_job(fn: Callable[..., Any], *args: Any, parent: QObject | None = None, **kwargs: Any) -> JobRunner:
    """Create and start a ``JobRunner`` (convenience)."""
    return JobRunner(fn, *args, parent=parent, **kwargs).start()


class JobSlot(QObject):
    """One kind of background job where the newest request wins: ``start`` cancels the run in progress and
    everything that run still reports is dropped here (Orange's ``ConcurrentMixin.start``). The new run starts as
    soon as the old one has stopped, so two cores never work on stale requests side by side: at most one running
    run and one waiting request; a newer request replaces the waiting one.

    The slot's signals carry only the newest run's reports. ``cancel`` stops the current run; its ``cancelled``
    is delivered, a result it still produces is not."""

    progress = Signal(object)
    finished = Signal(object)
    failed = Signal(object)
    cancelled = Signal()
    busy_changed = Signal(bool)

    def __init__(self, parent: QObject | None = None, name: str = "", process: bool = False):
        super().__init__(parent)
        self.name = name
        self.process = process
        self._current: JobRunner | None = None   # the newest run (running, or waiting for the old one to stop)
        self._running: JobRunner | None = None   # the run whose worker is active (may be an overtaken one)
        self._busy = False

    @property
    def runner(self) -> JobRunner | None:
        return self._current

    def start(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> JobRunner:
        runner = JobRunner(fn, *args, parent=self, name=kwargs.pop("name", self.name), process=self.process,
                           **kwargs)
        runner.progress.connect(lambda p, r=runner: self._deliver(r, self.progress, p))
        runner.finished.connect(lambda result, r=runner: self._deliver(r, self.finished, result))
        runner.failed.connect(lambda failure, r=runner: self._deliver(r, self.failed, failure))
        runner.cancelled.connect(lambda r=runner: self._deliver(r, self.cancelled))
        runner.done.connect(lambda r=runner: self._on_done(r))
        old, self._current = self._current, runner
        if old is not None:
            old.cancel()
            if old is not self._running:  # a waiting request that never started: nothing will come from it
                old._release()
        if self._running is None or not self._running.is_running() and self._running.outcome is not None:
            self._launch(runner)
        self._update_busy()
        return runner

    def cancel(self) -> None:
        if self._current is not None:
            self._current.cancel()
            if self._current is not self._running:  # never started: nothing to wait for
                self._current = None
        if self._running is not None:
            self._running.cancel()
        self._update_busy()

    def is_busy(self) -> bool:
        return self._running is not None or (self._current is not None and self._current.outcome is None)

    def shutdown(self, timeout_s: float = 5.0) -> bool:
        """Cancel and wait for the worker to stop (window close); nothing more is delivered. True when stopped."""
        self._current = None
        runner = self._running
        if runner is None:
            return True
        runner.cancel()
        stopped = runner.wait(int(timeout_s * 1000))
        self._update_busy()
        return stopped

    # -- the one place where stale results are dropped -------------------------------------------------------------
    def _deliver(self, runner: JobRunner, signal_: Any, *args: Any) -> None:
        if runner is not self._current:
            return  # overtaken by a newer request
        if runner.cancel_requested and signal_ is not self.cancelled:
            return  # cancelled: a late result or progress is stale
        signal_.emit(*args)

    def _launch(self, runner: JobRunner) -> None:
        self._running = runner
        runner.start()

    def _on_done(self, runner: JobRunner) -> None:
        if runner is self._running:
            self._running = None
        if runner is self._current:
            self._current = None
        pending = self._current
        if self._running is None and pending is not None and pending.outcome is None and not pending.is_running():
            self._launch(pending)
        self._update_busy()

    def _update_busy(self) -> None:
        busy = self.is_busy()
        if busy != self._busy:
            self._busy = busy
            self.busy_changed.emit(busy)
