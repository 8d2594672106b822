"""The full-file spectrogram: a pyqtgraph image with time (s) and frequency (Hz) axes, colormap, zoom/pan,
a hover readout, the selected window as a region and a playhead.

The image lives in (seconds, bin rows) coordinates, bin i spanning rows i..i+1, so a mel axis is drawn as
evenly spaced bands and labelled in Hz where each frequency really is. What is drawn is a screen-sized tile
of the visible range (``SpectrogramOverview.tile``), refreshed after zoom or pan, so an hour-long file
draws as fast as a short one. Values, ticks and readouts come from ``core.inspection``.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt, QTimer, Signal

from audionet_gui.core.audio.colormaps import colormap_lut
from audionet_gui.core.inspect.inspection import (
    Readout,
    SpectrogramDisplay,
    display_levels,
    frequency_ticks,
    value_at_row,
)

PLAYHEAD_PEN = pg.mkPen("#ff3030", width=2)
# an orange that stands out on white, dark and on every colormap
WINDOW_BRUSH = pg.mkBrush(255, 160, 0, 45)
WINDOW_PEN = pg.mkPen(255, 140, 0, 230, width=2)
CROSSHAIR_PEN = pg.mkPen(255, 255, 255, 110, width=1, style=Qt.DashLine)


def window_region(brush=WINDOW_BRUSH) -> pg.LinearRegionItem:
    """The selected window drawn on both views: a light band with bright edges that cannot be dragged."""
    region = pg.LinearRegionItem(movable=False, brush=brush, pen=WINDOW_PEN)
    region.setZValue(10)
    region.hide()
    return region


def playhead_line() -> pg.InfiniteLine:
    line = pg.InfiniteLine(angle=90, movable=False, pen=PLAYHEAD_PEN)
    line.setZValue(20)
    line.hide()
    return line


class TimeOverlays:
    """The selected window, the playhead and the hover readout's end, shared by the waveform and spectrogram views
    (which own ``self.region`` from ``window_region()``, ``self.playhead`` from ``playhead_line()`` and a
    ``hovered`` signal)."""

    region: pg.LinearRegionItem
    playhead: pg.InfiniteLine

    def set_window(self, start_s: float | None, end_s: float | None) -> None:
        if start_s is None:
            self.region.hide()
            return
        self.region.setRegion((start_s, end_s))
        self.region.show()

    def set_playhead(self, time_s: float | None) -> None:
        if time_s is None:
            self.playhead.hide()
            return
        self.playhead.setValue(time_s)
        self.playhead.show()

    def leaveEvent(self, event) -> None:  # the readout goes when the mouse leaves, not only off the image
        super().leaveEvent(event)
        for line in getattr(self, "crosshair", ()):
            line.hide()
        self.hovered.emit(None)


class FrequencyAxis(pg.AxisItem):
    """Left axis of a spectrogram in bin rows, labelled in Hz (or pitch classes for chroma)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._freqs: np.ndarray | None = None
        self._kind = "mel"
        self._labels: dict[float, str] = {}

    def set_bins(self, freqs_hz: np.ndarray, kind: str) -> None:
        self._freqs, self._kind = np.asarray(freqs_hz), kind
        self.setLabel("Pitch class" if kind == "chroma" else "Frequency", units=None if kind == "chroma" else "Hz")
        self.picture = None
        self.update()

    def tickValues(self, minVal, maxVal, size):
        if self._freqs is None or len(self._freqs) == 0:
            return super().tickValues(minVal, maxVal, size)
        ticks = frequency_ticks(self._freqs, self._kind, minVal, maxVal, max_ticks=max(2, int(size / 35)))
        self._labels = {round(y, 6): label for y, label in ticks}
        return [(1.0, [y for y, _ in ticks])]

    def tickStrings(self, values, scale, spacing):
        if self._freqs is None:
            return super().tickStrings(values, scale, spacing)
        return [self._labels.get(round(v, 6), "") for v in values]


CLOCK_STEPS = (0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 18000, 36000)


def clock_text(seconds: float, spacing: float) -> str:
    """m:ss or h:mm:ss, with tenths when ticks are closer than a second."""
    sign = "-" if seconds < 0 else ""
    decimals = 1 if spacing < 1 else 0
    tenths = int(round(abs(seconds) * 10))  # round once, then split, so 59.96 s becomes 1:00.0
    whole, fraction = divmod(tenths, 10)
    h, m, sec = whole // 3600, whole // 60 % 60, whole % 60
    sec_text = f"{sec:02d}.{fraction}" if decimals else f"{sec:02d}"
    return f"{sign}{h}:{m:02d}:{sec_text}" if h else f"{sign}{m}:{sec_text}"


