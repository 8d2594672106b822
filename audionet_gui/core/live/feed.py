"""What the live engine has to show, buffered for a display that pulls (Friture's pattern: the audio side writes,
one display timer reads; nothing is pushed across threads per block).

The engine's threads append level readings, spectrogram columns, decisions and events; a display calls ``take()``
on its own timer and gets everything since the last call, merged for one frame. Every buffer is bounded, so a
display that stops pulling (another page shown, a CLI that never reads) costs a fixed amount of memory and the
oldest entries are dropped first.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass
class FeedFrame:
    """Everything new since the previous ``take``: at most one merged level reading, the new columns joined in
    time order (``columns`` (bins, k) dB, ``t0`` stream time of the first one's centre), the decisions and the
    events in the order they happened."""

    level: Any | None = None                 # LevelReading: the loudest of the readings, at the latest time
    columns: np.ndarray | None = None
    t0: float = 0.0
    decisions: list = field(default_factory=list)
    events: list[tuple[str, str]] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.level is not None or self.columns is not None or self.decisions or self.events)


class LiveFeed:
    """Thread-safe bounded buffers between the engine's threads (writers) and one display (reader)."""

    def __init__(self, column_s: float | None = None, max_levels: int = 256, max_column_blocks: int = 512,
                 max_decisions: int = 64, max_events: int = 64):
        self.column_s = column_s  # seconds between columns: blocks that do not follow on are not joined
        self._lock = threading.Lock()
        self._levels: deque = deque(maxlen=max_levels)
        self._columns: deque = deque(maxlen=max_column_blocks)
        self._decisions: deque = deque(maxlen=max_decisions)
        self._events: deque = deque(maxlen=max_events)

    # -- writers (engine threads) ---------------------------------------------------------------------------------
    def put_level(self, reading) -> None:
        with self._lock:
            self._levels.append(reading)

    def put_columns(self, columns: np.ndarray, t0: float) -> None:
        with self._lock:
            self._columns.append((columns, float(t0)))

    def put_decision(self, decision) -> None:
        with self._lock:
            self._decisions.append(decision)

    def put_event(self, kind: str, message: str) -> None:
        with self._lock:
            self._events.append((kind, message))

    # -- reader (the display timer) -------------------------------------------------------------------------------
    def take(self) -> FeedFrame:
        with self._lock:
            levels, blocks = list(self._levels), list(self._columns)
            decisions, events = list(self._decisions), list(self._events)
            self.clear_unlocked()
        frame = FeedFrame(decisions=decisions, events=events)
        if levels:
            last = levels[-1]
            frame.level = type(last)(last.t, max(r.rms_db for r in levels), max(r.peak_db for r in levels),
                                     any(r.clipped for r in levels))
        if blocks:
            blocks = self._last_contiguous(blocks)
            frame.columns = blocks[0][0] if len(blocks) == 1 else np.concatenate([b[0] for b in blocks], axis=1)
            frame.t0 = blocks[0][1]
        return frame

    def _last_contiguous(self, blocks: list) -> list:
        """The newest run of blocks that follow one another (older ones were dropped from a full buffer)."""
        if not self.column_s:
            return blocks
        start = len(blocks) - 1
        while start > 0:
            prev, t0 = blocks[start - 1], blocks[start][1]
            if abs(prev[1] + prev[0].shape[1] * self.column_s - t0) > self.column_s / 2:
                break
            start -= 1
        return blocks[start:]

    def clear(self) -> None:
        with self._lock:
            self.clear_unlocked()

    def clear_unlocked(self) -> None:
        self._levels.clear()
        self._columns.clear()
        self._decisions.clear()
        self._events.clear()
