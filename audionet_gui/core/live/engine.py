"""Live identification from a microphone: the Qt-free engine behind ``audionet listen`` and the live view.

Two threads of its own, so the caller's thread (the GUI's, the CLI's) never waits on audio or on the network:

- the *pump* drains the input's ring buffer every ``tick_s`` (Friture's timer): resamples to the model's rate,
  writes the input level and new spectrogram columns into ``feed``, feeds any recording in progress, and every ``hop_s``
  hands the last ``window_s`` seconds to
- the *inference* thread: silence gate (window RMS under the model's ``silence_db`` => "silence", never a class
  name and no inference), with the model's speech gate the speech detector ("no speech": no inference either),
  the model's exact image (``spectrogram_image``), the classifier, smoothing over the last
  few probability vectors, and the confidence gate (under ``threshold`` => "unknown"). It keeps only the newest
  window when it falls behind, so decisions never lag further and further.

What there is to show (levels, columns, decisions, events) goes into ``feed`` (core/live/feed.py), thread-safe
bounded buffers that a display pulls from on its own timer; the optional callbacks are called as well (the CLI
and tests use them).

The classifier is a plain callable ``images (N, H, W, 3) uint8 -> probabilities (N, C)`` so tests inject their
own; ``classifier_from_bundle`` makes one from a trained model folder.

Everything else in the live package is re-exported here: devices (``live_devices``), input and ring buffer
(``live_input``), decision rules (``live_decisions``), spectrogram columns (``live_spectrogram``) and recording
(``recorder``). The answers (``UNKNOWN``, ``SILENCE``), ranking, unknown gate and timeline are ``core/answers.py``'s,
the same as for files.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from audionet_gui.core.answers import Timeline
from audionet_gui.core.audio.spectrogram import spectrogram_image
from audionet_gui.core.audio.vad import DEFAULT_THRESHOLD, has_speech, window_speech
from audionet_gui.core.audio.windows import rms_db
from audionet_gui.core.live.decisions import (
    LiveDecision,
    ProbabilitySmoother,
    decide,
    no_speech_decision,
    silence_decision,
)
from audionet_gui.core.live.devices import (
    DeviceChoice,
    InputDevice,
    InputStreamError,
    NoInputDeviceError,
    default_input_device,
    find_input_device,
    list_input_devices,
    resolve_input_device,
)
from audionet_gui.core.live.feed import FeedFrame, LiveFeed
from audionet_gui.core.live.input import AudioChunk, MicrophoneSource, PushSource, RingBuffer, StreamResampler
from audionet_gui.core.live.spectrogram import LiveSpectrogram
from audionet_gui.core.model.predict import predict_images

Classifier = Callable[[np.ndarray], np.ndarray]

__all__ = [
    "AudioChunk", "Classifier", "FeedFrame", "InputDevice", "InputStreamError", "LevelReading", "LiveConfig",
    "LiveDecision", "LiveEngine", "LiveFeed", "MicrophoneSource", "NoInputDeviceError", "ProbabilitySmoother",
    "PushSource", "RingBuffer", "StreamResampler", "classifier_from_bundle", "decide",
    "default_input_device", "engine_for_bundle", "find_input_device", "list_input_devices", "live_config_from_bundle",
    "resolve_input_device", "silence_decision",
]


@dataclass
class LiveConfig:
    window_s: float = 2.0
    hop_s: float = 0.5          # a new decision this often (the issue asks for <= 0.5 s)
    silence_db: float = -50.0
    threshold: float = 0.5      # under it the answer is "unknown"; the bundle's calibrated value by default
    smoothing: int = 3          # decisions averaged (probability vectors)
    top_k: int = 3
    tick_s: float = 0.02        # pump period: level and spectrogram columns 50 times a second
    history_s: float = 10.0     # model-rate audio kept for windows and recordings
    speech_gate: bool = False   # the model's speech gate: a window without speech is "no speech", not classified
    speech_threshold: float = DEFAULT_THRESHOLD

    def __post_init__(self) -> None:
        if not 0 < self.hop_s <= 0.5:
            raise ValueError(f"hop must be between 0 and 0.5 s, got {self.hop_s}")
        if not self.window_s > 0:
            raise ValueError(f"window must be positive, got {self.window_s}")
        if not 0.0 <= self.threshold <= 1.0:
            raise ValueError(f"threshold must be between 0 and 1, got {self.threshold}")


@dataclass
class LevelReading:
    t: float          # stream time (s) at the end of the block measured
    rms_db: float     # dBFS, full-scale sine = -3 dB
    peak_db: float    # dBFS of the largest sample
    clipped: bool     # a sample reached full scale


def live_config_from_bundle(bundle, **overrides) -> LiveConfig:
    """The live settings a trained model implies: its window length, silence level and unknown threshold."""
    wcfg = bundle.window_config
    values = dict(window_s=float(wcfg.window_s), silence_db=float(wcfg.silence_db),
                  threshold=float(bundle.unknown_threshold), speech_gate=wcfg.speech_gated,
                  speech_threshold=float(wcfg.speech_threshold))
    values.update({k: v for k, v in overrides.items() if v is not None})
    return LiveConfig(**values)


def classifier_from_bundle(bundle) -> Classifier:
    """The bundle's fast prediction path as a plain callable (images -> probabilities)."""

    def classify(images: np.ndarray) -> np.ndarray:
        return np.asarray(predict_images(bundle, images))

    return classify


