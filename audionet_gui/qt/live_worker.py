"""Qt adapter for the live engine (``core/live.py``): start/stop/record requests in, signals out. No logic here.

    worker = LiveWorker(parent=window)
    picker.set_devices(LiveWorker.input_devices())      # InputDevice: label to show, key to persist
    worker.decision.connect(panel.show_decision)
    worker.columns.connect(spectrogram_view.append_columns)
    worker.level.connect(meter.set_level)
    worker.event.connect(status_bar.show_event)
    worker.start_listening(bundle, device="USB Mic")     # returns at once; `started` or `failed` follows
    worker.set_threshold(0.7)                            # any time
    worker.record("data/alice", 3.0)                     # `recorded(path)` or `record_failed(message)` follows
    worker.stop_listening()                              # `stopped` follows

Signals (all delivered on the thread that created the worker, normally the GUI thread, via queued connections):

- ``started(InputDevice, float)``: listening; the device actually opened (may differ from the one asked for,
  see ``event``) and the model's warm-up time in seconds.
- ``failed(str)``: could not start (no input device, the device cannot be opened, the model cannot run).
  Nothing is running afterwards.
- ``stopped()``: after ``stop_listening`` (or ``failed``), once the input is closed.
- ``level(LevelReading)``: about 50 times a second: ``rms_db``, ``peak_db`` (dBFS), ``clipped``, ``t``.
- ``columns(np.ndarray, float)``: new spectrogram columns, (bins, k) float32 dB re full scale (the model's own
  ``SpectrogramConfig``: mel bands, low frequency in row 0), and the stream time in seconds of the first
  column's centre; columns are ``hop_length / sample_rate`` apart (10 ms by default, so 100 columns a second).
  30 to 50 calls a second with 2 to 4 columns each (the resampler hands out a 44.1/48 kHz device's audio in
  ~30 ms pieces): a view appends them and redraws on its own timer (>= 25 frames/s), scrolling by ``t0`` for
  smooth motion. The row frequencies are ``worker.freqs_hz`` once started.
- ``decision(LiveDecision)``: every hop (0.5 s) once a full window was heard: ``t``, ``label`` (a class,
  "unknown" or "silence"), ``p``, ``top_k`` [(label, p)], ``best``, ``latency_ms``, ``level_db``, ``gate``.
  ``worker.timeline()`` gives the running who-spoke-when segments.
- ``event(str, str)``: (kind, message) for the user: "warning" (chosen device missing, default used),
  "error" (device lost - reconnecting -, classifier failed), "recovered", "overflow".
- ``record_progress(Progress)``, ``recorded(Path)``, ``record_failed(str)``: a recording into a class folder.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Signal

from audionet_gui.core.live.devices import NoInputDeviceError, list_input_devices
from audionet_gui.core.live.engine import LiveConfig, LiveEngine, engine_for_bundle
from audionet_gui.core.live.recorder import record_into_class
from audionet_gui.qt.job_runner import JobRunner


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
    decision = Signal(object)
    event = Signal(str, str)
    record_progress = Signal(object)
    recorded = Signal(object)
    record_failed = Signal(str)

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self.engine: LiveEngine | None = None
        self._starter: JobRunner | None = None
        self._recorder: JobRunner | None = None

    # --- requests --------------------------------------------------------------------------------------------
    def start_listening(self, bundle, device=None, config: LiveConfig | None = None, classifier=None) -> None:
        """Listen with a loaded ``ModelBundle`` on ``device`` (id, name, None = default)."""
        engine = engine_for_bundle(bundle, device=device, classifier=classifier, config=config, **self._callbacks())
        self.start_engine(engine)

    def start_engine(self, engine: LiveEngine) -> None:
        """Start a ready-made engine (its callbacks are replaced by this worker's signals)."""
        self.stop_listening()
        for name, callback in self._callbacks().items():
            setattr(engine, name, callback)
        self.engine = engine
        self._starter = JobRunner(_start_engine, engine, parent=self, name="live-start")
        self._starter.finished.connect(lambda seconds: self._on_started(engine, seconds))
        self._starter.failed.connect(self._on_start_failed)
        self._starter.start()

    def stop_listening(self) -> None:
        engine, self.engine = self.engine, None
        if self._starter is not None:
            self._starter.wait()
            self._starter = None
        if self._recorder is not None:
            self._recorder.cancel()
            self._recorder.wait()
            self._recorder = None
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
        if self._recorder is not None and self._recorder.is_running():
            self.record_failed.emit("a recording is already running")
            return
        self._recorder = JobRunner(record_into_class, Path(class_dir), seconds, engine=self.engine, stem=stem,
                                   parent=self, name="live-record")
        self._recorder.progress.connect(self.record_progress)
        self._recorder.finished.connect(self.recorded)
        self._recorder.failed.connect(lambda failure: self.record_failed.emit(str(failure)))
        self._recorder.cancelled.connect(lambda: self.record_failed.emit("recording cancelled"))
        self._recorder.start()

    def cancel_recording(self) -> None:
        if self._recorder is not None:
            self._recorder.cancel()

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
        return self._recorder is not None and self._recorder.is_running()

    @property
    def freqs_hz(self):
        return None if self.engine is None else self.engine.freqs_hz

    def timeline(self) -> list:
        return self.engine.timeline.segments() if self.engine is not None else []

    # --- plumbing --------------------------------------------------------------------------------------------
    def _callbacks(self) -> dict:
        # Engine threads emit; Qt queues each signal to the receivers' (GUI) thread.
        return {"on_decision": self.decision.emit, "on_level": self.level.emit,
                "on_columns": self.columns.emit, "on_event": self.event.emit}

    def _on_started(self, engine: LiveEngine, seconds: float) -> None:
        if engine is self.engine:  # not stopped meanwhile
            self.started.emit(getattr(engine.source, "device", None), float(seconds))

    def _on_start_failed(self, failure) -> None:
        engine, self.engine = self.engine, None
        if engine is not None:
            engine.stop()
        self.failed.emit(str(failure))
        self.stopped.emit()