class TimeAxis(pg.AxisItem):
    """Seconds for short clips; m:ss or h:mm:ss once a file lasts minutes, as audio editors show it."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.enableAutoSIPrefix(False)
        self.clock = False

    def set_clock(self, clock: bool) -> None:
        self.clock = clock
        self.setLabel("Time (h:mm:ss)" if clock else "Time (s)")
        self.picture = None
        self.update()

    def tickSpacing(self, minVal, maxVal, size):
        if not self.clock:
            return super().tickSpacing(minVal, maxVal, size)
        span, most = maxVal - minVal, max(2.0, size / 90)  # a label needs about 90 px
        step = next((s for s in CLOCK_STEPS if span / s <= most), CLOCK_STEPS[-1])
        return [(step, 0)]

    def tickStrings(self, values, scale, spacing):
        if not self.clock:
            return super().tickStrings(values, scale, spacing)
        return [clock_text(v, spacing) for v in values]


class SpectrogramView(TimeOverlays, pg.PlotWidget):
    hovered = Signal(object)   # Readout, or None when the cursor leaves the image
    clicked = Signal(float)    # time (s) of a left click

    def __init__(self, parent=None):
        self.freq_axis = FrequencyAxis("left")
        self.time_axis = TimeAxis("bottom")
        super().__init__(parent, axisItems={"left": self.freq_axis, "bottom": self.time_axis})
        self.plot = self.getPlotItem()
        self.time_axis.set_clock(False)
        self.plot.setMenuEnabled(False)
        self.plot.hideButtons()
        self.image = pg.ImageItem(axisOrder="row-major")
        self.plot.addItem(self.image)
        self.colorbar = pg.ColorBarItem(values=(-80.0, 0.0), width=14, label="Level (dB)", interactive=False)
        self.colorbar.setImageItem(self.image, insert_in=self.plot)
        self.region = window_region(pg.mkBrush(255, 160, 0, 18))  # faint: the colours stay readable
        self.plot.addItem(self.region)
        self.playhead = playhead_line()
        self.plot.addItem(self.playhead)
        self.crosshair = [pg.InfiniteLine(angle=a, movable=False, pen=CROSSHAIR_PEN) for a in (90, 0)]
        for line in self.crosshair:
            line.setZValue(15)
            line.hide()
            self.plot.addItem(line, ignoreBounds=True)
        self.display: SpectrogramDisplay | None = None
        self.duration_s = 0.0
        self._levels = (-80.0, 0.0)
        self._tile_timer = QTimer(self, singleShot=True, interval=40)
        self._tile_timer.timeout.connect(self.refresh_tile)
        self.plot.vb.sigXRangeChanged.connect(lambda *_: self._tile_timer.start())
        self.scene().sigMouseMoved.connect(self._on_mouse_moved)
        self.scene().sigMouseClicked.connect(self._on_mouse_clicked)

    # -- data ---------------------------------------------------------------------------------------------------
    def set_display(self, display: SpectrogramDisplay, duration_s: float, keep_range: bool = False) -> None:
        """Show a (new) spectrogram; ``keep_range`` keeps the zoomed time range (parameter changes)."""
        self.display, self.duration_s = display, duration_s
        spec = display.spectrogram
        n_bins = spec.values_db.shape[0]
        self.freq_axis.set_bins(spec.freqs_hz, spec.kind)
        self.time_axis.set_clock(duration_s >= 120)
        self.set_colormap(display.config.colormap)
        self.set_levels(*display_levels(spec.values_db, display.config))
        end = max(duration_s, display.overview.end_s)
        self.plot.vb.setLimits(xMin=min(0.0, display.overview.origin_s), xMax=end, yMin=0, yMax=n_bins,
                               minXRange=display.frame_s * 4, minYRange=min(4, n_bins))
        if keep_range:
            x0, x1 = self.plot.vb.viewRange()[0]
            self.plot.vb.setRange(xRange=(x0, x1), yRange=(0, n_bins), padding=0)
        else:
            self.plot.vb.setRange(xRange=(0, duration_s), yRange=(0, n_bins), padding=0)
        self.refresh_tile()

    def clear_data(self) -> None:
        self.display = None
        self.image.clear()
        self.region.hide()
        self.playhead.hide()

    def set_colormap(self, name: str) -> None:
        lut = colormap_lut(name)
        self.colorbar.setColorMap(pg.ColorMap(np.linspace(0.0, 1.0, len(lut)), lut, name=name))

    def set_levels(self, low_db: float, high_db: float) -> None:
        self._levels = (low_db, high_db)
        self.colorbar.setLevels(self._levels)  # the bar passes them on to the image

    def refresh_tile(self) -> None:
        """Redraw the visible time range at about one column per screen pixel."""
        if self.display is None:
            return
        x0, x1 = self.plot.vb.viewRange()[0]
        width_px = max(200, int(self.plot.vb.width() * self.devicePixelRatioF()))
        tile = self.display.overview.tile(x0, x1, max_columns=width_px)
        n_bins = tile.values_db.shape[0]
        self.image.setImage(tile.values_db, autoLevels=False, levels=self._levels)
        self.image.setRect(QRectF(tile.t0, 0.0, tile.t1 - tile.t0, n_bins))

    # -- overlays ------------------------------------------------------------------------------------------------
    def visible_time_range(self) -> tuple[float, float]:
        x0, x1 = self.plot.vb.viewRange()[0]
        return float(x0), float(x1)

    # -- mouse -----------------------------------------------------------------------------------------------------
    def readout_at(self, time_s: float, row: float) -> Readout | None:
        if self.display is None:
            return None
        return value_at_row(self.display.spectrogram, self.display.frame_s, time_s, row)

    def _on_mouse_moved(self, scene_pos: QPointF) -> None:
        self.last_pos = self.mapFromScene(scene_pos)  # where a readout next to the cursor goes
        if self.display is None or not self.plot.vb.sceneBoundingRect().contains(scene_pos):
            for line in self.crosshair:
                line.hide()
            self.hovered.emit(None)
            return
        point = self.plot.vb.mapSceneToView(scene_pos)
        self.show_crosshair(point.x(), point.y())
        self.hovered.emit(self.readout_at(point.x(), point.y()))

    def show_crosshair(self, time_s: float, row: float) -> None:
        self.crosshair[0].setValue(time_s)
        self.crosshair[1].setValue(row)
        for line in self.crosshair:
            line.show()

    def _on_mouse_clicked(self, event) -> None:
        if event.button() != Qt.LeftButton or self.display is None:
            return
        if not self.plot.vb.sceneBoundingRect().contains(event.scenePos()):
            return
        self.clicked.emit(float(self.plot.vb.mapSceneToView(event.scenePos()).x()))
