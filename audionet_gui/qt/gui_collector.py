"""Python's cyclic garbage collector runs on the GUI thread only.

Python collects cycles in whichever thread happens to allocate when a generation fills up. When that is a job
thread (a scan, a conversion, loading a model) and the garbage holds a Qt object that lives on the GUI thread, Qt
deletes it from the wrong thread and the process can crash (seen in the test suite: a segfault while
"Garbage-collecting" in a job thread). The known remedy (pyqtgraph's ``util.garbage_collector``): automatic
collection off, the generations checked from a GUI timer. Reference counting still frees everything that is not in
a cycle at once; only cycles wait for the timer.

Own code rather than pyqtgraph's class: that one collects the oldest generation every tenth time the middle one
is, which CPython itself avoids (it waits until the objects that reached the oldest generation since its last
collection are a quarter of those in it). With TensorFlow loaded a full collection walks millions of objects:
0.6 s of the GUI thread's CPU, a 1.9 s stall on a busy machine (the stall test caught it). This follows CPython's
rule, so full collections stay as rare as they were.

Child processes are not affected: job children and conversion workers start fresh interpreters (forkserver,
spawn), with the collector on.
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QTimer

INTERVAL_S = 0.5
FULL_COLLECTION_SHARE = 0.25  # CPython's: new long-lived objects against those already in the oldest generation


class GuiThreadCollector:
    """Collects on a timer of the thread that made it, with CPython's thresholds and its rule for the oldest
    generation."""

    def __init__(self, interval_s: float = INTERVAL_S):
        self.threshold = gc.get_threshold()
        self.long_lived_total: int | None = None  # counted when first needed: a walk over every old object
        self.long_lived_pending = 0
        gc.disable()
        self.timer = QTimer()
        self.timer.timeout.connect(self.check)
        self.timer.start(int(interval_s * 1000))

    def check(self) -> None:
        young, middle, old = gc.get_count()
        if young <= self.threshold[0]:
            return
        if middle <= self.threshold[1]:
            gc.collect(0)
            return
        if old > self.threshold[2]:
            if self.long_lived_total is None:
                self.long_lived_total = len(gc.get_objects(generation=2))
            if self.long_lived_pending > self.long_lived_total * FULL_COLLECTION_SHARE:
                gc.collect(2)
                self.long_lived_total = len(gc.get_objects(generation=2))
                self.long_lived_pending = 0
                return
        # what survives this collection moves to the oldest generation: at most what the two young ones hold
        moving = len(gc.get_objects(generation=0)) + len(gc.get_objects(generation=1))
        gc.collect(1)
        self.long_lived_pending += moving

    def stop(self) -> None:
        self.timer.stop()


_collector: GuiThreadCollector | None = None


def collect_on_gui_thread(interval_s: float = INTERVAL_S) -> GuiThreadCollector:
    """Turn automatic collection off and collect from a timer of the calling (GUI) thread; call it once the
    QApplication exists. Calling it again keeps the running collector."""
    global _collector
    if _collector is None:
        _collector = GuiThreadCollector(interval_s)
    return _collector


def collect_anywhere() -> None:
    """Undo ``collect_on_gui_thread``: automatic collection on again (what waits goes at its next threshold; a
    full collection here would cost a test suite a fraction of a second per Qt test)."""
    global _collector
    if _collector is None:
        return
    _collector.stop()
    _collector = None
    gc.enable()
