"""Identify who (or what) is in a file with a model bundle: per-window probabilities, an aggregated top-k,
"unknown" below the bundle's calibrated threshold, and a timeline of who speaks when.

Windows and images are made exactly as in training (``core/windows.py`` + ``spectrogram_image``), streamed in
batches so an hour-long file never holds more than two batches of images; making the images of the next batch
overlaps with the network running on the current one (numpy/librosa and TensorFlow both release the GIL).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from audionet_gui.core.answers import NO_SPEECH, Segment, build_timeline, gate, recording_mean, top_k
from audionet_gui.core.audio.files import audio_info
from audionet_gui.core.audio.spectrogram import spectrogram_image
from audionet_gui.core.audio.vad import has_speech, window_speech
from audionet_gui.core.audio.windows import cut_windows, iter_file_windows
from audionet_gui.core.base.errors import AudioFileError
from audionet_gui.core.base.jobs import CancelToken, ProgressCallback, ProgressTracker, ensure_token
from audionet_gui.core.model.backbones import make_fast_predictor
from audionet_gui.core.model.bundle import ModelBundle, load_bundle
from audionet_gui.core.model.openset import OpenSet, head_parts

DEFAULT_BATCH_SIZE = 32


@dataclass
class FilePrediction:
    file: str
    labels: list[str]
    window_starts: np.ndarray  # (N,) seconds
    window_ends: np.ndarray  # (N,) seconds
    window_probabilities: np.ndarray  # (N, C)
    probabilities: np.ndarray  # (C,) mean over windows (with the speech gate: over the windows with speech)
    label: str  # the top label, "unknown" when its probability is below the threshold, or "no speech"
    p: float  # probability of the top label
    top_k: list[tuple[str, float]]
    timeline: list[Segment]
    threshold: float
    extra: dict = field(default_factory=dict)

    @property
    def windows(self) -> int:
        return int(len(self.window_starts))

    def to_dict(self, include_windows: bool = False) -> dict:
        """JSON-ready: ``file``, ``label``, ``p``, ``probabilities`` (label -> p), ``top_k``, ``timeline``,
        ``windows`` (count), ``unknown_threshold``; with ``include_windows`` also every window's probabilities."""
        out = {
            "file": self.file,
            "label": self.label,
            "p": round(self.p, 4),
            "probabilities": {label: round(float(v), 4) for label, v in zip(self.labels, self.probabilities)},
            "top_k": [{"label": label, "p": round(v, 4)} for label, v in self.top_k],
            "timeline": [s.to_dict() for s in self.timeline],
            "windows": self.windows,
            "unknown_threshold": self.threshold,
        }
        if include_windows:
            out["window_probabilities"] = [
                {"start": round(float(s), 3), "end": round(float(e), 3),
                 "probabilities": [round(float(v), 4) for v in row]}
                for s, e, row in zip(self.window_starts, self.window_ends, self.window_probabilities)
            ]
        return out


# ------------------------------------------------------------------------------------------- images -> probs

def get_predictor(bundle: ModelBundle, batch_size: int = DEFAULT_BATCH_SIZE):
    """The bundle's fast inference callable (images -> probabilities), built once and kept on the bundle, so
    files, evaluation and live identification share one compiled path. With an open-set score in the config
    (core/model/openset.py) the probabilities are its posterior q * softmax."""
    if bundle.model is None:
        raise ValueError(f"{bundle.path}: bundle was loaded without its model")
    if bundle._predictor is None:
        open_set = OpenSet.from_config(bundle.config)
        # the model in two parts where it has them: the open-set posterior needs the backbone's features, and the
        # backbone's predictor is the one its training already made (no second conversion)
        parts = head_parts(bundle.model, batch_size)
        if parts is not None:
            bundle._predictor = lambda x: parts.outputs(parts.extract(x), open_set)[0]
        else:
            bundle._predictor = make_fast_predictor(bundle.model, batch_size)
    return bundle._predictor


