"""The Live page: listen to a microphone with the current model, see the scrolling spectrogram, the level, who is
speaking (top-k, timeline, latency) and record new samples straight into a class (Teachable Machine style).

All audio and inference run in ``LiveWorker`` (qt/live_worker.py); this page shows state and sends requests.
The model and its loaded bundle come from ``AppState`` (ui/state.py: this page follows its signals and asks it to
load the model, it keeps no copy); the main window tells it the project's classes (``set_classes``); it hears
back ``sample_recorded(Path)`` (re-scan the data), ``background_class_requested()`` (create the
``_background_noise_`` class, then call ``set_classes`` again), ``open_model_requested``, ``train_page_requested``
and ``message(kind, text)``.
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

from audionet_gui.core.answers import NO_SPEECH, NOT_A_CLASS, SILENCE, UNKNOWN
from audionet_gui.qt.live_worker import LiveWorker
from audionet_gui.ui.pages.identify_panel import SpeakerTimeline, TopKBars
from audionet_gui.ui.settings_store import SettingsStore, as_store
from audionet_gui.ui.state import AppState, ModelInfo
from audionet_gui.ui.theme import error_text_style, muted_text_style, series_color, warning_text_style
from audionet_gui.ui.widgets.level_meter import LevelMeter
from audionet_gui.ui.widgets.record_box import RecordBox, record_targets  # noqa: F401 - record_targets for the window
from audionet_gui.ui.widgets.scrolling_spectrogram import ScrollingSpectrogram

DEFAULT_DEVICE = ""  # the combo's data for "the system's default input"
TIMELINE_SPAN_S = 60.0
NO_MODEL_TEXT = "No model yet: train one on the Train page, or open a saved model folder."


NO_MODEL_THRESHOLD = 0.5  # the slider's place without a model (LiveConfig's default)


class LivePanel(QWidget):
    sample_recorded = Signal(object)          # Path of the new WAV in a class folder
    background_class_requested = Signal()     # please add a _background_noise_ class with a folder
    open_model_requested = Signal()
    train_page_requested = Signal()
    message = Signal(str, str)                # (kind, text) for the log: "warning", "error", "info"

    def __init__(self, worker: LiveWorker | None = None, settings: SettingsStore | QSettings | None = None,
                 parent: QWidget | None = None, state: AppState | None = None):
        super().__init__(parent)
        self.worker = worker or LiveWorker(self)
        self.store = as_store(settings)
        self.settings = self.store.qsettings
        self.state = state if state is not None else AppState(parent=self)  # alone (tests): a state of its own
        self.colors: dict[str, str] = {}
        self.listening = False
        self._starting = False  # Start was pressed and the state is loading the model
        self._listening_path: str | None = None  # the model listened with (or being loaded to listen)
        self._latencies: list[float] = []
        self._build()
        self._connect_worker()
        self.refresh_devices()
        self.show_model(self.state.model)
        self.set_classes([])
        self.state.project_changed.connect(self.reset)
        self.state.model_changed.connect(self.show_model)
        self.state.bundle_changed.connect(self._on_bundle)
        self.state.bundle_failed.connect(self._on_bundle_failed)

    # -- the state's model ---------------------------------------------------------------------------------------------
    @property
    def model_path(self) -> str | None:
        model = self.state.model
        return model.path if model is not None else None

    @property
    def labels(self) -> list[str]:
        model = self.state.model
        return list(model.labels) if model is not None else []

    @property
    def bundle(self):
        return self.state.bundle

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
        self.threshold.setToolTip(f"Under this confidence the answer is '{UNKNOWN}' (the model's calibrated value "
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

        self.recorder = RecordBox(self.store)
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

    # -- from the state ------------------------------------------------------------------------------------------------
    def show_model(self, model: ModelInfo | None) -> None:
        """The project's model changed (None: no model): a different one stops the listening."""
        path = model.path if model is not None else None
        if (self.listening or self._starting) and self._listening_path != path:
            self.stop_listening()
        labels = list(model.labels) if model is not None else []
        self.colors = {lab: series_color(i) for i, lab in enumerate(labels)}
        self.colors[UNKNOWN] = "#9e9e9e"
        self.colors[SILENCE] = self.colors[NO_SPEECH] = "#d0d0d0"
        self.model_label.setText(model.description() if model is not None else NO_MODEL_TEXT)
        self.go_train.setVisible(model is None)
        if model is not None and model.threshold is not None:
            self.set_threshold_value(model.threshold)
        elif model is None:
            self.set_threshold_value(NO_MODEL_THRESHOLD)  # nothing of the last project's model stays
        self._update_buttons()

    def reset(self, *_args) -> None:
        """Another project: stop, and nothing of the last session stays (answer, bars, timeline, messages)."""
        self.stop_listening()
        self.answer.setText("—")
        self.answer_note.setText("")
        self.bars.set_items([])
        self.latency.setText("latency: –")
        self._latencies.clear()
        self.timeline.set_segments([], [], {})
        self.warning.hide()
        self._show_status("")
        self.recorder.reset()
        self.show_model(self.state.model)

    def set_model(self, path: str | None, labels: Sequence[str] = (), threshold: float | None = None) -> None:
        """Make ``path`` the model (for a page used on its own; in the app the window sets the state's model)."""
        self.state.set_model(ModelInfo(str(path), tuple(labels), {}, threshold) if path else None)

    def set_bundle(self, bundle) -> None:
        """A loaded ``ModelBundle``: listen with it without loading it again (it goes to the state)."""
        self.state.set_bundle(bundle)

    def set_classes(self, targets: Sequence[tuple[str, str | None]]) -> None:
        """(class name, folder or None) pairs, e.g. ``record_targets(project)``: where recordings can go."""
        self.recorder.set_classes(targets)

    def set_threshold_value(self, threshold: float) -> None:
        self.threshold.setValue(int(round(100 * float(threshold))))
        self._threshold_moved(self.threshold.value())

    # -- devices -----------------------------------------------------------------------------------------------------
    def refresh_devices(self) -> None:
        wanted = self.store.live_device
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
        self.store.live_device = self.device_combo.currentData() or DEFAULT_DEVICE
        if self.listening:
            self.start_listening()  # switch to the new device now

    # -- listening ---------------------------------------------------------------------------------------------------
    def toggle_listening(self) -> None:
        if self.listening or self._starting:
            self.stop_listening()
        else:
            self.start_listening()

    def start_listening(self) -> None:
        if self.state.model is None:
            self._show_status(NO_MODEL_TEXT, error=True)
            self.go_train.show()
            return
        self.warning.hide()
        self._listening_path = self.model_path
        bundle = self.state.request_bundle()  # the one loader: the state's
        if bundle is None:
            self._starting = True
            self._show_status(f"Loading the model {Path(self.model_path).name}…")
            self.start_button.setText("Stop")
            return
        self._starting = False
        self._show_status("Starting the microphone and warming up the model…")
        self.start_button.setText("Stop")
        self._latencies.clear()
        try:
            self.worker.start_listening(bundle, device=self.chosen_device())
        except Exception as exc:
            self._on_failed(str(exc))

    def _on_bundle(self, bundle) -> None:
        if bundle is not None:
            self.set_threshold_value(bundle.unknown_threshold)
            if self._starting:
                self.start_listening()
        elif self.listening:
            self.stop_listening()  # the model was unloaded (e.g. trained again)

    def _on_bundle_failed(self, message: str) -> None:
        if self._starting:
            self._starting = False
            self._on_failed(f"could not load the model: {message}")

    def stop_listening(self) -> None:
        self._starting = False
        self.worker.stop_listening()
        self._on_stopped()

    def _on_started(self, device, warm_up_s: float) -> None:
        self.listening = True
        freqs = self.worker.freqs_hz
        cfg = self.state.bundle.spectrogram_config
        if freqs is not None:
            self.spectrogram.configure(freqs, cfg.hop_length / cfg.sample_rate, cfg,  # drawn as the model sees it
                                       self.state.bundle.window_config.window_s)
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
            self.answer.setText(SILENCE)
            self.answer_note.setText(f"too quiet to tell ({d.level_db:.0f} dBFS)")
        elif d.label == NO_SPEECH:
            self.answer.setText(NO_SPEECH)
            self.answer_note.setText(f"a sound, but nobody speaking ({d.level_db:.0f} dBFS)")
        elif d.label == UNKNOWN:
            self.answer.setText(UNKNOWN)
            best = f"best guess {d.best} at {100 * d.p:.0f} %, " if d.best else ""
            self.answer_note.setText(f"{best}under the {self.threshold.value()} % threshold")
        else:
            self.answer.setText(d.label)
            self.answer_note.setText(f"{100 * d.p:.0f} % sure")
        if d.label in NOT_A_CLASS:
            color = "#8a8a8a"  # readable grey on both themes: "nobody we know" is an answer too, not a class
        self.answer.setStyleSheet(f"color: {color};")
        self.bars.set_items([(lab, float(p)) for lab, p in d.top_k], self.colors)
        self._latencies = (self._latencies + [float(d.latency_ms)])[-20:]
        median = sorted(self._latencies)[len(self._latencies) // 2]
        self.latency.setText(f"latency: {d.latency_ms:.0f} ms (median {median:.0f} ms) · t = {d.t:.1f} s")
        self.show_timeline()

    def show_timeline(self) -> None:
        segments = [(s.start_s, s.end_s, s.label, s.p) for s in self.worker.timeline()]
        lanes = self.labels + [lab for lab in NOT_A_CLASS if lab not in self.labels]
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

    # -- small helpers ------------------------------------------------------------------------------------------------
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
