"""No process outlives the one that started it: pool workers and job processes end with their parent.

- ``die_with_parent``: called first thing in a child. On Linux the kernel sends SIGKILL when the parent dies
  (``PR_SET_PDEATHSIG``); everywhere a watcher thread ends the process once its parent is gone (re-parented), so
  even a SIGKILL of the parent, which runs no cleanup of its own, leaves no orphan working on.
- ``process_pool``: a ``ProcessPoolExecutor`` whose workers do that, ignore Ctrl-C (the parent decides) and are
  ended at once by ``stop_now`` when the parent is interrupted, instead of finishing their batches first.
  Once the workers are gone, multiprocessing's resource tracker sees its pipe close and exits too.
- ``nice_pool_workers``: pool workers started from the calling thread run at a lower priority (a job thread in
  the GUI's process: the workers must not take the window's CPU, and the thread itself must not be niced, since a
  niced thread that holds the GIL stalls the GUI thread).
- ``terminate_raises``: SIGTERM as an exception in the main thread, so ``finally`` blocks (temporary folders,
  pools) run and the command says it was terminated, instead of the silent default death.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from typing import Any

PR_SET_PDEATHSIG = 1
WATCH_INTERVAL_S = 0.25

_starter = threading.local()  # per thread: the niceness of the pool workers it starts


class Terminated(KeyboardInterrupt):
    """SIGTERM arrived (``terminate_raises``). A KeyboardInterrupt, so every Ctrl-C cleanup path runs for it too."""


def die_with_parent(parent_pid: int | None = None, kernel: bool = True) -> None:
    """End this process when ``parent_pid`` (default: the current parent) is gone. ``kernel=False`` skips the
    Linux death signal, which fires when the *thread* that started this process ends: right for a pool started
    from a short-lived thread, where only the watcher is safe."""
    parent_pid = os.getppid() if parent_pid is None else parent_pid
    if kernel and sys.platform.startswith("linux"):
        with contextlib.suppress(Exception):
            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent_pid:  # died before the death signal was armed
        os._exit(1)
    threading.Thread(target=_watch_parent, args=(parent_pid,), name="parent-watch", daemon=True).start()


def _watch_parent(parent_pid: int) -> None:
    while os.getppid() == parent_pid:
        time.sleep(WATCH_INTERVAL_S)
    os._exit(1)


def nice_pool_workers(niceness: int) -> None:
    """Pool workers that the calling thread starts from now on run at least at ``niceness``."""
    _starter.niceness = int(niceness)


def _worker_start(parent_pid: int, kernel: bool, niceness: int = 0) -> None:
    with contextlib.suppress(ValueError, OSError):
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole group: the parent handles it
    if niceness > 0:
        with contextlib.suppress(OSError, AttributeError):
            os.setpriority(os.PRIO_PROCESS, 0, max(os.getpriority(os.PRIO_PROCESS, 0), niceness))
    die_with_parent(parent_pid, kernel=kernel)


def worker_lifeline() -> dict[str, Any]:
    """``ProcessPoolExecutor`` arguments that make its workers end with this process (see the module's doc)."""
    kernel = threading.current_thread() is threading.main_thread()
    return {"initializer": _worker_start, "initargs": (os.getpid(), kernel, getattr(_starter, "niceness", 0))}


def process_pool(max_workers: int, mp_context: Any) -> ProcessPoolExecutor:
    """A process pool whose workers end with this process."""
    return ProcessPoolExecutor(max_workers=max_workers, mp_context=mp_context, **worker_lifeline())


def stop_now(pool: ProcessPoolExecutor) -> None:
    """End the pool's workers at once (an interrupt, not a cancel: nothing they are doing is wanted any more)."""
    processes = dict(getattr(pool, "_processes", None) or {})  # no public way to reach them
    for process in processes.values():
        with contextlib.suppress(Exception):
            process.terminate()
    pool.shutdown(wait=True, cancel_futures=True)


@contextlib.contextmanager
def terminate_raises() -> Iterator[None]:
    """Within the block, SIGTERM raises ``Terminated`` in the main thread (a no-op in other threads)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def raise_terminated(signum, frame):
        raise Terminated()

    previous = signal.signal(signal.SIGTERM, raise_terminated)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
