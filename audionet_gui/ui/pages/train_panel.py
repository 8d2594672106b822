"""The Train page: settings on the left (audio to images, network), Start on the right with live
loss/accuracy curves and the stages of the run."""

from __future__ import annotations

import math

import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from audionet_gui.qt.passes import in_separate_passes
from audionet_gui.ui.guide import train_step
from audionet_gui.ui.theme import muted_text_style, plot_colors, series_color
from audionet_gui.ui.widgets.next_step import NextStep
from audionet_gui.ui.widgets.settings_form import SettingsForm
from audionet_gui.ui.widgets.settings_panel import ModelSettingsPanel


class EpochAxis(pg.AxisItem):
    """Epochs are whole numbers: ticks at 1, 2, 3 (or every 5, 10 ...), never at 1.5."""

    def tickValues(self, minVal, maxVal, size):
        lo, hi = math.ceil(minVal), math.floor(maxVal)
        if hi < lo:
            return []
        most = max(2, int(size / 45))  # a label needs about 45 px
        step = next(s for s in (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 10**9) if (hi - lo) / s <= most)
        first = lo if lo % step == 0 else lo + step - lo % step
        return [(float(step), [float(v) for v in range(first, hi + 1, step)])]

    def tickStrings(self, values, scale, spacing):
        return [str(int(round(v))) for v in values]


def legend_html() -> str:
    """The two series' colours, above the plots instead of a legend box that sits on the curves."""
    return (f"<span style='color:{series_color(0)}'>&#9679;&#8212;</span> training &nbsp;&nbsp; "
            f"<span style='color:{series_color(1)}'>&#9632;&#8212;</span> validation")


