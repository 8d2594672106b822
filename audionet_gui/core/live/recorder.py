"""Recording samples from the microphone straight into a class folder (Teachable Machine style).

The WAV appears in the class folder in one step and never replaces a file that is already there: it is written
under a hidden temporary name (not ending in .wav, so a dataset scan running meanwhile ignores it), then
hard-linked to a free name (``os.link`` fails instead of overwriting), then the temporary name is removed.

``BACKGROUND_CLASS`` ("_background_noise_", the folder name Google's Speech Commands and Teachable Machine use)
is where ``record_background_noise`` puts room noise, so a model learns what "nobody speaking" sounds like.
"""

from __future__ import annotations

import os
import re
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import numpy as np
import soundfile as sf

from audionet_gui.core.base.errors import AudioNetError
from audionet_gui.core.base.jobs import CancelToken, ProgressCallback, ProgressTracker, ensure_token
from audionet_gui.core.data.dataset import BACKGROUND_CLASS
from audionet_gui.core.live.input import MicrophoneSource

PathLike = str | Path


class RecordingError(AudioNetError):
    """Nothing usable was recorded (no audio arrived from the input)."""


def _safe_stem(text: str) -> str:
    stem = re.sub(r"[^\w.-]+", "_", text.strip()).strip("._")
    return stem or "recording"


def save_recording(samples: np.ndarray, sample_rate: int, class_dir: PathLike, stem: str | None = None,
                   subtype: str = "PCM_16") -> Path:
    """Write ``samples`` as a new WAV in ``class_dir`` (created if needed) and return its path.

    The name is ``<stem>.wav`` (default: ``<class>_<date>-<time>``), or ``<stem>_2.wav``, ... when taken.
    """
    class_dir = Path(class_dir)
    class_dir.mkdir(parents=True, exist_ok=True)
    samples = np.asarray(samples, dtype=np.float32).reshape(-1)
    if samples.size == 0:
        raise RecordingError("nothing was recorded: no audio arrived from the input")
    if stem is None:
        stem = f"{class_dir.name}_{datetime.now().strftime('%Y%m%d-%H%M%S')}"
    stem = _safe_stem(stem)
    fd, tmp_name = tempfile.mkstemp(prefix=".recording-", suffix=".partial", dir=class_dir)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        with open(tmp, "wb") as fh:
            sf.write(fh, np.clip(samples, -1.0, 1.0), int(sample_rate), subtype=subtype, format="WAV")
            fh.flush()
            os.fsync(fh.fileno())
        return _link_to_free_name(tmp, class_dir, stem)
    finally:
        tmp.unlink(missing_ok=True)


