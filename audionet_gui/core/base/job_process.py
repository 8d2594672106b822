"""The child-process side of a job: runs ``fn(*args, progress=, cancel=, **kwargs)`` in a process of its own and
reports over a pipe. Qt-free; the GUI side is ``qt/job_runner.py``.

Why a process: TensorFlow (building, training and running a Keras model) holds Python's GIL in long C++ calls,
and scanning or converting many files keeps it busy too; in the GUI's process every such call freezes the window.

Messages to the parent, each a tuple: ``("progress", Progress)``, then exactly one of ``("finished", result)``,
``("failed", FailureInfo)`` or ``("cancelled", None)``. Messages from the parent: ``("cancel",)``. When the
parent's end of the pipe closes (the app quit or crashed, or the job was dropped), the child kills its whole
process group (itself and any worker processes it started) at once, so no process outlives its job.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import pickle
import signal
import sys
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from audionet_gui.core.base.jobs import Cancelled, CancelToken
from audionet_gui.core.base.lifeline import die_with_parent

# A little below the GUI's priority. The window no longer shares the GIL with the job, so it needs no more than
# that to stay responsive, and a deeper nice (10) starved the job on a busy machine (a few % of a core at load 10).
CHILD_NICENESS = 2


class WorkerProcessError(RuntimeError):
    """The job's process ended without an answer (it crashed, was killed or exited by itself)."""


@dataclass
class FailureInfo:
    """An exception from the child, in a form that always crosses the pipe."""

    message: str
    traceback: str
    type_name: str
    pickled: bytes | None = None         # the exception itself, when it survives a pickle round trip
    rebuild: tuple | None = None          # (module, qualname, args, attributes) otherwise

    def exception(self) -> BaseException:
        """The original exception (same class and fields) when it can be rebuilt, else a RuntimeError."""
        if self.pickled is not None:
            with contextlib.suppress(Exception):
                return pickle.loads(self.pickled)
        if self.rebuild is not None:
            module, qualname, args, attrs = self.rebuild
            with contextlib.suppress(Exception):
                cls: Any = importlib.import_module(module)
                for part in qualname.split("."):
                    cls = getattr(cls, part)
                exc = cls.__new__(cls)
                exc.args = tuple(args)
                exc.__dict__.update(attrs)
                return exc
        return RuntimeError(f"{self.type_name}: {self.message}")


def failure_info(exc: BaseException) -> FailureInfo:
    info = FailureInfo(str(exc) or type(exc).__name__, traceback.format_exc(), type(exc).__name__)
    try:
        data = pickle.dumps(exc)
        pickle.loads(data)
        info.pickled = data
    except Exception:
        try:
            rebuild = (type(exc).__module__, type(exc).__qualname__, tuple(exc.args), dict(vars(exc)))
            pickle.loads(pickle.dumps(rebuild))
            info.rebuild = rebuild
        except Exception:
            pass
    return info


def exit_reason(exitcode: int | None) -> str:
    """'exit code 3', 'killed by SIGSEGV (segmentation fault)', ... for a process's exit code."""
    if exitcode is None:
        return "still running"
    if exitcode < 0:
        try:
            sig = signal.Signals(-exitcode)
            return f"killed by {sig.name} ({signal.strsignal(sig) or ''})".replace(" ()", "")
        except ValueError:
            return f"killed by signal {-exitcode}"
    return f"exit code {exitcode}"


def child_main(conn, fn: Callable[..., Any], args: tuple, kwargs: dict, hooks: tuple[str, ...],
               env: dict[str, str], cwd: str) -> None:
    """The child's entry point (``multiprocessing.Process`` target)."""
    os.environ.clear()
    os.environ.update(env)  # the parent's environment now, not the fork server's from when it started
    with contextlib.suppress(OSError):
        os.chdir(cwd)
    with contextlib.suppress(OSError, AttributeError):
        os.setpgid(0, 0)  # a group of its own: the parent can stop the job and every process it started together
    with contextlib.suppress(OSError, AttributeError):
        os.setpriority(os.PRIO_PROCESS, 0, max(os.getpriority(os.PRIO_PROCESS, 0), CHILD_NICENESS))
    die_with_parent()  # also when the app is killed with SIGKILL (lifeline.py)
    send_lock = threading.Lock()

    def send(message: tuple) -> None:
        with send_lock:
            conn.send(message)

    token = CancelToken()
    threading.Thread(target=_listen, args=(conn, token), name="job-control", daemon=True).start()
    given = {"progress": lambda p: send(("progress", p)), "cancel": token}
    try:
        result = fn(*args, **{k: given[k] for k in hooks}, **kwargs)
    except Cancelled:
        message: tuple = ("cancelled", None)
    except BaseException as exc:  # everything, SystemExit included, is reported as a failure
        message = ("failed", failure_info(exc))
    else:
        message = ("finished", result)
    try:
        send(message)
    except Exception as exc:  # the result does not pickle: say so instead of dying silently
        send(("failed", failure_info(TypeError(f"the job's result cannot be sent back ({type(exc).__name__}: "
                                               f"{exc}); job functions run in a process must return picklable "
                                               f"values"))))
    with contextlib.suppress(Exception):
        sys.stdout.flush()
        sys.stderr.flush()
    # Skip interpreter teardown: TensorFlow's can take seconds or crash, and the answer is already sent.
    os._exit(0)


def _listen(conn, token: CancelToken) -> None:
    """Control thread: a cancel request sets the token; the parent gone (EOF) ends the job and its workers."""
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            _kill_own_group()
            return
        if message and message[0] == "cancel":
            token.cancel()


def _kill_own_group() -> None:
    with contextlib.suppress(OSError, AttributeError):
        if os.getpgrp() == os.getpid():
            os.killpg(os.getpid(), signal.SIGKILL)
    os._exit(1)
