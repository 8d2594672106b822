"""Who spoke when as lanes: one row per enrolled speaker and per unknown voice (``unknown-1``, ``unknown-2`` ...),
a coloured bar for each turn; under them, Export (JSON, CSV, Audacity labels, RTTM, SRT) and "Name this voice…"
for an unknown voice. It shows and asks: the owner of the timeline writes the export and enrols the voice."""

from __future__ import annotations

from collections.abc import Sequence

import pyqtgraph as pg
from PySide6.QtCore import Signal
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QMenu,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from audionet_gui.core.answers import is_unknown_voice
from audionet_gui.core.base.words import count
from audionet_gui.core.timeline_formats import EXTENSIONS, FORMATS
from audionet_gui.ui.theme import muted_text_style, plot_colors, series_color

FORMAT_NAMES = {"json": "JSON", "csv": "CSV (spreadsheet)", "audacity": "Audacity labels", "rttm": "RTTM",
                "srt": "SRT subtitles"}
UNKNOWN_COLORS = ("#8d8d8d", "#6f6f6f", "#a8a8a8", "#5a5a5a", "#bdbdbd")


def lane_order(labels: Sequence[str], speakers: Sequence[str]) -> list[str]:
    """Lanes top to bottom: the enrolled speakers who speak (in the model's order), then the unknown voices."""
    named = [lab for lab in labels if lab in speakers]
    return named + [s for s in speakers if s not in named]


class SpeakerLanes(QWidget):
    export_requested = Signal(str, str)  # (format, path)
    name_voice_requested = Signal(str, str)  # (unknown-N, the name it gets)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        bg, _fg = plot_colors()
        self.plot = pg.PlotWidget(background=bg)
        self.plot.setMenuEnabled(False)
        self.plot.setMouseEnabled(x=True, y=False)
        self.plot.setLabel("bottom", "time", units="s")
        self.plot.showGrid(x=True, y=False, alpha=0.25)
        self.plot.invertY(True)  # first lane on top
        self.plot.setMinimumHeight(140)
        self.summary = QLabel("")
        self.summary.setStyleSheet(muted_text_style())
        self.summary.setWordWrap(True)
        self.export_button = QToolButton()
        self.export_button.setText("Export…")
        self.export_button.setToolTip("Save the turns as JSON, CSV, Audacity labels, RTTM or SRT subtitles")
        self.export_button.setPopupMode(QToolButton.InstantPopup)
        menu = QMenu(self.export_button)
        for fmt in FORMATS:
            menu.addAction(FORMAT_NAMES[fmt], lambda f=fmt: self._export(f))
        self.export_button.setMenu(menu)
        self.name_button = QPushButton("Name this voice…")
        self.name_button.setToolTip("Give an unknown voice a name: the model learns it from its turns in this file "
                                    "(only the last layer retrains, in seconds)")
        self.name_menu = QMenu(self.name_button)
        self.name_button.setMenu(self.name_menu)
        buttons = QHBoxLayout()
        buttons.addWidget(self.summary, 1)
        buttons.addWidget(self.name_button)
        buttons.addWidget(self.export_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.plot, 1)
        layout.addLayout(buttons)
        self.file = ""
        self.lanes: list[str] = []
        self.segments: list[tuple[float, float, str, float]] = []
        self.set_turns("", [], [], {})

    def set_turns(self, file: str, segments: Sequence[tuple[float, float, str, float]], labels: Sequence[str],
                  colors: dict[str, str]) -> None:
        """``segments``: (start, end, label, p) turns; ``labels``: the model's classes (lane order)."""
        self.file = file
        self.segments = list(segments)
        speakers = list(dict.fromkeys(s[2] for s in segments))
        self.lanes = lane_order(labels, speakers)
        self.plot.clear()
        self.bars: list = []
        unknown = [lab for lab in self.lanes if is_unknown_voice(lab)]
        for start, end, label, p in self.segments:
            y = self.lanes.index(label)
            color = colors.get(label) or (UNKNOWN_COLORS[unknown.index(label) % len(UNKNOWN_COLORS)]
                                          if label in unknown else series_color(y))
            rect = pg.QtWidgets.QGraphicsRectItem(start, y + 0.15, max(end - start, 1e-3), 0.7)
            rect.setBrush(pg.mkBrush(color))
            rect.setPen(pg.mkPen(None))
            rect.setToolTip(f"{label}: {start:.1f}–{end:.1f} s ({100 * p:.0f} %)")
            self.plot.addItem(rect)
            self.bars.append(rect)
        axis = self.plot.getAxis("left")
        axis.setTicks([[(i + 0.5, lab) for i, lab in enumerate(self.lanes)]])
        # pyqtgraph drops tick labels wider than the axis: make room for the longest name
        metrics = QFontMetrics(axis.style.get("tickFont") or self.font())
        axis.setWidth(min(240, 16 + max((metrics.horizontalAdvance(lab) for lab in self.lanes), default=30)))
        end = max((s[1] for s in self.segments), default=1.0)
        self.plot.setXRange(0, end, padding=0.01)
        self.plot.setYRange(0, max(len(self.lanes), 1), padding=0.05)
        self.name_menu.clear()
        for label in unknown:
            self.name_menu.addAction(label, lambda lab=label: self._ask_name(lab))
        self.name_button.setEnabled(bool(unknown))
        self.export_button.setEnabled(bool(self.segments))
        if self.segments:
            talk = {lab: sum(e - s for s, e, x, _ in self.segments if x == lab) for lab in self.lanes}
            self.summary.setText(f"{count(len(self.segments), 'turn')}, {count(len(self.lanes), 'voice')}: "
                                 + ", ".join(f"{lab} {talk[lab]:.0f} s" for lab in self.lanes))
        else:
            self.summary.setText("")

    def lane_items(self) -> dict[str, int]:
        """label -> number of turns drawn in its lane (for tests and the summary)."""
        return {lab: sum(1 for s in self.segments if s[2] == lab) for lab in self.lanes}

    def _export(self, fmt: str) -> None:
        ext = EXTENSIONS[fmt]
        stem = (self.file.rsplit("/", 1)[-1].rsplit(".", 1)[0] or "timeline") + ext
        path, _ = QFileDialog.getSaveFileName(self, f"Export the turns as {FORMAT_NAMES[fmt]}", stem,
                                              f"{FORMAT_NAMES[fmt]} (*{ext});;All files (*)")
        if path:
            self.export_requested.emit(fmt, path)

    def _ask_name(self, label: str) -> None:
        name, ok = QInputDialog.getText(self, "Name this voice",
                                        f"Who is {label}? The model learns this voice from its turns here.")
        if ok and name.strip():
            self.name_voice_requested.emit(label, name.strip())
