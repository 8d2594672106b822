"""A scrolling live spectrogram (Friture style): columns arrive from the live worker at any rhythm and are
stored in a ring; a QTimer of its own redraws the last ``span_s`` seconds at ``fps`` frames a second."""

from __future__ import annotations

from typing import Optional

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, QTimer

from ..core.colormaps import colormap_lut
from .spectrogram_view import FrequencyAxis

FLOOR_DB, TOP_DB = -90.0, -10.0  # dB re full scale: a quiet room sits near the bottom, speech well up


class ScrollingSpectrogram(pg.PlotWidget):
    def __init__(self, span_s: float = 8.0, fps: int = 30, colormap: str = "magma", parent=None):
        self.freq_axis = FrequencyAxis("left")
        super().__init__(parent, axisItems={"left": self.freq_axis})
        self.span_s = span_s
        self.plot = self.getPlotItem()
        self.plot.setMenuEnabled(False)
        self.plot.hideButtons()
        self.plot.setMouseEnabled(x=False, y=False)
        self.plot.setLabel("bottom", "time", units="s")
        self.image = pg.ImageItem(axisOrder="row-major")
        lut = colormap_lut(colormap)
        self.image.setLookupTable(lut)
        self.image.setLevels((FLOOR_DB, TOP_DB))
        self.plot.addItem(self.image)
        self.frames_drawn = 0
        self.columns_received = 0
        self._ring: Optional[np.ndarray] = None  # (bins, capacity) dB
        self._write = 0          # next ring slot
        self._end_t = 0.0        # stream time just after the newest column
        self._col_s = 0.01
        self._dirty = False
        self.timer = QTimer(self)
        self.timer.setInterval(int(1000 / fps))
        self.timer.timeout.connect(self.redraw)

    def configure(self, freqs_hz, column_s: float) -> None:
        """Start afresh for a stream whose columns are ``column_s`` apart with these row frequencies."""
        freqs = np.asarray(freqs_hz, dtype=float)
        self._col_s = float(column_s)
        capacity = max(2, int(round(self.span_s / self._col_s)))
        self._ring = np.full((len(freqs), capacity), FLOOR_DB, dtype=np.float32)
        self._write = 0
        self._end_t = 0.0
        self.columns_received = 0
        self.freq_axis.set_bins(freqs, "mel")
        self.plot.setYRange(0, len(freqs), padding=0)
        self._dirty = True
        self.redraw()

    def start(self) -> None:
        self.timer.start()

    def stop(self) -> None:
        self.timer.stop()

    def append_columns(self, columns: np.ndarray, t0: float) -> None:
        """Store new columns (bins, k); no drawing here (the timer draws), so a burst of calls costs little."""
        columns = np.asarray(columns, dtype=np.float32)
        if columns.ndim != 2 or columns.shape[1] == 0:
            return
        if self._ring is None or self._ring.shape[0] != columns.shape[0]:
            self.configure(np.arange(columns.shape[0], dtype=float), self._col_s)
        cap = self._ring.shape[1]
        k = columns.shape[1]
        if k >= cap:
            columns, k = columns[:, -cap:], cap
        idx = (self._write + np.arange(k)) % cap
        self._ring[:, idx] = columns
        self._write = int((self._write + k) % cap)
        self._end_t = float(t0) + k * self._col_s - self._col_s / 2
        self.columns_received += k
        self._dirty = True

    def ordered(self) -> np.ndarray:
        """The ring oldest column first (what is drawn)."""
        if self._ring is None:
            return np.zeros((0, 0), dtype=np.float32)
        return np.roll(self._ring, -self._write, axis=1)

    def redraw(self) -> None:
        if not self._dirty or self._ring is None or not self.isVisible():
            return  # nothing new, or another page is shown: no drawing cost on a busy machine
        self._dirty = False
        image = self.ordered()
        span = image.shape[1] * self._col_s
        end = max(self._end_t, span)  # before the ring fills, keep time 0 at the left edge
        self.image.setImage(image, autoLevels=False)
        self.image.setRect(QRectF(end - span, 0.0, span, image.shape[0]))
        self.plot.setXRange(end - span, end, padding=0)
        self.frames_drawn += 1
