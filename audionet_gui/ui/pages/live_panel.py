"""The Live page: listen to a microphone with the current model, see the scrolling spectrogram, the level, who is
speaking (top-k, timeline, latency) and record new samples straight into a class (Teachable Machine style).

All audio and inference run in ``LiveWorker`` (qt/live_worker.py); this page shows state and sends requests.
The main window tells it the model (``set_model``, and ``set_bundle`` when it already holds a loaded one) and the
project's classes (``set_classes``); it hears back ``sample_recorded(Path)`` (re-scan the data),
``background_class_requested()`` (create the ``_background_noise_`` class, then call ``set_classes`` again),
``open_model_requested``, ``train_page_requested``, ``bundle_loaded(bundle)`` and ``message(kind, text)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import QSettings, Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from audionet_gui.core.model.bundle import load_bundle
from audionet_gui.qt.job_runner import JobSlot
from audionet_gui.qt.live_worker import LiveWorker
from audionet_gui.ui.pages.identify_panel import UNKNOWN, SpeakerTimeline, TopKBars
from audionet_gui.ui.theme import error_text_style, muted_text_style, series_color, warning_text_style
from audionet_gui.ui.widgets.level_meter import LevelMeter
from audionet_gui.ui.widgets.record_box import RecordBox, record_targets  # noqa: F401 - record_targets for the window
from audionet_gui.ui.widgets.scrolling_spectrogram import ScrollingSpectrogram

SILENCE = "silence"
DEVICE_KEY = "live/device"
DEFAULT_DEVICE = ""  # the combo's data for "the system's default input"
TIMELINE_SPAN_S = 60.0
NO_MODEL_TEXT = "No model yet: train one on the Train page, or open a saved model folder."


class LivePanel(QWidget):
    sample_recorded = Signal(object)          # Path of the new WAV in a class folder
    background_class_requested = Signal()     # please add a _background_noise_ class with a folder
    open_model_requested = Signal()
    train_page_requested = Signal()
    bundle_loaded = Signal(object)            # the ModelBundle this page loaded (the window may keep it)
    message = Signal(str, str)                # (kind, text) for the log: "warning", "error", "info"

    def __init__(self, worker: LiveWorker | None = None, settings: QSettings | None = None,
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.worker = worker or LiveWorker(self)
        self.settings = settings or QSettings()
        self.model_path: str | None = None
        self.bundle = None
        self.labels: list[str] = []
        self.colors: dict[str, str] = {}
        self.listening = False
        self._loader = JobSlot(self, name="live-load-model")  # a newer model or Stop drops an older load
        self._loader.finished.connect(self._on_bundle_loaded)
        self._loader.failed.connect(lambda f: self._on_failed(f"could not load the model: {f.message}"))
        self._latencies: list[float] = []
        self._build()
        self._connect_worker()
        self.refresh_devices()
        self.set_model(None)
        self.set_classes([])

    # -- building --------------------------------------------------------------------------------------------------
    def _build(self) -> None:
        self.model_label = QLabel(NO_MODEL_TEXT)
        self.model_label.setWordWrap(True)
        self.open_model = QPushButton("Open model…")
        self.open_model.clicked.connect(self.open_model_requested)
        self.go_train = QPushButton("Go to Train")
        self.go_train.clicked.connect(self.train_page_requested)
        top = QHBoxLayout()
        top.addWidget(self.model_label, 1)
        top.addWidget(self.go_train)
        top.addWidget(self.open_model)

        self.device_combo = QComboBox()
        self.device_combo.setMinimumWidth(260)
        self.device_combo.setToolTip("The microphone to listen to (host API in brackets); remembered")
        self.device_combo.activated.connect(self._device_chosen)
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.setToolTip("List the input devices again (after plugging one in)")
        self.refresh_button.clicked.connect(self.refresh_devices)
        self.start_button = QPushButton("Start listening")
        self.start_button.setDefault(True)
        self.start_button.clicked.connect(self.toggle_listening)
        self.status = QLabel("")
        self.status.setStyleSheet(muted_text_style())
        devices = QHBoxLayout()
        devices.addWidget(QLabel("Microphone:"))
        devices.addWidget(self.device_combo, 1)
        devices.addWidget(self.refresh_button)
        devices.addWidget(self.start_button)
        self.warning = QLabel("")
        self.warning.setWordWrap(True)
        self.warning.hide()

        self.spectrogram = ScrollingSpectrogram()
        self.spectrogram.setMinimumHeight(180)
        self.meter = LevelMeter()
        hear = QGroupBox("What the microphone hears (the model's spectrogram)")
        h_layout = QVBoxLayout(hear)
        h_layout.addWidget(self.spectrogram, 1)
        level_row = QHBoxLayout()
        level_row.addWidget(QLabel("Level:"))
        level_row.addWidget(self.meter, 1)
        h_layout.addLayout(level_row)

        self.answer = QLabel("—")
        font = self.answer.font()
        font.setPointSizeF(font.pointSizeF() * 2.0)
        font.setBold(True)
        self.answer.setFont(font)
        self.answer_note = QLabel("")
        self.answer_note.setStyleSheet(muted_text_style())
        self.bars = TopKBars(rows=3)
        self.latency = QLabel("latency: –")
        self.latency.setToolTip("From the last sample of a window arriving to its decision (median of the last 20)")
        self.threshold = QSlider(Qt.Horizontal)
        self.threshold.setRange(0, 100)
        self.threshold.setToolTip("Under this confidence the answer is 'unknown' (the model's calibrated value "
                                  "by default)")
        self.threshold.valueChanged.connect(self._threshold_moved)
        self.threshold_value = QLabel("")
        self.threshold_value.setMinimumWidth(44)
        who = QGroupBox("Who is it?")
        w_layout = QVBoxLayout(who)
        w_layout.addWidget(self.answer)
        w_layout.addWidget(self.answer_note)
        w_layout.addWidget(self.bars)
        w_layout.addWidget(self.latency)
        t_row = QHBoxLayout()
        t_row.addWidget(QLabel("Unknown under:"))
        t_row.addWidget(self.threshold, 1)
        t_row.addWidget(self.threshold_value)
        w_layout.addLayout(t_row)
        w_layout.addStretch(1)

        self.timeline = SpeakerTimeline()
        self.timeline.setMinimumHeight(110)
        when = QGroupBox("Who spoke when")
        QVBoxLayout(when).addWidget(self.timeline)

        self.recorder = RecordBox(self.settings)
        self.recorder.record_requested.connect(self.worker.record)
        self.recorder.background_class_requested.connect(self.background_class_requested)

        grid = QGridLayout()
        grid.addWidget(hear, 0, 0)
        grid.addWidget(who, 0, 1)
        grid.addWidget(when, 1, 0)
        grid.addWidget(self.recorder, 1, 1)
        grid.setColumnStretch(0, 3)
        grid.setColumnStretch(1, 2)
        grid.setRowStretch(0, 3)
        grid.setRowStretch(1, 2)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addLayout(devices)
        layout.addWidget(self.status)
        layout.addWidget(self.warning)
        layout.addLayout(grid, 1)

    def _connect_worker(self) -> None:
        w = self.worker
        w.started.connect(self._on_started)
        w.failed.connect(self._on_failed)
        w.stopped.connect(self._on_stopped)
        w.level.connect(self.meter.set_level)
        w.columns.connect(self.spectrogram.append_columns)
        w.frame.connect(self.spectrogram.redraw)  # the worker's one display timer paces the view
        w.decision.connect(self.show_decision)
        w.event.connect(self.show_event)
        w.record_progress.connect(self.recorder.show_progress)
        w.recorded.connect(self._on_recorded)
        w.record_failed.connect(self.recorder.show_failed)

    # -- from the main window ----------------------------------------------------------------------------------------
    def set_model(self, path: str | None, labels: Sequence[str] = (), threshold: float | None = None,
                  description: str | None = None) -> None:
        """The project's current model folder (None: no model). The bundle is loaded when listening starts."""
        path = str(path) if path else None
        if path != self.model_path and self.listening:
            self.stop_listening()
        if self.bundle is not None and str(getattr(self.bundle, "path", "")) != str(path):
            self.bundle = None
        self.model_path = path
        self.labels = list(labels)
        self.colors = {lab: series_color(i) for i, lab in enumerate(self.labels)}
        self.colors[UNKNOWN] = "#9e9e9e"
        self.colors[SILENCE] = "#d0d0d0"
        self.model_label.setText(description or (f"Model: {Path(path).name} ({', '.join(self.labels)})" if path
                                                 else NO_MODEL_TEXT))
        self.go_train.setVisible(path is None)
        if threshold is not None:
            self.set_threshold_value(threshold)
        self._update_buttons()

    def set_bundle(self, bundle) -> None:
        """A loaded ``ModelBundle`` (the window's or this page's): listen with it without loading it again."""
        self.bundle = bundle
        if bundle is None:
            return
        if str(getattr(bundle, "path", "")) != str(self.model_path):
            self.set_model(str(bundle.path), bundle.labels, bundle.unknown_threshold)
        else:
            self.set_threshold_value(bundle.unknown_threshold)

    def set_classes(self, targets: Sequence[tuple[str, str | None]]) -> None:
        """(class name, folder or None) pairs, e.g. ``record_targets(project)``: where recordings can go."""
        self.recorder.set_classes(targets)

    def set_threshold_value(self, threshold: float) -> None:
        self.threshold.setValue(int(round(100 * float(threshold))))
        self._threshold_moved(self.threshold.value())

    # -- devices -----------------------------------------------------------------------------------------------------
    def refresh_devices(self) -> None:
        wanted = str(self.settings.value(DEVICE_KEY, DEFAULT_DEVICE) or DEFAULT_DEVICE)
        self.device_combo.clear()
        self.device_combo.addItem("System default input", DEFAULT_DEVICE)
        devices = self.worker.input_devices()
        for d in devices:
            self.device_combo.addItem(d.label + ("  (default)" if d.is_default else ""), d.key)
        index = self.device_combo.findData(wanted)
        if index < 0:  # remembered but absent: keep it in the list so the choice is not silently lost
            self.device_combo.addItem(f"{wanted} (not connected)", wanted)
            index = self.device_combo.count() - 1
        self.device_combo.setCurrentIndex(index)
        if not devices:
            self.status.setText("No input device found (is a microphone connected, and PortAudio installed?).")

    def chosen_device(self) -> str | None:
        return self.device_combo.currentData() or None

    def _device_chosen(self, _index: int) -> None:
        self.settings.setValue(DEVICE_KEY, self.device_combo.currentData() or DEFAULT_DEVICE)
        if self.listening:
            self.start_listening()  # switch to the new device now

    # -- listening ---------------------------------------------------------------------------------------------------
    def toggle_listening(self) -> None:
        if self.listening or self._loader.is_busy():
            self.stop_listening()
        else:
            self.start_listening()

    def start_listening(self) -> None:
        if not self.model_path and self.bundle is None:
            self._show_status(NO_MODEL_TEXT, error=True)
            self.go_train.show()
            return
        self.warning.hide()
        if self.bundle is None:
            self._load_bundle_then_start()
            return
        self._show_status("Starting the microphone and warming up the model…")
        self.start_button.setText("Stop")
        self._latencies.clear()
        try:
            self.worker.start_listening(self.bundle, device=self.chosen_device())
        except Exception as exc:
            self._on_failed(str(exc))

    def _load_bundle_then_start(self) -> None:
        if self._loader.is_busy():
            return
        self._show_status(f"Loading the model {Path(self.model_path).name}…")
        self.start_button.setText("Stop")
        self._loader.start(load_bundle, self.model_path)

    def _on_bundle_loaded(self, bundle) -> None:
        if str(bundle.path) != str(self.model_path):
            return  # the model changed while loading
        self.bundle = bundle
        self.set_threshold_value(bundle.unknown_threshold)
        self.bundle_loaded.emit(bundle)
        self.start_listening()

    def stop_listening(self) -> None:
        self._loader.cancel()  # a load still running is not used
        self.worker.stop_listening()
        self._on_stopped()

    def _on_started(self, device, warm_up_s: float) -> None:
        self.listening = True
        freqs = self.worker.freqs_hz
        cfg = self.bundle.spectrogram_config
        if freqs is not None:
            self.spectrogram.configure(freqs, cfg.hop_length / cfg.sample_rate)
        self.worker.set_threshold(self.threshold.value() / 100.0)
        name = device.label if device is not None and hasattr(device, "label") else "the default input"
        self._show_status(f"Listening on {name} (model ready in {warm_up_s:.1f} s).")
        self.answer.setText("listening…")
        self._update_buttons()

    def _on_failed(self, message: str) -> None:
        self._show_status(f"Could not listen: {message}", error=True)
        self.message.emit("error", f"Live: {message}")
        self._on_stopped()

    def _on_stopped(self) -> None:
        was = self.listening
        self.listening = False
        self.spectrogram.stop()
        self.meter.reset()
        self.start_button.setText("Start listening")
        if was:
            self._show_status("Stopped.")
        self._update_buttons()

    # -- what the worker reports ---------------------------------------------------------------------------------------
    def show_decision(self, d) -> None:
        color = self.colors.get(d.label, "#9e9e9e")
        if d.label == SILENCE:
            self.answer.setText("silence")
            self.answer_note.setText(f"too quiet to tell ({d.level_db:.0f} dBFS)")
        elif d.label == UNKNOWN:
            self.answer.setText("unknown")
            best = f"best guess {d.best} at {100 * d.p:.0f} %, " if d.best else ""
            self.answer_note.setText(f"{best}under the {self.threshold.value()} % threshold")
        else:
            self.answer.setText(d.label)
            self.answer_note.setText(f"{100 * d.p:.0f} % sure")
        if d.label in (UNKNOWN, SILENCE):
            color = "#8a8a8a"  # readable grey on both themes: "nobody we know" is an answer too, not a class
        self.answer.setStyleSheet(f"color: {color};")
        self.bars.set_items([(lab, float(p)) for lab, p in d.top_k], self.colors)
        self._latencies = (self._latencies + [float(d.latency_ms)])[-20:]
        median = sorted(self._latencies)[len(self._latencies) // 2]
        self.latency.setText(f"latency: {d.latency_ms:.0f} ms (median {median:.0f} ms) · t = {d.t:.1f} s")
        self.show_timeline()

    def show_timeline(self) -> None:
        segments = [(s.start_s, s.end_s, s.label, s.mean_p) for s in self.worker.timeline()]
        lanes = self.labels + [lab for lab in (UNKNOWN, SILENCE) if lab not in self.labels]
        self.timeline.set_segments(segments, lanes, self.colors)
        if segments:
            end = segments[-1][1]
            self.timeline.setXRange(max(0.0, end - TIMELINE_SPAN_S), max(end, 5.0), padding=0.01)

    def show_event(self, kind: str, text: str) -> None:
        if kind == "overflow":
            self.message.emit("warning", f"Live: {text}")
            return
        if kind == "recovered":
            self.warning.setStyleSheet(muted_text_style())
        else:
            self.warning.setStyleSheet(error_text_style() if kind == "error" else warning_text_style())
        self.warning.setText(("⚠ " if kind in ("warning", "error") else "") + text)
        self.warning.show()
        self.message.emit("error" if kind == "error" else "warning" if kind == "warning" else "info", f"Live: {text}")

    def _on_recorded(self, path) -> None:
        self.recorder.show_recorded(Path(path))
        self.sample_recorded.emit(Path(path))

    # -- small helpers ----------------------------------------------------------------------------------------------
    def _update_buttons(self) -> None:
        self.recorder.set_listening(self.listening)

    def _threshold_moved(self, value: int) -> None:
        self.threshold_value.setText(f"{value} %")
        self.worker.set_threshold(value / 100.0)

    def _show_status(self, text: str, error: bool = False) -> None:
        self.status.setStyleSheet(error_text_style() if error else muted_text_style())
        self.status.setText(text)

    def shutdown(self) -> None:
        """Stop the microphone (the window calls this when it closes)."""
        self.stop_listening()
