"""What every long job shares: a progress report, a callback type and a cooperative cancel token.

A long job is a plain function ``job(..., progress=None, cancel=None)``. It calls ``progress(Progress(...))``
now and then and ``cancel.raise_if_cancelled()`` between units of work, so the CLI, the tests and the GUI
workers drive the same code.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field


class Cancelled(Exception):
    """Raised inside a job when its cancel token was set; the job leaves consistent state behind."""


class CancelToken:
    """A thread-safe flag that a job polls between units of work."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def raise_if_cancelled(self) -> None:
        if self._event.is_set():
            raise Cancelled()


@dataclass
class Progress:
    """One progress report. ``total`` may be 0 when unknown; ``eta_s`` is None until it can be estimated."""

    stage: str
    done: int = 0
    total: int = 0
    message: str = ""
    eta_s: float | None = None
    extra: dict = field(default_factory=dict)

    @property
    def fraction(self) -> float:
        return (self.done / self.total) if self.total else 0.0


ProgressCallback = Callable[[Progress], None]


def no_progress(_: Progress) -> None:
    pass


class ProgressTracker:
    """Builds ``Progress`` reports for one stage with a time-left estimate, throttled so callers stay cheap."""

    def __init__(self, callback: ProgressCallback | None, stage: str, total: int, min_interval_s: float = 0.05):
        self._callback = callback or no_progress
        self.stage = stage
        self.total = total
        self.done = 0
        self._start = time.monotonic()
        self._last_emit = 0.0
        self._min_interval = min_interval_s

    def advance(self, n: int = 1, message: str = "", force: bool = False, **extra) -> None:
        self.done += n
        self.emit(message=message, force=force, **extra)

    def emit(self, message: str = "", force: bool = False, **extra) -> None:
        now = time.monotonic()
        finished = self.total and self.done >= self.total
        if not (force or finished or now - self._last_emit >= self._min_interval):
            return
        self._last_emit = now
        elapsed = now - self._start
        eta = None
        if self.total and self.done:
            eta = elapsed / self.done * max(self.total - self.done, 0)
        self._callback(Progress(self.stage, self.done, self.total, message, eta, dict(extra)))


def ensure_token(cancel: CancelToken | None) -> CancelToken:
    return cancel if cancel is not None else CancelToken()
