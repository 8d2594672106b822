"""The Results page: how well the model does on audio it never saw. Test accuracy, per-class precision/recall/F1,
a confusion-matrix heatmap, and the misclassified windows (double-click one to inspect it)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter
from PySide6.QtWidgets import (
    QAbstractItemView,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from audionet_gui.core.base.words import count
from audionet_gui.core.model.figures import accuracy_interval, small_test_warning, validation_note
from audionet_gui.ui.guide import results_step
from audionet_gui.ui.theme import muted_text_style, plot_colors, warning_text_style
from audionet_gui.ui.widgets.next_step import NextStep
from audionet_gui.ui.widgets.robustness_table import RobustnessTable

METRIC_WORDS = ("<b>Precision</b>: of the windows the model gave this name, the share that really were this "
                "class (low: other voices are mistaken for it). <b>Recall</b>: of this class's windows, the share "
                "the model named right (low: it is often missed). <b>F1</b>: one figure for both (their harmonic "
                "mean); it is low when either is low. <b>N</b>: the class's test windows.")


def test_metrics(metrics: dict) -> dict:
    """The test-set block of a metrics.json (``{"test": {...}}``) or the metrics themselves if flat."""
    block = metrics.get("test") if isinstance(metrics.get("test"), dict) else metrics
    return block or {}


def misclassified_windows(metrics: dict) -> list[dict]:
    """Misclassified test windows as dicts with at least a file; wherever the metrics keep them."""
    test = test_metrics(metrics)
    items = test.get("misclassified") or metrics.get("misclassified") or []
    return [m for m in items if isinstance(m, dict)]


def _pct(v: Any, decimals: int = 1) -> str:
    return "–" if v is None else f"{100 * float(v):.{decimals}f} %"


class CellCounts(pg.GraphicsObject):
    """The count in each cell of the heatmap, drawn by one item: a ``pg.TextItem`` per cell cost 1 ms each to make
    and place, which held the GUI thread for over 50 ms when a 6-class model arrived."""

    def __init__(self):
        super().__init__()
        self.counts = np.zeros((0, 0), dtype=int)
        self.dark = np.zeros((0, 0), dtype=bool)
        self.font = QFont()

    def set_counts(self, counts: np.ndarray, dark: np.ndarray, font: QFont) -> None:
        self.prepareGeometryChange()
        self.counts, self.dark, self.font = counts.astype(int), dark, font
        self.update()

    def boundingRect(self) -> QRectF:
        rows, cols = self.counts.shape
        return QRectF(0, 0, cols, rows)

    def paint(self, painter: QPainter, *_args) -> None:
        to_screen = painter.transform()
        painter.resetTransform()  # text at its own size, centred on the cell whatever the view's scale
        painter.setFont(self.font)
        colors = (QColor("#ffffff"), QColor("#000000"))
        for (r, c), n in np.ndenumerate(self.counts):
            centre = to_screen.map(QPointF(c + 0.5, r + 0.5))
            painter.setPen(colors[int(self.dark[r, c])])
            painter.drawText(QRectF(centre.x() - 40, centre.y() - 12, 80, 24), Qt.AlignCenter, str(n))


class ConfusionHeatmap(pg.GraphicsLayoutWidget):
    """Rows = true class, columns = predicted class; each cell shows its count, coloured by row share."""

    def __init__(self, parent: QWidget | None = None):
        bg, fg = plot_colors()
        super().__init__(parent)
        self.setBackground(bg)
        self._fg = fg
        self.plot = self.addPlot()
        self.plot.setMenuEnabled(False)
        self.plot.setMouseEnabled(x=False, y=False)
        self.plot.hideButtons()
        self.plot.invertY(True)
        self.plot.setAspectLocked(True)
        self.plot.setLabel("left", "true class")
        self.plot.setLabel("bottom", "predicted class")
        self.image = pg.ImageItem()
        self.image.setColorMap(pg.colormap.get("viridis"))
        self.plot.addItem(self.image)
        self.counts = CellCounts()
        self.plot.addItem(self.counts)
        self.matrix = np.zeros((0, 0))
        self.labels: list[str] = []
        self.plot.vb.sigResized.connect(self._fit_column_names)

    def _fit_column_names(self, *_args) -> None:
        """Column names side by side overlap once the cells are narrower than the names: each is cut to its
        cell (the full names are the rows')."""
        n = len(self.labels)
        if not n:
            return
        cell_px = min(self.plot.vb.width(), self.plot.vb.height()) / n
        chars = max(2, int(cell_px / max(1, QFontMetrics(QFont()).averageCharWidth())) - 1)
        ticks = [(i + 0.5, name if len(name) <= chars else name[:chars - 1] + "\u2026")
                 for i, name in enumerate(self.labels)]
        self.plot.getAxis("bottom").setTicks([ticks])

    def set_matrix(self, matrix, labels: list[str]) -> None:
        m = np.asarray(matrix, dtype=float)
        self.matrix, self.labels = m, list(labels)
        if m.size == 0:  # no model: no class names left on the axes either
            self.image.clear()
            self.counts.set_counts(np.zeros((0, 0)), np.zeros((0, 0), dtype=bool), QFont())
            self.plot.getAxis("bottom").setTicks([[]])
            self.plot.getAxis("left").setTicks([[]])
            self.plot.setRange(xRange=(0, 1), yRange=(0, 1), padding=0.02)
            return
        share = m / np.maximum(m.sum(axis=1, keepdims=True), 1)
        self.image.setImage(share.T, levels=(0, 1))  # ImageItem's first axis is x (columns)
        font = QFont()
        font.setPointSize(9 if len(labels) <= 8 else 7)
        self.counts.set_counts(m, share > 0.6, font)  # dark text on the bright cells
        self.plot.getAxis("left").setTicks([[(i + 0.5, name) for i, name in enumerate(labels)]])
        self._fit_column_names()
        self.plot.setRange(xRange=(0, m.shape[1]), yRange=(0, m.shape[0]), padding=0.02)


class ResultsPanel(QWidget):
    save_model_requested = Signal()
    open_model_requested = Signal()
    window_activated = Signal(str, float)  # file, window start (s)
    action_requested = Signal(str)  # the next step's button (ui/guide.py actions)

    def __init__(self, parent: QWidget | None = None, state=None):
        super().__init__(parent)
        self.state = state  # ui.state.AppState: shows its model's test results
        self.headline = QLabel("No model yet.")
        self.headline.setWordWrap(True)
        f = self.headline.font()
        f.setPointSizeF(f.pointSizeF() * 1.3)
        self.headline.setFont(f)
        self.figures: dict[str, QLabel] = {}
        grid = QGridLayout()
        for i, (key, title, tip) in enumerate((
            ("accuracy", "Window accuracy", "Share of test windows whose top guess is right"),
            ("recording_accuracy", "Recording accuracy", "Share of test recordings right when the window "
                                                         "probabilities of a recording are averaged"),
            ("macro_f1", "Mean F1", "F1 averaged over classes: low when some class is often missed"),
            ("windows", "Test windows", "How many windows the test used"),
        )):
            value = QLabel("–")
            vf = value.font()
            vf.setPointSizeF(vf.pointSizeF() * 1.8)
            vf.setBold(True)
            value.setFont(vf)
            value.setToolTip(tip)
            caption = QLabel(title)
            caption.setStyleSheet(muted_text_style())
            caption.setToolTip(tip)
            grid.addWidget(value, 0, i)
            grid.addWidget(caption, 1, i)
            self.figures[key] = value
        self.next_step = NextStep()
        self.next_step.action.connect(self.action_requested)
        self.test_note = QLabel("")
        self.test_note.setWordWrap(True)
        self.validation_note = QLabel("")
        self.validation_note.setWordWrap(True)
        self.validation_note.setStyleSheet(muted_text_style())
        self.model_info = QLabel("")
        self.model_info.setStyleSheet(muted_text_style())
        self.model_info.setWordWrap(True)
        self.model_info.setTextInteractionFlags(Qt.TextSelectableByMouse)

        self.save_button = QPushButton("Save model as…")
        self.save_button.setToolTip("Copy the trained model folder somewhere else (Ctrl+Shift+S on this page)")
        self.save_button.clicked.connect(self.save_model_requested)
        self.open_button = QPushButton("Open model…")
        self.open_button.setToolTip("Open a saved model folder to see its results and identify files")
        self.open_button.clicked.connect(self.open_model_requested)

        self.per_class = QTableWidget(0, 5)
        self.per_class.setHorizontalHeaderLabels(["Class", "Precision", "Recall", "F1", "N"])
        self.per_class.verticalHeader().setVisible(False)
        self.per_class.setEditTriggers(QAbstractItemView.NoEditTriggers)
        # every column as wide as its contents (stretched columns wrapped "100.0 %" in two lines, and a stretched
        # name column cut the names); whole percents, as the figures of a small test set are no finer than that
        self.per_class.setWordWrap(False)
        self.per_class.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeToContents)
        self.per_class.horizontalHeader().setMinimumSectionSize(24)
        self.per_class.setToolTip("Precision: of the windows given this name, how many were right. "
                                  "Recall: of this class's windows, how many were found.")
        self.heatmap = ConfusionHeatmap()
        self.heatmap.setMinimumSize(220, 200)
        self.misclassified = QTableWidget(0, 5)
        self.misclassified.setHorizontalHeaderLabels(["File", "At", "True", "Predicted", "Confidence"])
        self.misclassified.verticalHeader().setVisible(False)
        self.misclassified.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.misclassified.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.misclassified.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeToContents)
        self.misclassified.horizontalHeader().setSectionResizeMode(0, QHeaderView.Stretch)
        self.misclassified.setToolTip("Double-click a window to see it on the Inspect page")
        self.misclassified.cellActivated.connect(self._on_activated)
        self.misclassified.cellDoubleClicked.connect(self._on_activated)

        buttons = QHBoxLayout()
        buttons.addWidget(self.headline, 1)
        buttons.addWidget(self.open_button)
        buttons.addWidget(self.save_button)
        self.metric_words = QLabel(METRIC_WORDS)
        self.metric_words.setWordWrap(True)
        self.metric_words.setStyleSheet(muted_text_style())
        left = QGroupBox("Per class")
        left_layout = QVBoxLayout(left)
        left_layout.addWidget(self.per_class, 1)
        left_layout.addWidget(self.metric_words)
        self.heatmap_empty = QLabel("The confusion matrix appears here once a model is trained or opened: "
                                    "rows are the true classes, columns what the model answered.")
        self.heatmap_empty.setWordWrap(True)
        self.heatmap_empty.setAlignment(Qt.AlignCenter)
        self.heatmap_empty.setStyleSheet(muted_text_style())
        mid = QGroupBox("Confusion matrix (test windows)")
        mid_layout = QVBoxLayout(mid)
        mid_layout.addWidget(self.heatmap)
        mid_layout.addWidget(self.heatmap_empty)
        bottom = QGroupBox("Misclassified test windows")
        self.misclassified_note = QLabel("")
        self.misclassified_note.setStyleSheet(muted_text_style())
        b_layout = QVBoxLayout(bottom)
        b_layout.addWidget(self.misclassified_note)
        b_layout.addWidget(self.misclassified)
        upper = QSplitter(Qt.Horizontal)
        upper.addWidget(left)
        upper.addWidget(mid)
        self.robustness = RobustnessTable()
        upper.addWidget(self.robustness)
        upper.setSizes([420, 380, 420])
        split = QSplitter(Qt.Vertical)
        split.addWidget(upper)
        split.addWidget(bottom)
        split.setSizes([420, 200])
        layout = QVBoxLayout(self)
        layout.addWidget(self.next_step)
        layout.addLayout(buttons)
        layout.addLayout(grid)
        layout.addWidget(self.test_note)
        layout.addWidget(self.validation_note)
        layout.addWidget(self.model_info)
        layout.addWidget(split, 1)
        self._misclassified: list[dict] = []
        self.save_button.setEnabled(False)
        self.show_metrics({})
        if state is not None:
            state.project_changed.connect(lambda _p: self.show_model(state.model))
            state.model_changed.connect(self.show_model)

    def show_model(self, model) -> None:
        """A ``ui.state.ModelInfo`` (None: no model)."""
        if model is None:
            self.clear()
            return
        info = f"Model: {model.path} · {count(len(model.labels), 'class')} · backbone {model.backbone}"
        self.show_metrics(model.metrics, model.path, info)

    def clear(self) -> None:
        self.show_metrics({}, model_path=None)

    def show_metrics(self, metrics: dict, model_path: str | None = None, model_info: str = "") -> None:
        test = test_metrics(metrics)
        labels = list(test.get("labels") or metrics.get("labels") or [])
        if not test or "accuracy" not in test:
            self.headline.setText("No model yet." if not model_path else "This model has no test results.")
            for v in self.figures.values():
                v.setText("–")
        else:
            self.headline.setText(f"On audio it never saw, the model names {_pct(test.get('accuracy'))} of "
                                  f"windows and {_pct(test.get('recording_accuracy'))} of recordings right.")
            self.figures["accuracy"].setText(_pct(test.get("accuracy")))
            self.figures["recording_accuracy"].setText(_pct(test.get("recording_accuracy")))
            self.figures["macro_f1"].setText(_pct(test.get("macro_f1")))
            self.figures["windows"].setText(str(test.get("windows", "–")))
        interval = accuracy_interval(test) if test else None
        warning = small_test_warning(test) if interval else ""
        if warning:
            self.test_note.setText(warning)
            self.test_note.setStyleSheet(warning_text_style())
        elif interval:
            self.test_note.setText(f"Window accuracy, 95 % interval: {100 * interval[0]:.0f}–{100 * interval[1]:.0f} %"
                                   f" ({count(int(test.get('windows') or 0), 'test window')}).")
            self.test_note.setStyleSheet(muted_text_style())
        else:
            self.test_note.setText("")
        self.test_note.setVisible(bool(self.test_note.text()))
        self.validation_note.setText(validation_note(metrics))
        self.validation_note.setVisible(bool(self.validation_note.text()))
        self.next_step.set_step(results_step(model_path if model_path else None))
        self.metric_words.setVisible(bool(test.get("per_class")) if test else False)
        self.model_info.setText(model_info or (f"Model: {model_path}" if model_path else ""))
        self.save_button.setEnabled(bool(model_path))
        per_class = test.get("per_class") or {}
        self.per_class.setRowCount(len(per_class))
        for r, (name, s) in enumerate(per_class.items()):
            cells = [name, _pct(s.get("precision"), 0), _pct(s.get("recall"), 0), _pct(s.get("f1"), 0),
                     str(s.get("support", ""))]
            for c, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if c:
                    item.setTextAlignment(Qt.AlignRight | Qt.AlignVCenter)
                self.per_class.setItem(r, c, item)
        self.heatmap.set_matrix(test.get("confusion") or [], labels)
        has_matrix = self.heatmap.matrix.size > 0  # no empty frame with meaningless axes before a model
        self.heatmap.setVisible(has_matrix)
        self.heatmap_empty.setVisible(not has_matrix)
        self.robustness.set_metrics(metrics)
        self._misclassified = misclassified_windows(metrics)
        if self._misclassified:
            self.misclassified_note.setText("Double-click a window to see it on the Inspect page.")
        elif test.get("accuracy") == 1.0:
            self.misclassified_note.setText("No test window was misclassified.")
        elif test:
            self.misclassified_note.setText("This model's results do not list its misclassified windows.")
        else:
            self.misclassified_note.setText("")
        self.misclassified.setRowCount(len(self._misclassified))
        for r, m in enumerate(self._misclassified):
            path = str(m.get("source") or m.get("file") or m.get("path") or "")
            start = m.get("start_s", m.get("start", 0.0)) or 0.0
            p = m.get("p", m.get("confidence"))
            cells = [Path(path).name, f"{float(start):.1f} s", str(m.get("true", m.get("label", ""))),
                     str(m.get("predicted", "")), _pct(p) if p is not None else ""]
            for c, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if c == 0:
                    item.setToolTip(path)
                self.misclassified.setItem(r, c, item)

    def _on_activated(self, row: int, _col: int) -> None:
        if 0 <= row < len(self._misclassified):
            m = self._misclassified[row]
            path = str(m.get("source") or m.get("file") or m.get("path") or "")
            if path:
                self.window_activated.emit(path, float(m.get("start_s", m.get("start", 0.0)) or 0.0))
