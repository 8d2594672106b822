"""The Feature map page: every window the model was trained and tested on as a point in 2-D (PCA + t-SNE of its
features, core/model/featmap.py), coloured by class. A cross marks a window the model names wrongly, a ring a
window of a file that sounds like another class (the doctor's label judge). Hover a point for its file and time;
click it to open that window on the Inspect page and hear it.

It follows the state (the model) and shows what it is given: the feature map controller runs the job when the
page is shown for a model it has no map of.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QVBoxLayout, QWidget

from audionet_gui.core.base.jobs import Progress
from audionet_gui.core.base.words import count
from audionet_gui.ui.theme import muted_text_style, plot_colors, series_color
from audionet_gui.ui.widgets.job_bar import stage_title

POINT_SIZE = 9
WRONG_COLOR = "#d62728"
SUSPECT_COLOR = "#f28e00"
SPLIT_WORDS = {"train": "training", "val": "validation", "test": "test"}
NO_MODEL = "Train a model (or open one): this page then shows every window it learned from as a point."


def point_text(fmap, i: int) -> str:
    """What a hovered point is: file, time, class, and the model's answer when it differs."""
    label, said = fmap.labels[int(fmap.classes[i])], fmap.labels[int(fmap.predicted[i])]
    text = (f"{Path(fmap.files[i]).name}  {fmap.starts[i]:.2f}–{fmap.ends[i]:.2f} s\n"
            f"class {label} ({SPLIT_WORDS.get(fmap.splits[i], fmap.splits[i])})")
    if said != label:
        text += f", heard as {said} (p = {float(fmap.p[i]):.2f})"
    if fmap.suspect[i]:
        text += "\nthe file sounds like another class"
    return text


