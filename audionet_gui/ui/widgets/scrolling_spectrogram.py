"""A scrolling live spectrogram (Friture style): columns arrive from the live worker at any rhythm and are
stored in a ring; ``redraw`` shows the last ``span_s`` seconds. On the Live page the worker's one display timer
calls it every frame (``LiveWorker.frame``); used on its own, ``start()`` runs a QTimer of its own at ``fps``.

Columns come in bursts (the pump hands out ~20-30 ms pieces, later under load), so a tick often has nothing new.
The view therefore runs ``LAG_S`` behind the newest column and glides towards it between bursts: every tick moves
the picture, and the right edge never shows time that has not arrived yet."""

from __future__ import annotations

import time

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt, QTimer

from audionet_gui.core.audio.colormaps import colormap_lut
from audionet_gui.ui.widgets.spectrogram_view import FrequencyAxis

LAG_S = 0.1  # how far the view trails the newest column: more than the usual gap between two bursts
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
        self._ring: np.ndarray | None = None  # (bins, capacity) dB
        self._write = 0          # next ring slot
        self._end_t = 0.0        # stream time just after the newest column
        self._appended_at: float | None = None  # monotonic time of the last append
        self._view_end: float | None = None
        self._col_s = 0.01
        self._dirty = False
        self.timer = QTimer(self)
        self.timer.setTimerType(Qt.PreciseTimer)  # a coarse timer may fire up to 5 % late: fewer frames
        self.timer.setInterval(int(1000 / fps))
        self.timer.timeout.connect(self.redraw)
        # before any stream: an empty span of the right length, no frequency numbers without frequencies
        self.plot.setXRange(-span_s, 0, padding=0)
        self.plot.setYRange(0, 1, padding=0)
        self.freq_axis.setStyle(showValues=False)

    def configure(self, freqs_hz, column_s: float) -> None:
        """Start afresh for a stream whose columns are ``column_s`` apart with these row frequencies."""
        freqs = np.asarray(freqs_hz, dtype=float)
        self._col_s = float(column_s)
        capacity = max(2, int(round((self.span_s + 2 * LAG_S) / self._col_s)))
        self._ring = np.full((len(freqs), capacity), FLOOR_DB, dtype=np.float32)
        self._write = 0
        self._end_t = 0.0
        self._appended_at = None
        self._view_end = None
        self.columns_received = 0
        self.freq_axis.set_bins(freqs, "mel")
        self.freq_axis.setStyle(showValues=True)
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
        if k > cap:  # more than the ring holds: keep the newest, whose first column is later
            t0 = float(t0) + (k - cap) * self._col_s
            columns, k = columns[:, -cap:], cap
        idx = (self._write + np.arange(k)) % cap
        self._ring[:, idx] = columns
        self._write = int((self._write + k) % cap)
        self._end_t = float(t0) + k * self._col_s - self._col_s / 2
        self.columns_received += k
        self._appended_at = time.monotonic()
        self._dirty = True

    def ordered(self) -> np.ndarray:
        """The ring oldest column first (what is drawn)."""
        if self._ring is None:
            return np.zeros((0, 0), dtype=np.float32)
        return np.roll(self._ring, -self._write, axis=1)

    def redraw(self) -> None:
        if self._ring is None or not self.isVisible():
            return  # another page is shown: no drawing cost on a busy machine
        glide = 0.0 if self._appended_at is None else min(time.monotonic() - self._appended_at, LAG_S)
        data_span = self._ring.shape[1] * self._col_s
        data_end = max(self._end_t, data_span)  # before the ring fills, keep time 0 at the left edge
        view_end = max(data_end - LAG_S + glide, self.span_s)
        if not self._dirty and view_end == self._view_end:
            return  # nothing new and the view has caught up: hold still
        if self._dirty:
            self._dirty = False
            image = self.ordered()
            self.image.setImage(image, autoLevels=False)
            self.image.setRect(QRectF(data_end - data_span, 0.0, data_span, image.shape[0]))
        self._view_end = view_end
        self.plot.setXRange(view_end - self.span_s, view_end, padding=0)
        self.frames_drawn += 1