def _link_to_free_name(tmp: Path, class_dir: Path, stem: str) -> Path:
    for n in range(1, 10000):
        target = class_dir / (f"{stem}.wav" if n == 1 else f"{stem}_{n}.wav")
        if os.path.lexists(target):  # anything by that name (a dangling link, a pipe) is never written through
            continue
        try:
            os.link(tmp, target)  # atomic, and refuses to replace an existing name
            return target
        except FileExistsError:
            continue  # someone took the name between exists() and link()
        except OSError:
            # a file system without hard links: reserve the name exclusively, then replace our own placeholder
            try:
                fd = os.open(target, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            except FileExistsError:
                continue
            os.close(fd)
            os.replace(tmp, target)
            return target
    raise RecordingError(f"no free file name for {stem}.wav in {class_dir}")


class SampleRecorder:
    """Collects exactly ``n_samples`` from blocks handed to it (``LiveEngine.add_tap`` or a loop), then is done."""

    def __init__(self, n_samples: int):
        self.n_samples = int(n_samples)
        self._blocks: list[np.ndarray] = []
        self._count = 0
        self._lock = threading.Lock()
        self.done = threading.Event()

    @property
    def count(self) -> int:
        return self._count

    def __call__(self, block: np.ndarray) -> None:
        with self._lock:
            if self.done.is_set():
                return
            need = self.n_samples - self._count
            block = np.asarray(block, dtype=np.float32).reshape(-1)[:need]
            self._blocks.append(block.copy())
            self._count += block.size
            if self._count >= self.n_samples:
                self.done.set()

    def samples(self) -> np.ndarray:
        with self._lock:
            return np.concatenate(self._blocks) if self._blocks else np.zeros(0, dtype=np.float32)


def record_samples(seconds: float, source=None, device=None, sample_rate: int = 16000,
                   progress: ProgressCallback | None = None, cancel: CancelToken | None = None,
                   on_event: Callable[[str, str], None] | None = None, poll_s: float = 0.02) -> np.ndarray:
    """Record ``seconds`` of mono audio at ``sample_rate`` from ``source`` (a started or not-yet-started live
    source) or else from ``device`` (id, name or None for the default input). Cancel keeps nothing."""

    if seconds <= 0:
        raise ValueError(f"recording length must be positive, got {seconds}")
    cancel = ensure_token(cancel)
    own = source is None
    if own:
        source = MicrophoneSource(device, sample_rate=sample_rate, on_event=on_event)
    if int(source.sample_rate) != int(sample_rate):
        raise ValueError(f"the source delivers {source.sample_rate} Hz, not {sample_rate} Hz")
    recorder = SampleRecorder(int(round(seconds * sample_rate)))
    tracker = ProgressTracker(progress, "record", recorder.n_samples, min_interval_s=0.1)
    if own:
        source.start()
    try:
        source.read()  # start from now: drop whatever was buffered before the call
        deadline = time.monotonic() + seconds + max(5.0, seconds)  # a stream that dies must not hang us
        while not recorder.done.is_set():
            cancel.raise_if_cancelled()
            chunk = source.read()
            if chunk.samples.size:
                before = recorder.count
                recorder(chunk.samples)
                tracker.advance(recorder.count - before)
            elif time.monotonic() > deadline:
                break
            else:
                time.sleep(poll_s)
    finally:
        if own:
            source.stop()
    samples = recorder.samples()
    if samples.size < recorder.n_samples:
        raise RecordingError(f"the input delivered only {samples.size / sample_rate:.1f} s of {seconds:g} s")
    return samples


def record_from_engine(engine, seconds: float, progress: ProgressCallback | None = None,
                       cancel: CancelToken | None = None, poll_s: float = 0.02) -> np.ndarray:
    """Record ``seconds`` from a running ``LiveEngine`` (its input stays open and the live view keeps going)."""
    if seconds <= 0:
        raise ValueError(f"recording length must be positive, got {seconds}")
    cancel = ensure_token(cancel)
    recorder = SampleRecorder(int(round(seconds * engine.sample_rate)))
    tracker = ProgressTracker(progress, "record", recorder.n_samples, min_interval_s=0.1)
    engine.add_tap(recorder)
    try:
        deadline = time.monotonic() + seconds + max(5.0, seconds)
        reported = 0
        while not recorder.done.wait(poll_s):
            cancel.raise_if_cancelled()
            if recorder.count > reported:
                tracker.advance(recorder.count - reported)
                reported = recorder.count
            elif time.monotonic() > deadline and not engine.running:
                break
    finally:
        engine.remove_tap(recorder)
    tracker.advance(recorder.count - reported, force=True)
    samples = recorder.samples()
    if samples.size < recorder.n_samples:
        raise RecordingError(f"the input delivered only {samples.size / engine.sample_rate:.1f} s of {seconds:g} s")
    return samples


def record_into_class(class_dir: PathLike, seconds: float, device=None, sample_rate: int = 16000, source=None,
                      engine=None, stem: str | None = None, progress: ProgressCallback | None = None,
                      cancel: CancelToken | None = None,
                      on_event: Callable[[str, str], None] | None = None) -> Path:
    """Record ``seconds`` and save them as a new WAV in ``class_dir``; returns its path.

    From a running ``engine`` when given (at its rate), else from ``source``, else from ``device`` (opened for
    the recording and closed after it)."""
    if engine is not None:
        samples = record_from_engine(engine, seconds, progress=progress, cancel=cancel)
        sample_rate = engine.sample_rate
    else:
        samples = record_samples(seconds, source=source, device=device, sample_rate=sample_rate,
                                 progress=progress, cancel=cancel, on_event=on_event)
    return save_recording(samples, sample_rate, class_dir, stem)


def record_background_noise(dataset_root: PathLike, seconds: float = 10.0, **kwargs) -> Path:
    """Record room noise (nobody speaking) into ``<dataset_root>/_background_noise_``."""
    return record_into_class(Path(dataset_root) / BACKGROUND_CLASS, seconds, **kwargs)
