"""Qt adapter for the live engine (``core/live/engine.py``): start/stop/record requests in, signals out. No logic here.

    worker = LiveWorker(parent=window)
    picker.set_devices(LiveWorker.input_devices())      # InputDevice: label to show, key to persist
    worker.decision.connect(panel.show_decision)
    worker.columns.connect(spectrogram_view.append_columns)
    worker.level.connect(meter.set_level)
    worker.frame.connect(spectrogram_view.redraw)
    worker.event.connect(status_bar.show_event)
    worker.start_listening(bundle, device="USB Mic")     # returns at once; `started` or `failed` follows
    worker.set_threshold(0.7)                            # any time
    worker.record("data/alice", 3.0)                     # `recorded(path)` or `record_failed(message)` follows
    worker.stop_listening()                              # `stopped` follows

No signal is emitted from an audio thread. The engine writes what there is to show into its ``feed`` (bounded,
thread-safe buffers); ONE display timer here (``display_timer``, ``DISPLAY_FPS`` a second, Friture's pattern)
pulls from it on the GUI thread and emits, per frame: at most one ``columns``, at most one ``level``, the new
``decision``s and ``event``s, then ``frame`` (time to redraw).

Signals (all emitted on the thread that created the worker, normally the GUI thread):

- ``started(InputDevice, float)``: listening; the device actually opened (may differ from the one asked for,
  see ``event``) and the model's warm-up time in seconds.
- ``failed(str)``: could not start (no input device, the device cannot be opened, the model cannot run).
  Nothing is running afterwards.
- ``stopped()``: after ``stop_listening`` (or ``failed``), once the input is closed.
- ``level(LevelReading)``: once a frame: the loudest reading since the last frame (``rms_db``, ``peak_db`` dBFS,
  ``clipped`` if any block clipped, ``t`` of the latest).
- ``columns(np.ndarray, float)``: the spectrogram columns since the last frame, (bins, k) float32 dB re full scale
  (the model's own ``SpectrogramConfig``: low frequency in row 0), and the stream time in seconds of the first
  column's centre; columns are ``hop_length / sample_rate`` apart (10 ms by default, so about 3 per frame). The
  row frequencies are ``worker.freqs_hz`` once started.
- ``frame()``: after each display tick's signals, while listening: a view redraws now.
- ``decision(LiveDecision)``: every hop (0.5 s) once a full window was heard: ``t``, ``label`` (a class,
  "unknown" or "silence"), ``p``, ``top_k`` [(label, p)], ``best``, ``latency_ms``, ``level_db``, ``gate``.
  ``worker.timeline()`` gives the running who-spoke-when segments.
- ``event(str, str)``: (kind, message) for the user: "warning" (chosen device missing, default used),
  "error" (device lost - reconnecting -, classifier failed), "recovered", "overflow".
- ``record_progress(Progress)``, ``recorded(Path)``, ``record_failed(str)``: a recording into a class folder.

Starting the engine and recording run as ``JobSlot`` jobs (qt/job_runner.py): a new start or a stop drops what
an older start still reports, by the app's one rule for stale results.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Qt, QTimer, Signal

from audionet_gui.core.live.devices import NoInputDeviceError, list_input_devices
from audionet_gui.core.live.engine import LiveConfig, LiveEngine, engine_for_bundle
from audionet_gui.core.live.recorder import record_into_class
from audionet_gui.qt.job_runner import JobFailure, JobSlot

DISPLAY_FPS = 30


def _start_engine(engine: LiveEngine) -> float:
    seconds = engine.warm_up()  # seconds of model loading/compiling, off the GUI thread
    engine.start()
    return seconds


class LiveWorker(QObject):
    started = Signal(object, float)
    failed = Signal(str)
    stopped = Signal()
    level = Signal(object)
    columns = Signal(object, float)
    frame = Signal()
    decision = Signal(object)
    event = Signal(str, str)
    record_progress = Signal(object)
    recorded = Signal(object)
    record_failed = Signal(str)

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self.engine: LiveEngine | None = None
        self.display_timer = QTimer(self)
        self.display_timer.setTimerType(Qt.PreciseTimer)  # a coarse timer may fire up to 5 % late: fewer frames
        self.display_timer.setInterval(int(1000 / DISPLAY_FPS))
        self.display_timer.timeout.connect(self.pull)
        self._starter = JobSlot(self, name="live-start")
        self._starter.finished.connect(self._on_started)
        self._starter.failed.connect(self._on_start_failed)
        self._recorder = JobSlot(self, name="live-record")
        self._recorder.progress.connect(self.record_progress)
        self._recorder.finished.connect(self.recorded)
        self._recorder.failed.connect(lambda failure: self.record_failed.emit(str(failure)))
        self._recorder.cancelled.connect(lambda: self.record_failed.emit("recording cancelled"))

    # --- requests --------------------------------------------------------------------------------------------
    def start_listening(self, bundle, device=None, config: LiveConfig | None = None, classifier=None) -> None:
        """Listen with a loaded ``ModelBundle`` on ``device`` (id, name, None = default)."""
        engine = engine_for_bundle(bundle, device=device, classifier=classifier, config=config)
        self.start_engine(engine)

    def start_engine(self, engine: LiveEngine) -> None:
        """Start a ready-made engine (this worker reads its feed; its callbacks are switched off)."""
        self.stop_listening()
        for name in ("on_decision", "on_level", "on_columns", "on_event"):
            setattr(engine, name, None)
        self.engine = engine
        self.display_timer.start()  # events of the start itself (device fallback) are shown too
        self._starter.start(_start_engine, engine)

    def stop_listening(self) -> None:
        engine, self.engine = self.engine, None
        self._starter.shutdown(30.0)  # a start in progress ends first, then the engine is stopped
        self._recorder.shutdown(10.0)
        self.display_timer.stop()
        if engine is not None:
            engine.stop()
            self.stopped.emit()

    def set_threshold(self, threshold: float) -> None:
        if self.engine is not None:
            self.engine.set_threshold(threshold)

    def record(self, class_dir, seconds: float, stem: str | None = None) -> None:
        """Record ``seconds`` from the running input into ``class_dir`` as a new WAV (never over a file)."""

        if self.engine is None or not self.engine.running:
            self.record_failed.emit("start listening before recording")
            return
        if self._recorder.is_busy():
            self.record_failed.emit("a recording is already running")
            return
        self._recorder.start(record_into_class, Path(class_dir), seconds, engine=self.engine, stem=stem)

    def cancel_recording(self) -> None:
        self._recorder.cancel()

    # --- the display timer -------------------------------------------------------------------------------------
    def pull(self) -> None:
        """Take what the engine buffered since the last frame and show it (the display timer calls this)."""
        engine = self.engine
        if engine is None:
            return
        frame = engine.feed.take()
        for kind, message in frame.events:
            self.event.emit(kind, message)
        if frame.columns is not None:
            self.columns.emit(frame.columns, frame.t0)
        if frame.level is not None:
            self.level.emit(frame.level)
        for decision in frame.decisions:
            self.decision.emit(decision)
        if engine.running:
            self.frame.emit()

    # --- state -----------------------------------------------------------------------------------------------
    @staticmethod
    def input_devices() -> list:
        """The input devices for a picker (``InputDevice``: id, name, hostapi, is_default, ``label``, ``key`` to
        persist the choice); empty when there is none or no PortAudio."""

        try:
            return list_input_devices()
        except NoInputDeviceError:
            return []

    @property
    def listening(self) -> bool:
        """An input is open and decisions are coming (False while starting up)."""
        return self.engine is not None and self.engine.running

    @property
    def recording(self) -> bool:
        return self._recorder.is_busy()

    @property
    def freqs_hz(self):
        return None if self.engine is None else self.engine.freqs_hz

    def timeline(self) -> list:
        return self.engine.timeline.segments() if self.engine is not None else []

    # --- plumbing --------------------------------------------------------------------------------------------
    def _on_started(self, seconds: float) -> None:
        engine = self.engine
        if engine is not None:
            self.started.emit(getattr(engine.source, "device", None), float(seconds))

    def _on_start_failed(self, failure: JobFailure) -> None:
        engine, self.engine = self.engine, None
        self.display_timer.stop()
        if engine is not None:
            self._pull_events(engine)
            engine.stop()
        self.failed.emit(str(failure))
        self.stopped.emit()

    def _pull_events(self, engine: LiveEngine) -> None:
        for kind, message in engine.feed.take().events:
            self.event.emit(kind, message)
