"""The Identify page: drop an audio file, see who it is (top-k bars) and, for a long file, who speaks when."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QDragEnterEvent, QDropEvent, QPainter, QPalette
from PySide6.QtWidgets import (
    QCheckBox,
    QFileDialog,
    QFrame,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from audionet_gui.core.answers import NO_SPEECH, NOT_A_CLASS, SILENCE, UNKNOWN
from audionet_gui.core.base.words import count
from audionet_gui.resources import demo_conversation_path, knows_demo_speakers
from audionet_gui.ui.dialogs.folder_dialog import AUDIO_FILTER, start_dir
from audionet_gui.ui.pages.data_panel import accept_local_paths, local_paths
from audionet_gui.ui.theme import muted_text_style, plot_colors, series_color
from audionet_gui.ui.widgets.job_bar import format_seconds
from audionet_gui.ui.widgets.saliency_overlay import SaliencyWindowView
from audionet_gui.ui.widgets.speaker_lanes import SpeakerLanes


class ProbabilityBar(QWidget):
    """A bar filled to a probability. Not a QProgressBar: its setValue repaints at once and a style sheet per bar
    re-polishes it, which held the GUI thread about 100 ms when a result arrived on a loaded machine."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.p, self.color = 0.0, None
        self.setMinimumSize(200, 14)

    def set_value(self, p: float, color: str | None = None) -> None:
        self.p, self.color = min(max(float(p), 0.0), 1.0), color
        self.update()

    def paintEvent(self, _event) -> None:
        painter = QPainter(self)
        rect = self.rect().adjusted(0, 2, -1, -3)
        if not self.isEnabled():
            return  # an unused row
        painter.setPen(self.palette().color(QPalette.Mid))
        painter.setBrush(self.palette().color(QPalette.Base))
        painter.drawRect(rect)
        filled = rect.adjusted(1, 1, 0, 0)
        filled.setWidth(round(self.p * (rect.width() - 1)))
        painter.fillRect(filled, QColor(self.color) if self.color else self.palette().color(QPalette.Highlight))


class TopKBars(QWidget):
    """One row per candidate: name, a bar, the probability."""

    def __init__(self, rows: int = 5, parent: QWidget | None = None):
        super().__init__(parent)
        self.grid = QGridLayout(self)
        self.names: list[QLabel] = []
        self.bars: list[ProbabilityBar] = []
        self.values: list[QLabel] = []
        for i in range(rows):
            name, bar, value = QLabel(""), ProbabilityBar(), QLabel("")
            value.setAlignment(Qt.AlignRight | Qt.AlignVCenter)
            value.setMinimumWidth(60)
            self.grid.addWidget(name, i, 0)
            self.grid.addWidget(bar, i, 1)
            self.grid.addWidget(value, i, 2)
            self.names.append(name)
            self.bars.append(bar)
            self.values.append(value)
        self.grid.setColumnStretch(1, 1)
        self.set_items([])

    def set_items(self, items: list[tuple[str, float]], colors: dict[str, str] | None = None) -> None:
        # Unused rows are blanked, not hidden: showing hidden widgets again re-polishes and lays them out (30 ms)
        for i, (name, bar, value) in enumerate(zip(self.names, self.bars, self.values)):
            if i >= len(items):
                name.setText("")
                value.setText("")
                bar.set_value(0.0)
                bar.setEnabled(False)
                continue
            bar.setEnabled(True)
            label, p = items[i]
            name.setText(f"<b>{label}</b>" if i == 0 else label)
            bar.set_value(float(p), (colors or {}).get(label))
            value.setText(f"{100 * float(p):.1f} %")

    def items(self) -> list[tuple[str, str]]:
        return [(n.text().replace("<b>", "").replace("</b>", ""), v.text())
                for n, v in zip(self.names, self.values) if n.text()]


class SpeakerTimeline(pg.PlotWidget):
    """Coloured segments along time, one lane per label."""

    def __init__(self, parent: QWidget | None = None):
        bg, fg = plot_colors()
        super().__init__(parent, background=bg)
        self.setMenuEnabled(False)
        self.setMouseEnabled(x=True, y=False)
        self.setLabel("bottom", "time", units="s")
        self.showGrid(x=True, y=False, alpha=0.25)
        self.segments: list[tuple[float, float, str, float]] = []

    def set_segments(self, segments: list[tuple[float, float, str, float]], labels: list[str],
                     colors: dict[str, str]) -> None:
        self.clear()
        self.segments = list(segments)
        lanes = [lab for lab in labels if any(s[2] == lab for s in segments)]
        lanes += [lab for lab in NOT_A_CLASS if lab not in lanes and any(s[2] == lab for s in segments)]
        for start, end, label, p in segments:
            y = lanes.index(label) if label in lanes else 0
            color = colors.get(label, "#888888")
            rect = pg.QtWidgets.QGraphicsRectItem(start, y + 0.1, max(end - start, 1e-3), 0.8)
            rect.setBrush(pg.mkBrush(color))
            rect.setPen(pg.mkPen(None))
            rect.setToolTip(f"{label}: {start:.1f}–{end:.1f} s ({100 * p:.0f} %)")
            self.addItem(rect)
        self.getAxis("left").setTicks([[(i + 0.5, lab) for i, lab in enumerate(lanes)]])
        if segments:
            self.setXRange(0, max(s[1] for s in segments), padding=0.01)
        self.setYRange(0, max(len(lanes), 1), padding=0.05)


