"""The waveform above the spectrogram: a min/max envelope at screen resolution, refreshed after zoom/pan
(``WaveformEnvelope.view``), so an hour draws as fast as a second. Shares the time axis with the
spectrogram and shows the same window region and playhead."""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt, QTimer, Signal

from audionet_gui.core.inspect.overview import WaveformEnvelope
from audionet_gui.ui.widgets.spectrogram_view import TimeOverlays, playhead_line, window_region

WAVE_PEN = pg.mkPen("#4aa3df", width=1)


class WaveformView(TimeOverlays, pg.PlotWidget):
    hovered = Signal(object)   # time (s) under the cursor, or None
    clicked = Signal(float)    # time (s) of a left click

    def __init__(self, parent=None):
        super().__init__(parent)
        self.plot = self.getPlotItem()
        self.plot.setLabel("left", "Amplitude")
        self.plot.getAxis("left").enableAutoSIPrefix(False)
        self.plot.setMenuEnabled(False)
        self.plot.hideButtons()
        self.plot.showAxis("bottom", False)  # the spectrogram below carries the time axis
        self.plot.vb.setMouseEnabled(x=True, y=False)
        self.plot.showAxis("right")  # an empty spacer: see match_plot_area
        self.plot.getAxis("right").setStyle(showValues=False, tickLength=0)
        self.plot.getAxis("right").setPen(pg.mkPen(None))
        self.plot.getAxis("right").setWidth(0)
        self.plot.setYRange(-1.0, 1.0, padding=0.02)
        self.curve = pg.PlotDataItem(pen=WAVE_PEN)
        self.plot.addItem(self.curve)
        self.region = window_region()
        self.plot.addItem(self.region)
        self.playhead = playhead_line()
        self.plot.addItem(self.playhead)
        self.envelope: WaveformEnvelope | None = None
        self._timer = QTimer(self, singleShot=True, interval=40)
        self._timer.timeout.connect(self.refresh)
        self.plot.vb.sigXRangeChanged.connect(lambda *_: self._timer.start())
        self.scene().sigMouseMoved.connect(self._on_mouse_moved)
        self.scene().sigMouseClicked.connect(self._on_mouse_clicked)

    def set_envelope(self, envelope: WaveformEnvelope) -> None:
        self.envelope = envelope
        self.plot.vb.setLimits(xMin=0.0, xMax=envelope.duration_s)
        top = max(envelope.peak, 0.01) * 1.05  # quiet recordings still fill the view, as in Audacity's zoom
        self.plot.setYRange(-top, top, padding=0)
        self.refresh()

    def clear_data(self) -> None:
        self.envelope = None
        self.curve.setData([], [])
        self.region.hide()
        self.playhead.hide()

    def refresh(self) -> None:
        if self.envelope is None:
            return
        x0, x1 = self.plot.vb.viewRange()[0]
        width_px = max(200, int(self.plot.vb.width() * self.devicePixelRatioF()))
        view = self.envelope.view(x0, x1, max_points=width_px)
        self.curve.setData(view.x, view.y)

    def match_plot_area(self, left: float, right: float) -> None:
        """Make the plot area span scene x ``left``..``right`` (the spectrogram's, whose colour bar makes it
        narrower), so the two time axes line up exactly."""
        rect = self.plot.vb.sceneBoundingRect()
        left_axis, right_axis = self.plot.getAxis("left"), self.plot.getAxis("right")
        grow_left, grow_right = left - rect.left(), rect.right() - right
        if abs(grow_left) >= 0.5:
            left_axis.setWidth(max(0, int(round(left_axis.width() + grow_left))))
        if abs(grow_right) >= 0.5:
            right_axis.setWidth(max(0, int(round(right_axis.width() + grow_right))))

    def _on_mouse_moved(self, scene_pos: QPointF) -> None:
        self.last_pos = self.mapFromScene(scene_pos)  # where a readout next to the cursor goes
        if self.envelope is None or not self.plot.vb.sceneBoundingRect().contains(scene_pos):
            self.hovered.emit(None)
            return
        self.hovered.emit(float(self.plot.vb.mapSceneToView(scene_pos).x()))

    def _on_mouse_clicked(self, event) -> None:
        if event.button() != Qt.LeftButton or self.envelope is None:
            return
        if self.plot.vb.sceneBoundingRect().contains(event.scenePos()):
            self.clicked.emit(float(self.plot.vb.mapSceneToView(event.scenePos()).x()))