def engine_for_bundle(bundle, device: DeviceChoice = None, classifier: Classifier | None = None,
                      config: LiveConfig | None = None, **callbacks) -> LiveEngine:
    """A LiveEngine listening to ``device`` (id, name, None = default) with a trained model folder's settings.

    ``callbacks``: on_decision, on_level, on_columns, on_event (see LiveEngine). Nothing is opened until
    ``start()``."""
    config = config or live_config_from_bundle(bundle)
    source = MicrophoneSource(device, sample_rate=bundle.sample_rate)  # the engine forwards its events
    return LiveEngine(source, classifier or classifier_from_bundle(bundle), bundle.labels,
                      bundle.spectrogram_config, config, **callbacks)


class LiveEngine:
    """Listen to ``source`` and decide who (or what) is heard, every ``hop_s``.

    Everything below is also written to ``feed`` (a display pulls it on its own timer). Callbacks, all optional,
    run on the engine's threads (copy what you need and return quickly):

    - ``on_decision(LiveDecision)`` from the inference thread, every hop once a full window has arrived;
    - ``on_level(LevelReading)`` and ``on_columns(columns_db (bins, k), t0_s)`` from the pump, every tick;
    - ``on_event(kind, message)`` from either: "warning" (device fallback), "error" (device lost, classifier
      failed; the engine keeps going), "recovered", "overflow".

    ``timeline`` holds who spoke when; ``set_threshold`` changes the unknown gate while running.
    """

    def __init__(self, source, classifier: Classifier, labels: Sequence[str], spectrogram_config,
                 config: LiveConfig | None = None,
                 on_decision: Callable[[LiveDecision], None] | None = None,
                 on_level: Callable[[LevelReading], None] | None = None,
                 on_columns: Callable[[np.ndarray, float], None] | None = None,
                 on_event: Callable[[str, str], None] | None = None,
                 compute_columns: bool = True):
        self.source = source
        self.classifier = classifier
        self.labels = list(labels)
        self.spec_cfg = spectrogram_config
        self.config = config or LiveConfig()
        self.sample_rate = int(spectrogram_config.sample_rate)
        if int(getattr(source, "sample_rate", self.sample_rate)) != self.sample_rate:
            raise ValueError(f"the source delivers {source.sample_rate} Hz but the model needs {self.sample_rate} Hz")
        self.on_decision = on_decision
        self.on_level = on_level
        self.on_columns = on_columns
        self.on_event = on_event
        self.threshold = float(self.config.threshold)
        self.decisions_made = 0
        self.windows_skipped = 0    # windows replaced by a newer one before inference got to them

        self._win = max(1, int(round(self.config.window_s * self.sample_rate)))
        self._hop = max(1, int(round(self.config.hop_s * self.sample_rate)))
        self._compute_columns = compute_columns
        self.feed = LiveFeed(column_s=spectrogram_config.hop_length / self.sample_rate)
        self._reset_stream_state()
        self._taps: list[Callable[[np.ndarray], None]] = []
        self._taps_lock = threading.Lock()
        self._job: tuple | None = None
        self._job_cv = threading.Condition()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._reported_errors: set[str] = set()
        self.started_at: float | None = None

    def _reset_stream_state(self) -> None:
        """A fresh listening session: stream time from 0, no audio, no memory of earlier decisions."""
        self._history = RingBuffer(max(self._win, int(self.config.history_s * self.sample_rate)))
        self._spectrogram = None
        if self._compute_columns:

            self._spectrogram = LiveSpectrogram(self.spec_cfg)
        self._smoother = ProbabilitySmoother(self.config.smoothing)
        self._since_window = 0
        self._job = None
        self.timeline = Timeline(self.config.hop_s)
        self.feed.clear()

    # --- control ---------------------------------------------------------------------------------------------
    def start(self) -> None:
        """Open the input (raises NoInputDeviceError / InputStreamError if it cannot) and start both threads.
        Starting again after ``stop`` begins a new session (stream time and timeline from zero)."""
        if self.running:
            return
        if self.decisions_made or self._history.total_written:
            self._reset_stream_state()
        if hasattr(self.source, "on_event") and getattr(self.source, "on_event", None) is None:
            self.source.on_event = self._emit_event
            self._wired_source_events = True
        self.source.start()
        self._stop.clear()
        self.started_at = time.monotonic()
        self._threads = [threading.Thread(target=self._pump_loop, name="live-pump", daemon=True),
                         threading.Thread(target=self._inference_loop, name="live-inference", daemon=True)]
        for th in self._threads:
            th.start()

    def warm_up(self) -> float:
        """Run the classifier once on a blank window so the first live decision does not pay for loading and
        compiling the model; returns the seconds it took. Call before ``start``."""

        t0 = time.monotonic()
        image = spectrogram_image(np.zeros(self._win, dtype=np.float32), self.spec_cfg)
        self.classifier(image[None])
        return time.monotonic() - t0

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        with self._job_cv:
            self._job_cv.notify_all()
        for th in self._threads:
            if th is not threading.current_thread():
                th.join(timeout)
        self._threads = []
        try:
            self.source.stop()
        except Exception:
            pass
        if getattr(self, "_wired_source_events", False):  # break the engine <-> source cycle
            self.source.on_event = None
            self._wired_source_events = False

    @property
    def running(self) -> bool:
        return bool(self._threads) and not self._stop.is_set()

    def set_threshold(self, threshold: float) -> None:
        self.threshold = float(min(max(threshold, 0.0), 1.0))

    @property
    def freqs_hz(self) -> np.ndarray | None:
        """Centre frequency of each row of the ``on_columns`` arrays (None when columns are off)."""
        return None if self._spectrogram is None else self._spectrogram.freqs_hz

    @property
    def stream_time_s(self) -> float:
        return self._history.total_written / self.sample_rate

    def add_tap(self, tap: Callable[[np.ndarray], None]) -> None:
        """Call ``tap(samples)`` with every new block of model-rate samples (on the pump thread)."""
        with self._taps_lock:
            self._taps.append(tap)

    def remove_tap(self, tap: Callable[[np.ndarray], None]) -> None:
        with self._taps_lock:
            if tap in self._taps:
                self._taps.remove(tap)

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()

    # --- pump ------------------------------------------------------------------------------------------------
    def _pump_loop(self) -> None:
        next_tick = time.monotonic()
        while not self._stop.is_set():
            try:
                self.pump_once()
            except Exception as exc:  # a bug in a callback must not kill live input
                self._report_error(f"live input: {type(exc).__name__}: {exc}")
            next_tick += self.config.tick_s
            delay = next_tick - time.monotonic()
            if delay < -1.0:  # we fell far behind (machine busy): don't try to catch up tick by tick
                next_tick = time.monotonic()
            self._stop.wait(max(0.0, delay))

    def pump_once(self) -> int:
        """Drain the source once; returns the number of new samples. Public so tests can step it by hand."""
        chunk = self.source.read()
        x = chunk.samples
        if x.size == 0:
            return 0
        self._history.write(x, chunk.arrival)
        t_end = self._history.total_written / self.sample_rate
        peak = float(np.max(np.abs(x)))
        reading = LevelReading(t_end, rms_db(x), 20.0 * np.log10(max(peak, 1e-10)), peak >= 0.999)
        self.feed.put_level(reading)
        if self.on_level is not None:
            self.on_level(reading)
        if self._spectrogram is not None:
            columns, t0 = self._spectrogram.push(x)
            if columns.shape[1]:
                self.feed.put_columns(columns, t0)
                if self.on_columns is not None:
                    self.on_columns(columns, t0)
        with self._taps_lock:
            taps = list(self._taps)
        for tap in taps:
            tap(x)
        self._since_window += x.size
        if self._since_window >= self._hop and self._history.total_written >= self._win:
            self._since_window %= self._hop  # keep the cadence exact on average (no drift by block sizes)
            window = self._history.latest(self._win)
            self._submit((window, t_end, chunk.arrival if chunk.arrival is not None else time.monotonic()))
        return x.size

    def run_pending(self) -> LiveDecision | None:
        """Decide the window waiting for the inference thread on the caller's thread instead (stepping the engine
        by hand in tests, with ``pump_once``, and the threads not started). None when nothing is waiting."""
        with self._job_cv:
            job, self._job = self._job, None
        if job is None:
            return None
        decision = self.decide_window(*job)
        self._publish(decision)
        return decision

    def _submit(self, job: tuple) -> None:
        with self._job_cv:
            if self._job is not None:
                self.windows_skipped += 1
            self._job = job
            self._job_cv.notify()

    # --- inference -------------------------------------------------------------------------------------------
    def _inference_loop(self) -> None:
        while True:
            with self._job_cv:
                while self._job is None and not self._stop.is_set():
                    self._job_cv.wait(0.5)
                if self._stop.is_set():
                    return
                job, self._job = self._job, None
            try:
                decision = self.decide_window(*job)
            except Exception as exc:
                self._report_error(f"identification failed: {type(exc).__name__}: {exc}")
                continue
            self._publish(decision)

    def decide_window(self, window: np.ndarray, t: float, arrival: float) -> LiveDecision:
        """Gate, classify and smooth one window (on the calling thread). ``arrival``: monotonic time its last
        sample arrived; the decision's latency is measured from it."""
        level = rms_db(window)
        if level < self.config.silence_db:
            self._smoother.reset()  # a voice before the pause must not colour the first window after it
            return silence_decision(t, level, (time.monotonic() - arrival) * 1000.0)
        if self.config.speech_gate:
            share = window_speech(window, self.spec_cfg.sample_rate, self.config.speech_threshold)
            if not has_speech(share):
                self._smoother.reset()  # like silence: the last speaker must not colour the next speech
                return no_speech_decision(t, level, share, (time.monotonic() - arrival) * 1000.0)

        image = spectrogram_image(window, self.spec_cfg)
        probs = np.asarray(self.classifier(image[None]), dtype=np.float64).reshape(-1)
        if probs.size != len(self.labels):
            raise ValueError(f"the classifier gave {probs.size} probabilities for {len(self.labels)} classes")
        smoothed = self._smoother.push(probs)
        return decide(smoothed, self.labels, self.threshold, t, self.config.top_k, level,
                      (time.monotonic() - arrival) * 1000.0)

    def _publish(self, decision: LiveDecision) -> None:
        self.decisions_made += 1
        self.timeline.add(decision)
        self.feed.put_decision(decision)
        if self.on_decision is not None:
            try:
                self.on_decision(decision)
            except Exception as exc:
                self._report_error(f"decision callback: {type(exc).__name__}: {exc}")

    # --- events ----------------------------------------------------------------------------------------------
    def _report_error(self, message: str) -> None:
        if message in self._reported_errors:  # once per distinct problem, not 50 times a second
            return
        self._reported_errors.add(message)
        self._emit_event("error", message)

    def _emit_event(self, kind: str, message: str) -> None:
        self.feed.put_event(kind, message)
        if self.on_event is not None:
            try:
                self.on_event(kind, message)
            except Exception:
                pass