class IdentifyPanel(QWidget):
    file_requested = Signal(str)  # identify this file
    open_model_requested = Signal()
    add_speaker_requested = Signal()
    cancel_requested = Signal()     # stop the identification in progress
    action_requested = Signal(str)  # a next-step button (ui/guide.py actions)
    explain_requested = Signal(str, float)  # saliency wanted for the window of this file starting here

    def __init__(self, parent: QWidget | None = None, state=None):
        super().__init__(parent)
        self.state = state  # ui.state.AppState: identifies with its model
        self.setAcceptDrops(True)
        self.model_label = QLabel("No model loaded: train one or open a saved model.")
        self.model_label.setWordWrap(True)
        self.drop_zone = QLabel("Drop an audio file here\nor")
        self.drop_zone.setAlignment(Qt.AlignCenter)
        self.drop_zone.setFrameShape(QFrame.StyledPanel)
        self.drop_zone.setMinimumHeight(90)
        self.drop_zone.setStyleSheet(muted_text_style()
                                     + "font-size: 12pt; border: 2px dashed #888; border-radius: 8px;")
        self.choose = QPushButton("Choose a file…")
        self.choose.setToolTip("Identify who speaks in an audio file (Ctrl+I)")
        self.choose.clicked.connect(self._choose)
        self.open_model = QPushButton("Open model…")
        self.open_model.clicked.connect(self.open_model_requested)
        self.go_train = QPushButton("Go to Train")
        self.go_train.setToolTip("No model yet: train one on the Train page")
        self.go_train.clicked.connect(lambda: self.action_requested.emit("page:Train"))
        self.try_demo = QPushButton("Try the demo conversation")
        self.try_demo.setToolTip("The demo's speakers taking turns: see who speaks when")
        self.try_demo.clicked.connect(lambda: self.file_requested.emit(str(demo_conversation_path())))
        self.progress = QProgressBar()
        self.progress.setMaximumHeight(14)
        self.progress.setTextVisible(False)
        self.progress_text = QLabel("")
        self.progress_text.setStyleSheet(muted_text_style())
        self.cancel = QPushButton("Cancel")
        self.cancel.setToolTip("Stop identifying this file (Esc)")
        self.cancel.clicked.connect(self.cancel_requested)
        self.file_label = QLabel("")
        self.file_label.setWordWrap(True)
        self.answer = QLabel("")
        af = self.answer.font()
        af.setPointSizeF(af.pointSizeF() * 1.6)
        af.setBold(True)
        self.answer.setFont(af)
        self.bars = TopKBars()
        self.timeline = SpeakerTimeline()
        self.timeline.setMinimumHeight(160)
        self.timeline_note = QLabel("")
        self.timeline_note.setStyleSheet(muted_text_style())
        self.lanes = SpeakerLanes()  # the speaker turns, when the answer has them (replaces the raw timeline)
        self.lanes.hide()
        self.saliency_toggle = QCheckBox("Why? (saliency)")
        self.saliency_toggle.setToolTip("Show in red where the model looked in the window it was surest about")
        self.saliency_toggle.toggled.connect(self._on_saliency_toggled)
        self.why = SaliencyWindowView()
        self.why.setMinimumHeight(120)
        self.why_note = QLabel("", wordWrap=True, styleSheet=muted_text_style())
        self.why_box = QGroupBox("Why this answer")
        why_layout = QVBoxLayout(self.why_box)
        why_layout.addWidget(self.why)
        why_layout.addWidget(self.why_note)
        self.why_box.hide()
        self._why_window: tuple[str, float, float] | None = None  # file, start, end of the window to explain
        self.add_speaker = QPushButton("Add a speaker…")
        self.add_speaker.setToolTip("Teach the model a new voice from about 30 s of recording or a few files")
        self.add_speaker.clicked.connect(self.add_speaker_requested)
        top = QHBoxLayout()
        top.addWidget(self.model_label, 1)
        top.addWidget(self.add_speaker)
        top.addWidget(self.go_train)
        top.addWidget(self.open_model)
        drop = QHBoxLayout()
        drop.addWidget(self.drop_zone, 1)
        choices = QVBoxLayout()
        choices.addWidget(self.choose)
        choices.addWidget(self.try_demo)
        drop.addLayout(choices)
        busy = QHBoxLayout()
        busy.addWidget(self.progress, 1)
        busy.addWidget(self.progress_text)
        busy.addWidget(self.cancel)
        result = QGroupBox("Who is it?")
        r_layout = QVBoxLayout(result)
        r_layout.addWidget(self.file_label)
        r_layout.addLayout(busy)
        r_layout.addWidget(self.answer)
        r_layout.addWidget(self.bars)
        r_layout.addWidget(self.saliency_toggle)
        when = QGroupBox("Who speaks when")
        w_layout = QVBoxLayout(when)
        w_layout.addWidget(self.timeline)
        w_layout.addWidget(self.lanes)
        w_layout.addWidget(self.timeline_note)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addLayout(drop)
        answer_row = QHBoxLayout()  # side by side: the page keeps its height with the map shown
        answer_row.addWidget(result, 1)
        answer_row.addWidget(self.why_box, 1)
        layout.addLayout(answer_row)
        layout.addWidget(when, 1)
        self.set_model(None)
        self.set_running(False)
        if state is not None:
            state.project_changed.connect(lambda _p: self.show_model(state.model))
            state.model_changed.connect(self.show_model)

    def show_model(self, model) -> None:
        """A ``ui.state.ModelInfo`` (None: no model); answers of another model are cleared."""
        self.clear()
        if model is None:
            self.set_model(None)
        else:
            self.set_model(model.description(), list(model.labels))

    def clear(self) -> None:
        self.file_label.setText("")
        self.answer.setText("")
        self.bars.set_items([])
        self.timeline.set_segments([], [], {})
        self.timeline.setXRange(0, 1, padding=0.01)
        self.timeline_note.setText("")
        self.show_turns(None)
        self._why_window = None
        self._clear_saliency()

    def set_model(self, description: str | None, labels: list[str] | None = None) -> None:
        self._labels = list(labels or [])
        self.colors = {lab: series_color(i) for i, lab in enumerate(self._labels)}
        self.colors[UNKNOWN] = "#9e9e9e"
        self.colors[SILENCE] = self.colors[NO_SPEECH] = "#d0d0d0"
        if description:
            self.model_label.setText(description)
        else:
            self.model_label.setText("No model loaded: train one on the Train page or open a saved model.")
        self.choose.setEnabled(bool(description))
        self.add_speaker.setEnabled(bool(description))
        self.go_train.setVisible(not description)
        self.try_demo.setVisible(bool(description) and knows_demo_speakers(self._labels)
                                 and demo_conversation_path().is_file())
        self.drop_zone.setText("Drop an audio file here" if description
                               else "Drop an audio file here (after a model is loaded)")

    def set_busy(self, path: str) -> None:
        self.file_label.setText(f"Identifying {Path(path).name}…")
        self.answer.setText("")
        self.bars.set_items([])
        self.set_running(True)
        self.progress_text.setText("loading the model…")

    def set_running(self, running: bool) -> None:
        for w in (self.progress, self.progress_text, self.cancel):
            w.setVisible(running)
        self.progress.setRange(0, 0)  # busy until the first report says how much there is
        self.cancel.setEnabled(running)

    def show_progress(self, p) -> None:
        """A core ``Progress`` of the identification: windows done, and the time left."""
        if not p.total:
            return
        self.progress.setRange(0, int(p.total))
        self.progress.setValue(int(min(p.done, p.total)))
        left = f", about {format_seconds(p.eta_s)} left" if p.eta_s is not None and p.done < p.total else ""
        self.progress_text.setText(f"{p.done} / {count(int(p.total), 'window')}{left}")

    def show_cancelled(self, path: str | None) -> None:
        if self.cancel.isHidden():
            return  # nothing was running here (e.g. the project changed)
        self.set_running(False)
        self.file_label.setText(f"{Path(path).name}: cancelled" if path else "Cancelled")

    def show_prediction(self, prediction: Any) -> None:
        """``prediction``: a core FilePrediction (file, label, p, top_k, timeline of segments, windows)."""
        self.set_running(False)
        label, p = prediction.label, float(prediction.p)
        turns = (getattr(prediction, "extra", None) or {}).get("turns")  # speaker turns: unknown voices told apart
        speakers = list(turns.speakers) if turns is not None else list(
            dict.fromkeys(s.label for s in prediction.timeline if s.label not in NOT_A_CLASS))
        if len(speakers) > 1:  # a conversation: one name for the whole file would mislead
            self.answer.setText(f"{len(speakers)} speakers: {', '.join(speakers)}")
            self.file_label.setText(f"{Path(prediction.file).name}: {count(prediction.windows, 'window')}. Who "
                                    "speaks when is below; the bars average the whole file.")
        else:
            self.answer.setText(f"{NO_SPEECH}: nobody speaks in this file" if label == NO_SPEECH
                                else f"{label}  ({100 * p:.0f} %)" if label != UNKNOWN
                                else f"{UNKNOWN}: no class is sure enough ({100 * p:.0f} %)")
            self.file_label.setText(f"{Path(prediction.file).name}: {count(prediction.windows, 'window')}, "
                                    "over the whole file:")
        self.bars.set_items([(lab, float(q)) for lab, q in prediction.top_k], self.colors)
        segments = [(s.start_s, s.end_s, s.label, float(s.p)) for s in prediction.timeline]
        self.timeline.set_segments(segments, self._labels, self.colors)
        ends = np.asarray(prediction.window_ends) if len(prediction.window_ends) else np.zeros(1)
        self.timeline_note.setText(f"{count(len(segments), 'segment')} over {float(ends.max()):.1f} s. "
                                   "Drag sideways to scroll, wheel to zoom.")
        self.show_turns(turns)
        self._why_window = self._surest_window(prediction)
        self._request_saliency()

    # -- saliency (the explain controller computes it) -------------------------------------------------------------
    @staticmethod
    def _surest_window(prediction: Any) -> tuple[str, float, float] | None:
        probs = np.asarray(prediction.window_probabilities)
        if not len(probs) or not probs.size:
            return None
        labels = list(prediction.labels)
        i = int(np.argmax(probs[:, labels.index(prediction.label)] if prediction.label in labels
                          else probs.max(axis=1)))
        return prediction.file, float(prediction.window_starts[i]), float(prediction.window_ends[i])

    def _on_saliency_toggled(self, on: bool) -> None:
        if on:
            self._request_saliency()
        else:
            self._clear_saliency()

    def _request_saliency(self) -> None:
        self._clear_saliency()
        if self.saliency_toggle.isChecked() and self._why_window is not None:
            path, start, end = self._why_window
            self.why_note.setText(f"Finding where the model looked in {start:.1f}–{end:.1f} s…")
            self.why_box.show()
            self.explain_requested.emit(path, start)

    def _clear_saliency(self) -> None:
        self.why.clear_explanation()
        self.why_note.setText("")
        self.why_box.hide()

    def show_saliency(self, explanation: Any) -> None:
        """Draw a map computed for the shown file (one for another file or a toggle switched off is dropped)."""
        if (self.saliency_toggle.isChecked() and self._why_window is not None
                and Path(explanation.path) == Path(self._why_window[0])):
            self.why.show_explanation(explanation)
            self.why_note.setText(f"{explanation.label} (p = {explanation.p:.2f}) in the window "
                                  f"{explanation.start:.1f}–{explanation.end:.1f} s, the one it was surest about: "
                                  f"red is where the model looked ({explanation.method}).")
            self.why_box.show()

    def show_turns(self, turns: Any) -> None:
        """A core ``FileTimeline`` (speaker turns, unknown voices as unknown-N) in lanes; None: the raw timeline."""
        if turns is None:
            self.lanes.set_turns("", [], [], {})
            self.lanes.hide()
            self.timeline.show()
            return
        segments = [(s.start_s, s.end_s, s.label, float(s.p)) for s in turns.segments]
        self.lanes.set_turns(turns.file, segments, self._labels, self.colors)
        self.timeline.hide()
        self.lanes.show()

    def show_error(self, path: str, message: str) -> None:
        self.set_running(False)
        self.file_label.setText(f"{Path(path).name}: could not identify")
        self.answer.setText("")
        self.bars.set_items([])
        self.timeline_note.setText(message)

    def dragEnterEvent(self, e: QDragEnterEvent) -> None:
        accept_local_paths(e)

    def dropEvent(self, e: QDropEvent) -> None:
        paths = [p for p in local_paths(e.mimeData()) if Path(p).is_file()]
        if paths:
            e.acceptProposedAction()
            self.file_requested.emit(paths[0])

    def _choose(self) -> None:
        where = start_dir(self.state.project if self.state is not None else None)
        path, _ = QFileDialog.getOpenFileName(self, "Choose an audio file to identify", where, AUDIO_FILTER)
        if path:
            self.file_requested.emit(path)
