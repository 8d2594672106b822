"""Load the heavy libraries once, early, off the GUI thread.

Importing TensorFlow/Keras takes about 3 s, and parts of it (loading its shared libraries) hold Python's GIL for
up to a quarter of a second at a time: whichever thread imports it, every other Python thread, the GUI thread
included, waits. The app therefore imports them right after its window appears, before the user starts a job,
so that no job pays that price while the user watches its progress, and then moves everything loaded so far out
of the garbage collector's sight (``gc.freeze``).
"""

from __future__ import annotations

import gc
import os
import time

from audionet_gui.core.base.jobs import CancelToken, Progress, ProgressCallback

HEAVY_MODULES = ("keras", "tensorflow")


def warm_up(modules=HEAVY_MODULES, progress: ProgressCallback | None = None,
            cancel: CancelToken | None = None) -> dict[str, float]:
    """Import ``modules``; returns seconds per module (0 when it was already loaded)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    timings: dict[str, float] = {}
    for i, name in enumerate(modules):
        if cancel is not None:
            cancel.raise_if_cancelled()
        if progress is not None:
            progress(Progress("loading", i, len(modules), name))
        t0 = time.monotonic()
        __import__(name)
        timings[name] = time.monotonic() - t0
    # Python's cyclic garbage collector stops every thread while it walks all objects; after these imports there
    # are millions, and a full collection (triggered by any thread's allocations, e.g. while Keras traces a model)
    # froze the GUI for up to a second. Frozen objects are never walked again.
    gc.collect()
    gc.freeze()
    return timings
