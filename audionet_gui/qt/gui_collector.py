"""Python's cyclic garbage collector runs on the GUI thread only.

Python collects cycles in whichever thread happens to allocate when a generation fills up. When that is a job
thread (a scan, a conversion, loading a model) and the garbage holds a Qt object that lives on the GUI thread, Qt
deletes it from the wrong thread and the process can crash (seen in the test suite: a segfault while
"Garbage-collecting" in a job thread). pyqtgraph's ``GarbageCollector`` is the known remedy: automatic collection
off, the same generation thresholds checked from a GUI timer. Reference counting still frees everything that is
not in a cycle at once; only cycles wait for the timer.

Child processes are not affected: job children and conversion workers start fresh interpreters (forkserver,
spawn), with the collector on.
"""

from __future__ import annotations

import gc

from pyqtgraph.util.garbage_collector import GarbageCollector

INTERVAL_S = 0.5

_collector: GarbageCollector | None = None


def collect_on_gui_thread(interval_s: float = INTERVAL_S) -> GarbageCollector:
    """Turn automatic collection off and collect from a timer of the calling (GUI) thread; call it once the
    QApplication exists. Calling it again keeps the running collector."""
    global _collector
    if _collector is None:
        _collector = GarbageCollector(interval=interval_s)
    return _collector


def collect_anywhere() -> None:
    """Undo ``collect_on_gui_thread``: automatic collection on again (what waits goes at its next threshold; a
    full collection here would cost a test suite a fraction of a second per Qt test)."""
    global _collector
    if _collector is None:
        return
    _collector.timer.stop()
    _collector = None
    gc.enable()
