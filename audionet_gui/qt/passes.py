"""Spread a burst of GUI work over passes of the event loop, so timers and paints run between its steps.

A ``QTimer.singleShot(0, ...)`` posted from a slot runs in the same pass of the event loop as that slot (and as
any other posted alongside it): splitting work with several of them does not let the window breathe. Each step
here is posted from the step before, one hop further, so a heartbeat or a paint comes between any two steps.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from PySide6.QtCore import QObject, QTimer


def in_separate_passes(context: QObject, steps: Iterable[Callable[[], object]]) -> None:
    """Run ``steps`` in order, each in a later pass of the event loop than the slot calling this and than the step
    before it. Nothing runs if ``context`` is destroyed first."""
    pending = list(steps)

    def hop(then: Callable[[], None]) -> None:
        QTimer.singleShot(0, context, lambda: QTimer.singleShot(0, context, then))

    def run_next() -> None:
        if pending:
            pending.pop(0)()
            if pending:
                hop(run_next)

    hop(run_next)
