"""The strip at the bottom of the window that shows the running job: stage, bar, count, time left, Cancel."""

from __future__ import annotations

import time

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QWidget

from audionet_gui.core.base.jobs import Progress
from audionet_gui.ui.theme import muted_text_style

STAGE_NAMES = {
    "scanning": "Checking audio files",
    "converting": "Making spectrogram images",
    "features": "Extracting features",
    "training": "Training",
    "fine_tuning": "Fine-tuning",
    "evaluating": "Testing",
    "calibrating": "Calibrating \u201cunknown\u201d",
    "robustness": "Testing in noise, other rooms and live",
    "mapping": "Making the feature map",
    "saving": "Saving the model",
}


def stage_title(stage: str) -> str:
    return STAGE_NAMES.get(stage, stage.replace("_", " ").capitalize())


def format_seconds(s: float | None) -> str:
    if s is None:
        return ""
    s = max(0, int(round(s)))
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60:02d} s"
    return f"{s // 3600} h {(s % 3600) // 60:02d} min"


class JobBar(QWidget):
    cancel_requested = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.title = QLabel("Ready")
        self.title.setMinimumWidth(220)
        self.bar = QProgressBar()
        self.bar.setTextVisible(False)
        self.bar.setMaximumHeight(14)
        self.count = QLabel("")
        self.count.setMinimumWidth(90)
        self.count.setAlignment(Qt.AlignRight | Qt.AlignVCenter)
        self.eta = QLabel("")
        self.eta.setMinimumWidth(180)
        self.eta.setStyleSheet(muted_text_style())
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop the running job (Esc). Finished work is kept; nothing half-written is "
                                      "left.")
        self.cancel_button.clicked.connect(self._on_cancel)
        self._started = time.monotonic()
        self._staged = False
        # The strip keeps its height when idle: were it to shrink, every plot on the page would resize, autorange
        # and repaint in the very pass that shows a finished job's results.
        for w in (self.bar, self.cancel_button):
            policy = w.sizePolicy()
            policy.setRetainSizeWhenHidden(True)
            w.setSizePolicy(policy)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 2, 8, 2)
        layout.addWidget(self.title)
        layout.addWidget(self.bar, 1)
        layout.addWidget(self.count)
        layout.addWidget(self.eta)
        layout.addWidget(self.cancel_button)
        self.set_idle()

    # -- states -----------------------------------------------------------------------------------------------
    def set_running(self, title: str, staged: bool = False) -> None:
        """``staged``: the job runs several stages one after another (training: images, features, epochs, tests,
        saving), and a stage's time left says nothing of the stages after it: the estimate says so."""
        self._started = time.monotonic()
        self._staged = staged
        self.title.setText(title)
        self.bar.setRange(0, 0)  # busy until the first report says how much there is
        self.count.setText("")
        self.eta.setText("")
        self.cancel_button.setEnabled(True)
        self.cancel_button.setText("Cancel")
        self.bar.setVisible(True)
        self.cancel_button.setVisible(True)

    def set_idle(self, message: str = "Ready") -> None:
        self.title.setText(message)
        # Hidden first: a visible QProgressBar repaints synchronously when its range resets, and that repaint paints
        # the window's other pending updates too (the finished model's pages) within this very call.
        self.bar.setVisible(False)
        self.bar.setRange(0, 1)
        self.bar.setValue(0)
        self.count.setText("")
        self.eta.setText("")
        self.cancel_button.setVisible(False)

    def show_progress(self, p: Progress) -> None:
        label = stage_title(p.stage)
        self.title.setText(f"{label}: {p.message}" if p.message and len(p.message) < 40 else label)
        if p.total:
            self.bar.setRange(0, int(p.total))
            self.bar.setValue(int(min(p.done, p.total)))
            self.count.setText(f"{p.done} / {p.total}")
        else:
            self.bar.setRange(0, 0)
            self.count.setText(str(p.done) if p.done else "")
        if p.eta_s is not None and p.done < p.total:
            where = " in this stage" if self._staged else ""
            self.eta.setText(f"about {format_seconds(p.eta_s)} left{where}")
            self.eta.setToolTip("The stages after this one (testing, the robustness report, saving) take more "
                                "time; early stopping may end training sooner." if self._staged else "")
        else:  # no estimate yet (or none possible): say how long it has run
            self.eta.setText(f"{format_seconds(time.monotonic() - self._started)} so far")

    def _on_cancel(self) -> None:
        self.cancel_button.setEnabled(False)
        self.cancel_button.setText("Cancelling…")
        self.cancel_requested.emit()