def predict_images(bundle: ModelBundle, images: np.ndarray, batch_size: int = DEFAULT_BATCH_SIZE) -> np.ndarray:
    """Probabilities (N, C) for uint8 RGB images (N, H, W, 3) of the bundle's image size (or one (H, W, 3))."""
    images = np.asarray(images)
    if images.ndim == 3:
        images = images[None]
    width, height = bundle.image_size
    if images.ndim != 4 or images.shape[1:] != (height, width, 3):
        raise ValueError(f"images must be (N, {height}, {width}, 3) for this model, got {images.shape}")
    if len(images) == 0:
        return np.zeros((0, len(bundle.labels)), np.float32)
    return np.asarray(get_predictor(bundle, batch_size)(images), dtype=np.float32)


def _batched(items: Iterable, size: int) -> Iterator[list]:
    batch = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def predict_stream(bundle: ModelBundle, items: Iterable[tuple[Any, Any]], batch_size: int = DEFAULT_BATCH_SIZE,
                   cancel: CancelToken | None = None, run: Callable[[np.ndarray], np.ndarray] | None = None,
                   width: int | None = None, speech: Callable[[Any], bool] | None = None,
                   ) -> Iterator[tuple[list, np.ndarray]]:
    """For a stream of ``(tag, Window)`` pairs, yield ``(tags, probabilities)`` batch by batch. With the bundle's
    speech gate, a window without speech is not classified: its row is all zeros (``answers.no_speech_rows``).
    ``run`` (images -> rows of ``width`` values) replaces the bundle's network, e.g. to get features as well;
    ``speech`` (Window -> bool), with the speech gate, answers "does it hold speech" instead of running the speech
    detector on each window (a caller that ran it over the whole file already).

    Windows of many files can share a batch (a folder of half-second clips then runs at full batch size);
    the tag says where each window came from. At most two batches of images exist at a time.
    """

    cancel = ensure_token(cancel)
    spec = bundle.spectrogram_config
    wcfg = bundle.window_config
    rate = bundle.sample_rate

    def make_images(batch):
        """(images of the windows to classify, which windows they are); with the speech gate only windows with
        speech are classified, the others get a row of zeros (``answers.NO_SPEECH``)."""
        keep = [True] * len(batch)
        if wcfg.speech_gated:
            keep = [speech(w) if speech is not None else has_speech(window_speech(w.samples, rate,
                                                                                  wcfg.speech_threshold))
                    for _, w in batch]
        width, height = bundle.image_size
        images = [spectrogram_image(w.samples, spec) for (_, w), k in zip(batch, keep) if k]
        return (np.stack(images) if images else np.zeros((0, height, width, 3), np.uint8)), np.asarray(keep, bool)

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="spectrogram") as pool:
        pending = None  # (batch, future images) being prepared while the network runs on the previous one
        for batch in _batched(items, batch_size):
            cancel.raise_if_cancelled()
            future = pool.submit(make_images, batch)
            if pending is not None:
                yield _run_pending(bundle, pending, batch_size, run, width)
            pending = (batch, future)
        if pending is not None:
            yield _run_pending(bundle, pending, batch_size, run, width)


def _run_pending(bundle: ModelBundle, pending, batch_size: int, run=None, width=None) -> tuple[list, np.ndarray]:
    batch, future = pending
    images, keep = future.result()
    probs = np.zeros((len(batch), width or len(bundle.labels)), np.float32)
    if run is not None:
        if len(images):
            probs[keep] = run(images)
    else:
        probs[keep] = predict_images(bundle, images, batch_size)
    return [(tag, w) for tag, w in batch], probs