class FeatureMapPanel(QWidget):
    map_requested = Signal(bool)           # a map of the current model is wanted (True: compute it again)
    cancel_requested = Signal()
    window_requested = Signal(str, float)  # open this window (file, start) in Inspect and play it
    hovered = Signal(str)                  # the hovered point's text ("" when none)

    def __init__(self, parent: QWidget | None = None, state=None):
        super().__init__(parent)
        self.state = state
        self.fmap = None
        self._scatters: list[pg.ScatterPlotItem] = []
        self._running = False
        self._hover: dict[int, str] = {}

        self.title = QLabel("<b>Feature map</b>")
        self.status = QLabel(NO_MODEL, wordWrap=True, styleSheet=muted_text_style())
        self.bar = QProgressBar(textVisible=False, maximumHeight=14)
        self.cancel = QPushButton("Cancel")
        self.cancel.clicked.connect(self.cancel_requested)
        self.again = QPushButton("Map again")
        self.again.setToolTip("Compute the map again (it is kept from the last time otherwise)")
        self.again.clicked.connect(lambda: self.map_requested.emit(True))
        top = QHBoxLayout()
        top.addWidget(self.title)
        top.addWidget(self.bar, 2)
        top.addWidget(self.cancel)
        top.addStretch(1)
        top.addWidget(self.again)

        background, foreground = plot_colors()
        self.plot = pg.PlotWidget(background=background)
        self.plot.setAspectLocked(True)
        self.plot.hideAxis("left")
        self.plot.hideAxis("bottom")
        self.plot.setMenuEnabled(False)
        self.legend = self.plot.addLegend(offset=(10, 10), labelTextColor=foreground)
        self.readout = QLabel(" ", styleSheet=muted_text_style())
        hint = QLabel("Each point is one window (1 image the network saw), placed so that windows with similar "
                      "features lie close (t-SNE). \u00d7 = the model names it wrongly, ring = its file sounds like "
                      "another class. Hover for file and time; click to open the window in Inspect and hear it. "
                      "Scroll to zoom, drag to pan.", wordWrap=True, styleSheet=muted_text_style())

        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.status)
        layout.addWidget(self.plot, 1)
        layout.addWidget(self.readout)
        layout.addWidget(hint)
        self.set_running(False)
        if state is not None:
            state.project_changed.connect(self.clear)
            state.model_changed.connect(self._on_model_changed)
            self._on_model_changed(state.model)

    # -- showing ----------------------------------------------------------------------------------------------------
    def clear(self, *_args) -> None:
        self.fmap = None
        for item in self._scatters:
            self.plot.removeItem(item)
        self._scatters = []
        self._hover = {}
        self.legend.clear()
        self.readout.setText(" ")
        model = self.state.model if self.state is not None else None
        self.status.setText(NO_MODEL if model is None else
                            f"Model {model.name}: its map is made when this page is shown.")
        self.again.setEnabled(model is not None)

    def set_running(self, running: bool) -> None:
        self._running = running
        self.bar.setVisible(running)
        self.cancel.setVisible(running)
        if running:
            self.bar.setRange(0, 0)
            self.status.setText("Placing the windows…")

    def show_progress(self, p: Progress) -> None:
        if p.total:
            self.bar.setRange(0, p.total)
            self.bar.setValue(min(p.done, p.total))
        self.status.setText(f"{stage_title(p.stage)}: {p.message or f'{p.done}/{p.total}'}")

    def show_message(self, text: str) -> None:
        self.status.setText(text)

    def set_map(self, fmap) -> None:
        """Draw ``fmap`` (a core ``FeatureMap``): one scatter per class, then the crosses and rings."""
        self.clear()
        self.fmap = fmap
        if not len(fmap):
            self.status.setText("The model's workspace has no windows to show.")
            return
        xy = np.asarray(fmap.xy, np.float64)
        tip = self._tip
        for c, name in enumerate(fmap.labels):
            idx = np.flatnonzero(np.asarray(fmap.classes) == c)
            if not len(idx):
                continue
            color = series_color(c)
            item = pg.ScatterPlotItem(x=xy[idx, 0], y=xy[idx, 1], data=idx, size=POINT_SIZE, symbol="o",
                                      brush=pg.mkBrush(color), pen=pg.mkPen(color), hoverable=True, tip=tip,
                                      hoverSize=POINT_SIZE + 4, name=f"{name} ({len(idx)})")
            item.sigClicked.connect(self._on_clicked)
            item.sigHovered.connect(self._on_hovered)
            self._add(item)
        wrong = np.flatnonzero(fmap.misclassified)
        suspect = np.flatnonzero(fmap.suspect)
        if len(suspect):
            self._add(self._marks(xy, suspect, "o", SUSPECT_COLOR, POINT_SIZE + 8, "its file sounds like another "
                                  f"class ({count(len(suspect), 'window')})", width=2))
        if len(wrong):
            self._add(self._marks(xy, wrong, "x", WRONG_COLOR, POINT_SIZE + 3,
                                  f"named wrongly ({count(len(wrong), 'window')})"))
        files = len(set(fmap.files))
        cached = ""
        if fmap.cached:
            cached = (" (made when the model was trained)" if fmap.made_by == "training" else
                      " (kept from the last time)")
        self.status.setText(f"{count(len(fmap), 'window')} of {count(files, 'file')}, {count(len(wrong), 'window')} "
                            f"named wrongly, {count(len(fmap.suspects), 'file')} that may be in the wrong class"
                            f"{cached}.")
        self.plot.autoRange()

    def _marks(self, xy, idx, symbol: str, color: str, size: int, name: str, width: float = 1.5):
        item = pg.ScatterPlotItem(x=xy[idx, 0], y=xy[idx, 1], data=idx, size=size, symbol=symbol, brush=None,
                                  pen=pg.mkPen(color, width=width), name=name)
        item.sigClicked.connect(self._on_clicked)  # a click on a mark is a click on the point under it
        return item

    def _add(self, item) -> None:
        self.plot.addItem(item)
        self._scatters.append(item)

    def _tip(self, x, y, data) -> str:
        return point_text(self.fmap, int(data)) if self.fmap is not None else ""

    # -- requests ---------------------------------------------------------------------------------------------------
    def point_at(self, i: int) -> tuple[str, float]:
        return self.fmap.files[i], float(self.fmap.starts[i])

    def open_point(self, i: int) -> None:
        """Open point ``i``'s window in Inspect and play it (what a click does)."""
        if self.fmap is not None and 0 <= i < len(self.fmap):
            self.window_requested.emit(*self.point_at(i))

    def _on_clicked(self, _item, points, _ev=None) -> None:
        if len(points):
            self.open_point(int(points[0].data()))

    def _on_hovered(self, item, points, _ev=None) -> None:
        # each class is its own scatter: leaving one while entering another can arrive in either order
        text = point_text(self.fmap, int(points[0].data())) if len(points) and self.fmap is not None else ""
        self._hover[id(item)] = text
        shown = next((t for t in self._hover.values() if t), "")
        self.readout.setText(shown.replace("\n", " · ") or " ")
        self.hovered.emit(shown)

    def _on_model_changed(self, model) -> None:
        self.clear()
        if model is not None and self.isVisible():
            self.map_requested.emit(False)

    def showEvent(self, event) -> None:
        super().showEvent(event)
        model = self.state.model if self.state is not None else None
        if model is not None and not self._running and (self.fmap is None or self.fmap.model != model.path):
            self.map_requested.emit(False)
