"""Runs the inspector's core jobs (load a file, recompute a spectrogram, render a window's image, export)
off the GUI thread, where the newest request of each kind wins.

Moving a slider sends many requests; computing each would queue seconds of stale work on two cores. Each kind is
a ``JobSlot`` (qt/job_runner.py), the app's one rule for stale results: at most one running job and one waiting
request per kind, a new request replaces the waiting one and cancels the running one, and a result that was
overtaken by a newer request, or cancelled, is never delivered. The jobs run in threads (they are quick and hand
back large arrays); nothing here touches a Qt object off the GUI thread.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal

from audionet_gui.qt.job_runner import JobSlot


class InspectWorker(QObject):
    finished = Signal(str, object)   # kind, the job's result (only of the newest request of that kind)
    failed = Signal(str, object)     # kind, JobFailure
    progress = Signal(str, object)   # kind, Progress
    busy_changed = Signal(bool)

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._slots: dict[str, JobSlot] = {}
        self._busy = False

    def submit(self, kind: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        """Run ``fn(*args, **kwargs)`` (given ``progress``/``cancel`` if it takes them) as the newest ``kind`` job."""
        self._slot(kind).start(fn, *args, name=f"inspect:{kind}", **kwargs)

    def cancel(self, kind: str) -> None:
        if kind in self._slots:
            self._slots[kind].cancel()

    def cancel_all(self) -> None:
        for slot in self._slots.values():
            slot.cancel()

    def is_busy(self, kind: str | None = None) -> bool:
        if kind is None:
            return any(slot.is_busy() for slot in self._slots.values())
        return kind in self._slots and self._slots[kind].is_busy()

    def shutdown(self, timeout_s: float = 5.0) -> bool:
        """Cancel everything and wait for the workers to end (window close). True when all ended."""
        return all([slot.shutdown(timeout_s) for slot in self._slots.values()])

    # -- internals ------------------------------------------------------------------------------------------------
    def _slot(self, kind: str) -> JobSlot:
        slot = self._slots.get(kind)
        if slot is None:
            slot = self._slots[kind] = JobSlot(self, name=f"inspect:{kind}")
            slot.finished.connect(lambda result, k=kind: self.finished.emit(k, result))
            slot.failed.connect(lambda failure, k=kind: self.failed.emit(k, failure))
            slot.progress.connect(lambda p, k=kind: self.progress.emit(k, p))
            slot.busy_changed.connect(self._update_busy)
        return slot

    def _update_busy(self, _changed: bool = False) -> None:
        busy = self.is_busy()
        if busy != self._busy:
            self._busy = busy
            self.busy_changed.emit(busy)