def predict_windows(bundle: ModelBundle, windows: Iterable, batch_size: int = DEFAULT_BATCH_SIZE,
                    cancel: CancelToken | None = None,
                    on_batch: Callable[[int], None] | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(starts, ends, probabilities) for a stream of ``Window`` objects, batch by batch; ``on_batch(n)`` is
    called after each batch of ``n`` windows."""
    starts: list[float] = []
    ends: list[float] = []
    probs: list[np.ndarray] = []
    for tagged, batch_probs in predict_stream(bundle, ((None, w) for w in windows), batch_size, cancel):
        starts.extend(w.start_s for _, w in tagged)
        ends.extend(w.end_s for _, w in tagged)
        probs.append(batch_probs)
        if on_batch is not None:
            on_batch(len(tagged))
    n_classes = len(bundle.labels)
    all_probs = np.concatenate(probs) if probs else np.zeros((0, n_classes), np.float32)
    return np.asarray(starts, np.float64), np.asarray(ends, np.float64), all_probs


# ------------------------------------------------------------------------------------------------- decisions

def prediction_from_windows(bundle: ModelBundle, file: str, starts: np.ndarray, ends: np.ndarray,
                            probabilities: np.ndarray, k: int = 3) -> FilePrediction:
    labels = bundle.labels
    threshold = bundle.unknown_threshold
    mean = recording_mean(probabilities)
    label, p, _ = gate(mean, labels, threshold)
    if not mean.any():  # no window with speech (speech gate): the recording's answer is "no speech"
        label, p = NO_SPEECH, 0.0
    hop_s = bundle.window_config.hop_s
    return FilePrediction(
        file=file, labels=list(labels), window_starts=starts, window_ends=ends,
        window_probabilities=probabilities, probabilities=mean,
        label=label, p=p, top_k=top_k(mean, labels, k),
        timeline=build_timeline(starts, ends, probabilities, labels, threshold, hop_s), threshold=threshold)


def predict_file(bundle: ModelBundle, path: str | Path, top_k: int = 3,
                 batch_size: int = DEFAULT_BATCH_SIZE, progress: ProgressCallback | None = None,
                 cancel: CancelToken | None = None) -> FilePrediction:
    """Identify one audio file. Raises ``AudioFileError`` (naming the file) when it cannot be read or decoded.
    Progress stage "predicting" counts windows (the total is estimated from the file's duration)."""

    window_cfg = bundle.window_config
    total = 0
    if progress is not None:
        try:
            duration = audio_info(path).duration_s
            total = max(1, int(np.ceil(max(duration - window_cfg.window_s, 0.0) / window_cfg.hop_s)) + 1)
        except AudioFileError:
            pass  # decoding below raises the real error
    tracker = ProgressTracker(progress, "predicting", total)
    windows = iter_file_windows(path, bundle.sample_rate, window_cfg)
    starts, ends, probs = predict_windows(bundle, windows, batch_size, cancel,
                                          on_batch=lambda n: tracker.advance(n, message=Path(path).name))
    if len(probs) == 0:
        raise AudioFileError(path, "has no audio window to identify")
    return prediction_from_windows(bundle, str(path), starts, ends, probs, top_k)


def identify_file(model_path: str | Path, path: str | Path, top_k: int = 3,
                  progress: ProgressCallback | None = None, cancel: CancelToken | None = None) -> FilePrediction:
    """Load the model folder and identify one file: the whole job in one call (the GUI runs it in a child
    process, where loading TensorFlow and the model cannot stall the window); the result pickles."""

    bundle = load_bundle(model_path)
    if cancel is not None:
        cancel.raise_if_cancelled()
    return predict_file(bundle, path, top_k=top_k, progress=progress, cancel=cancel)


def predict_samples(bundle: ModelBundle, samples: np.ndarray, name: str = "<samples>", top_k: int = 3,
                    batch_size: int = DEFAULT_BATCH_SIZE) -> FilePrediction:
    """Like ``predict_file`` for audio already in memory at the bundle's sample rate."""

    windows = cut_windows(np.asarray(samples, np.float32), bundle.sample_rate, bundle.window_config)
    starts, ends, probs = predict_windows(bundle, windows, batch_size)
    if len(probs) == 0:
        raise ValueError(f"{name}: no audio window to identify")
    return prediction_from_windows(bundle, name, starts, ends, probs, top_k)