class TrainingCurves(QWidget):
    """Two plots (loss, accuracy), each with a training and a validation line, growing epoch by epoch."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        bg, fg = plot_colors()
        self.loss_plot = pg.PlotWidget(background=bg, axisItems={"bottom": EpochAxis("bottom")})
        self.acc_plot = pg.PlotWidget(background=bg, axisItems={"bottom": EpochAxis("bottom")})
        self.legend = QLabel(legend_html())
        self.legend.setAlignment(Qt.AlignRight)
        self.curves = {}
        for plot, title, key in ((self.loss_plot, "Loss", "loss"), (self.acc_plot, "Accuracy", "accuracy")):
            plot.setTitle(title, color=fg)
            plot.setLabel("bottom", "epoch")
            # No antialiasing and no grid: a redraw per epoch then costs about 30 ms of CPU instead of 80, which
            # kept the GUI thread over its 100 ms budget on a loaded machine (measured, tests/ui/window).
            plot.setAntialiasing(False)
            plot.setMenuEnabled(False)
            self.curves[key] = plot.plot([], [], pen=pg.mkPen(series_color(0), width=2), symbol="o", symbolSize=5,
                                         symbolBrush=series_color(0), name="training", antialias=False)
            self.curves[f"val_{key}"] = plot.plot([], [], pen=pg.mkPen(series_color(1), width=2), symbol="s",
                                                  symbolSize=5, symbolBrush=series_color(1), name="validation",
                                                  antialias=False)
        self.acc_plot.setYRange(0, 1.0, padding=0.02)
        self.history: dict[str, list[float]] = {}
        self.epochs: list[float] = []
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.legend)
        layout.addWidget(self.loss_plot)
        layout.addWidget(self.acc_plot)

    def clear(self) -> None:
        self.history = {k: [] for k in self.curves}
        self.epochs = []
        for c in self.curves.values():
            c.setData([], [])
        for plot in (self.loss_plot, self.acc_plot):  # the last run's axes go too (autorange keeps them on no data)
            plot.setRange(xRange=(0, 1), yRange=(0, 1.0), padding=0.02)
            plot.enableAutoRange(axis="x")
        self.loss_plot.enableAutoRange(axis="y")

    def add_epoch(self, extra: dict) -> None:
        """``extra`` as the training reports it: epoch, loss, accuracy, val_loss, val_accuracy. The two plots
        are redrawn in separate passes of the event loop: both in one cost the GUI thread up to 60 ms on a loaded
        machine (measured, tests/ui/window)."""
        if self._append(extra):
            self._redraw(("loss", "val_loss"))
            in_separate_passes(self, [lambda: self._redraw(("accuracy", "val_accuracy"))])

    def set_history(self, history) -> None:
        """A finished run's history for a model opened from disk: a list of per-epoch rows as training reports
        them ({"epoch", "loss", ...}), or columns ({"loss": [...], ...})."""
        if isinstance(history, dict):
            n = max((len(v) for v in history.values() if isinstance(v, list)), default=0)
            history = [{"epoch": i + 1, **{k: v[i] for k, v in history.items() if isinstance(v, list) and i < len(v)}}
                       for i in range(n)]
        rows = [row for row in history if isinstance(row, dict) and "epoch" in row]
        if self._shows(rows):
            return  # the run that just finished: its curves are on screen already
        self.clear()
        for row in rows:
            self._append(row)
        self._redraw()  # once for the whole run: a redraw per epoch cost 120 ms of GUI time on a 25-epoch model

    def _append(self, extra: dict) -> bool:
        if "epoch" not in extra:
            return False
        self.epochs.append(float(extra["epoch"]))
        for key in self.curves:
            value = extra.get(key)
            self.history.setdefault(key, []).append(float(value) if value is not None else float("nan"))
        return True

    def _shows(self, rows: list[dict]) -> bool:
        if not rows or len(rows) != len(self.epochs):
            return False
        shown = [{"epoch": e, **{k: v[i] for k, v in self.history.items()}} for i, e in enumerate(self.epochs)]
        return all(float(r["epoch"]) == s["epoch"] and all(
            _same(r.get(k), s.get(k)) for k in self.curves) for r, s in zip(rows, shown))

    def _redraw(self, keys=None) -> None:
        for key, curve in self.curves.items():
            if keys is not None and key not in keys:
                continue
            values = self.history.get(key, [])
            curve.setData([e for e, v in zip(self.epochs, values) if v == v], [v for v in values if v == v])


def _same(a, b) -> bool:
    a = float("nan") if a is None else float(a)
    return (a != a and b != b) or a == b


IDLE_TEXT = ""  # what to do next is the next-step strip's (it follows the state); this line reports runs


class TrainPanel(QWidget):
    train_requested = Signal()
    convert_requested = Signal()
    action_requested = Signal(str)  # the next step's button (ui/guide.py actions)

    def __init__(self, parent: QWidget | None = None, state=None):
        super().__init__(parent)
        self.state = state  # ui.state.AppState: a new project clears the run shown; a model shows its history
        self.audio_settings = SettingsForm()  # the project's audio-to-image settings (also on Inspect)
        self.model_settings = ModelSettingsPanel()
        settings = QWidget()
        s_layout = QVBoxLayout(settings)
        s_layout.addWidget(self.model_settings)
        s_layout.addWidget(self.audio_settings)
        s_layout.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidget(settings)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.NoFrame)
        scroll.setMinimumWidth(300)

        self.train_button = QPushButton("Train")
        self.train_button.setToolTip("Make images, extract features, train and test the model (Ctrl+T)")
        self.train_button.setMinimumHeight(34)
        self.train_button.setDefault(True)
        self.train_button.clicked.connect(self.train_requested)
        self.convert_button = QPushButton("Make images only")
        self.convert_button.setToolTip("Only cut the audio into windows and make their spectrogram images "
                                       "(useful to check the data before training)")
        self.convert_button.clicked.connect(self.convert_requested)
        self.status = QLabel(IDLE_TEXT)
        self.status.setWordWrap(True)
        self.next_step = NextStep()
        # The curves take the height the lines above them leave: a strip or a status line that appears or grows when
        # a run ends would resize both plots and repaint them in the very turn that shows the finished model. So
        # the strip keeps its place while hidden during a run, and the status line has a fixed room of three lines
        # (the longest message, the model's folder, fits them at the narrowest width).
        policy = self.next_step.sizePolicy()
        policy.setRetainSizeWhenHidden(True)
        self.next_step.setSizePolicy(policy)
        self.status.setFixedHeight(3 * self.status.fontMetrics().lineSpacing() + 2)
        self.status.setAlignment(Qt.AlignLeft | Qt.AlignTop)
        self.next_step.action.connect(self.action_requested)
        self.stage_labels: dict[str, QLabel] = {}
        stages = QGridLayout()
        for i, (key, title) in enumerate((("convert", "Images"), ("features", "Features"),
                                          ("train", "Training"), ("evaluate", "Test"), ("bundle", "Save"))):
            label = QLabel(f"{title}: waiting")
            label.setStyleSheet(muted_text_style())
            self.stage_labels[key] = label
            stages.addWidget(label, i // 3, i % 3)  # two rows: the page fits a small screen
        self.curves = TrainingCurves()
        self.status.setMinimumWidth(200)
        buttons = QHBoxLayout()
        buttons.addWidget(self.train_button)
        buttons.addWidget(self.convert_button)
        buttons.addStretch(1)
        right = QWidget()
        r_layout = QVBoxLayout(right)
        r_layout.addWidget(self.next_step)
        r_layout.addLayout(buttons)
        r_layout.addWidget(self.status)
        r_layout.addLayout(stages)
        r_layout.addWidget(self.curves, 1)
        split = QSplitter(Qt.Horizontal)
        split.addWidget(scroll)
        split.addWidget(right)
        split.setStretchFactor(0, 0)
        split.setStretchFactor(1, 1)
        split.setSizes([420, 800])
        layout = QHBoxLayout(self)
        layout.addWidget(split)
        if state is not None:
            state.project_changed.connect(self.reset)
            state.model_changed.connect(self.show_model)
            for signal in (state.project_changed, state.project_edited, state.scan_changed, state.model_changed):
                signal.connect(self.show_next_step)
            self.show_next_step()

    def show_next_step(self, *_args) -> None:
        self.next_step.set_step(train_step(self.state.project, self.state.scan, self.state.model))

    def reset(self, *_args) -> None:
        """Another project: nothing of the previous run stays (curves, stages, the status line)."""
        self.curves.clear()
        self.reset_stages()
        self.status.setText(IDLE_TEXT)
        self.show_model(self.state.model if self.state is not None else None)

    def show_model(self, model) -> None:
        """A model's training history (an opened model, or the run that just finished)."""
        history = getattr(model, "history", None)
        if history:
            self.curves.set_history(history)

    def set_running(self, running: bool) -> None:
        self.train_button.setEnabled(not running)
        self.convert_button.setEnabled(not running)
        self.audio_settings.setEnabled(not running)
        self.model_settings.setEnabled(not running)
        self.next_step.setVisible(not running and self.next_step.step is not None and bool(self.next_step.step.text))

    def reset_stages(self) -> None:
        for label in self.stage_labels.values():
            label.setText(f"{label.text().split(':')[0]}: waiting")
            label.setStyleSheet(muted_text_style())

    def mark_stage(self, stage: str, text: str) -> None:
        """Show ``text`` for ``stage``; earlier stages are marked done."""
        keys = list(self.stage_labels)
        if stage not in self.stage_labels:
            return
        for key in keys[: keys.index(stage)]:
            label = self.stage_labels[key]
            if not label.text().endswith("done"):
                label.setText(f"{label.text().split(':')[0]}: done")
                label.setStyleSheet("")
        label = self.stage_labels[stage]
        label.setText(f"{label.text().split(':')[0]}: {text}")
        label.setStyleSheet("font-weight: bold;")

    def mark_stopped(self, outcome: str) -> None:
        """The run was cancelled or failed: the stage it was in says so, later stages go back to waiting."""
        for label in self.stage_labels.values():
            name, state = label.text().split(":", 1)
            if state.strip() not in ("done", "waiting"):
                label.setText(f"{name}: {outcome}")
                label.setStyleSheet(muted_text_style())

    def mark_all_done(self) -> None:
        for label in self.stage_labels.values():
            label.setText(f"{label.text().split(':')[0]}: done")
            label.setStyleSheet("")
