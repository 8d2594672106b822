"""A scrolling live spectrogram (Friture style): columns arrive from the live worker at any rhythm and are
stored in a ring; ``redraw`` shows the last ``span_s`` seconds. On the Live page the worker's one display timer
calls it every frame (``LiveWorker.frame``); used on its own, ``start()`` runs a QTimer of its own at ``fps``.

Columns come in bursts (the pump hands out ~20-30 ms pieces, later under load), so a tick often has nothing new.
The view therefore runs ``LAG_S`` behind the newest column and glides towards it between bursts: every tick moves
the picture, and the right edge never shows time that has not arrived yet.

Given the model's ``SpectrogramConfig`` (``configure(..., spec=...)``) it draws what the model is given: the model's
kind (rows labelled in Hz on its mel or linear scale between its fmin and fmax, or with pitch-class names for
chroma), its colormap, and its levels: ``db_range`` dB below full scale (``ref="absolute"``) or below the loudest
cell of the newest ``window_s`` seconds (``ref="max"``, as each window's CNN image is scaled)."""

from __future__ import annotations

import time

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt, QTimer

from audionet_gui.core.audio.colormaps import colormap_lut
from audionet_gui.core.audio.spectrogram import SpectrogramConfig
from audionet_gui.core.inspect.inspection import display_levels
from audionet_gui.ui.widgets.spectrogram_view import FrequencyAxis

LAG_S = 0.1  # how far the view trails the newest column: more than the usual gap between two bursts
# Without a model's settings: dB re full scale, a quiet room near the bottom, speech well up.
FLOOR_DB, TOP_DB = -90.0, -10.0
DEFAULT_KIND, DEFAULT_COLORMAP = "mel", "magma"
EMPTY_DB = -200.0  # ring slots no column has filled yet: under any real level (columns bottom out near -142 dB)


class ScrollingSpectrogram(pg.PlotWidget):
    def __init__(self, span_s: float = 8.0, fps: int = 30, colormap: str = DEFAULT_COLORMAP, parent=None):
        self.freq_axis = FrequencyAxis("left")
        super().__init__(parent, axisItems={"left": self.freq_axis})
        self.span_s = span_s
        self.plot = self.getPlotItem()
        self.plot.setMenuEnabled(False)
        self.plot.hideButtons()
        self.plot.setMouseEnabled(x=False, y=False)
        self.plot.setLabel("bottom", "time", units="s")
        self.image = pg.ImageItem(axisOrder="row-major")
        self.plot.addItem(self.image)
        self.spec: SpectrogramConfig | None = None  # the model's settings, None: the defaults above
        self.kind = DEFAULT_KIND
        self.colormap = colormap
        self.levels = (FLOOR_DB, TOP_DB)
        self._level_s = 2.0      # ref="max": the loudest cell of this many newest seconds is the top
        self._apply_look()
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

    def configure(self, freqs_hz, column_s: float, spec: SpectrogramConfig | None = None,
                  window_s: float | None = None) -> None:
        """Start afresh for a stream whose columns are ``column_s`` apart with these row frequencies (a pitch-class
        index per row for chroma). ``spec``: the model's spectrogram settings (kind, colormap, ``db_range`` and
        ``ref``), drawn as the model sees them; ``window_s``: the model's window, over which ``ref="max"`` finds
        its top. Without ``spec``: mel rows, magma, -90 to -10 dBFS."""
        freqs = np.asarray(freqs_hz, dtype=float)
        self._col_s = float(column_s)
        self.spec = spec
        self.kind = spec.kind if spec is not None else DEFAULT_KIND
        self.colormap = spec.colormap if spec is not None else self.colormap
        if window_s:
            self._level_s = float(window_s)
        self.levels = display_levels(np.zeros(0), spec) if spec is not None else (FLOOR_DB, TOP_DB)
        self._apply_look()
        capacity = max(2, int(round((self.span_s + 2 * LAG_S) / self._col_s)))
        self._ring = np.full((len(freqs), capacity), EMPTY_DB, dtype=np.float32)
        self._write = 0
        self._end_t = 0.0
        self._appended_at = None
        self._view_end = None
        self.columns_received = 0
        self.freq_axis.set_bins(freqs, self.kind)
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
        if self._ring is None or self._ring.shape[0] != columns.shape[0]:  # not the configured stream's columns
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
            self.levels = self._current_levels(image)
            self.image.setImage(image, autoLevels=False, levels=self.levels)
            self.image.setRect(QRectF(data_end - data_span, 0.0, data_span, image.shape[0]))
        self._view_end = view_end
        self.plot.setXRange(view_end - self.span_s, view_end, padding=0)
        self.frames_drawn += 1

    def _current_levels(self, ordered: np.ndarray) -> tuple[float, float]:
        if self.spec is None:
            return (FLOOR_DB, TOP_DB)
        newest = min(self.columns_received, ordered.shape[1], max(1, int(round(self._level_s / self._col_s))))
        return display_levels(ordered[:, ordered.shape[1] - newest:], self.spec)

    def _apply_look(self) -> None:
        self.image.setLookupTable(colormap_lut(self.colormap))
        self.image.setLevels(self.levels)
        if self.spec is None:
            self.setToolTip("")
            return
        top = "the loudest sound of the last window" if self.spec.ref == "max" else "full scale"
        self.setToolTip(f"The model's spectrogram: {self.spec.kind}, {self.spec.colormap}, "
                        f"{self.spec.db_range:g} dB below {top}")
