"""An honest "unknown": the windows the threshold is calibrated and checked on.

The threshold must let enrolled classes through when a room is noisy and stop what is no class of the model.
So it is chosen (``evaluation.choose_unknown_threshold``) between two groups of best probabilities:

- known: validation windows, and noisy copies of them (augmentation-side noise: white/pink/brown noise from
  core/audio/augment.py at a random SNR of 0-20 dB);
- negatives: windows of that noise alone at everyday levels, and strangers: for a head on frozen backbone
  features (not small_cnn, not fine-tuned), each class in turn is left out of a head retrained on the cached
  features (a second or two each) and its validation windows are scored by the head that never met it.

The test-side check (``test_rates``) uses the held-back test noises of core/audio/conditions.py instead, which
calibration never sees. Windows are scored by the model's own prediction path (``predict_stream``), so what is
measured is what ``audionet predict`` and the live page will do.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np

from audionet_gui.core.audio.augment import add_noise, colored_noise
from audionet_gui.core.audio.files import load_audio
from audionet_gui.core.audio.windows import Window, WindowConfig, fill_short
from audionet_gui.core.base.errors import AudioFileError
from audionet_gui.core.base.jobs import CancelToken, ensure_token
from audionet_gui.core.model.head import train_head
from audionet_gui.core.model.predict import predict_stream

MAX_WINDOWS = 300        # validation (or test) windows copied into noise, at most
NOISE_WINDOWS = 60       # windows of noise alone
SNR_DB = (0.0, 20.0)
NOISE_LEVEL_DB = (-40.0, -15.0)  # RMS dBFS of a noise-only window: a quiet room to a loud fan
COLORS = ("white", "pink", "brown")


def window_audio(rows: Sequence, sample_rate: int, window_cfg: WindowConfig, limit: int = MAX_WINDOWS
                 ) -> tuple[list[np.ndarray], list[int]]:
    """The audio of (at most ``limit``, evenly chosen) manifest windows (``source``, ``start_s``), cut from their
    source at the model's rate and filled to a whole window by the short-clip rule, as conversion made them.
    Returns (windows, index of each one's row); a source that cannot be read is skipped."""
    picks = np.arange(len(rows))
    if len(rows) > limit:
        picks = np.unique(np.linspace(0, len(rows) - 1, limit).round().astype(int))
    length = window_cfg.window_samples(sample_rate)
    loaded: dict[str, np.ndarray | None] = {}
    out, owners = [], []
    for i in picks:
        row = rows[int(i)]
        source = str(row.source)
        if source not in loaded:
            try:
                loaded[source] = load_audio(source, sample_rate, allow_silent=True)
            except AudioFileError:
                loaded[source] = None
        audio = loaded[source]
        if audio is None:
            continue
        start = int(round(float(row.start_s) * sample_rate))
        piece = audio[start:start + length]
        if piece.size == 0:
            continue
        if piece.size < length:
            piece = fill_short(piece, length, window_cfg.short_clip)
        out.append(np.asarray(piece, np.float32))
        owners.append(int(i))
    return out, owners


def noisy_copies(windows: Sequence[np.ndarray], noises: Sequence[np.ndarray] | None, rng: np.random.Generator,
                 snr_db: tuple[float, float] = SNR_DB) -> list[np.ndarray]:
    """Each window with noise under it at a random SNR: from ``noises`` (drawn in turn at random) or, when None,
    the augmentation's colored noise."""
    out = []
    for w in windows:
        if noises:
            noise = noises[int(rng.integers(len(noises)))]
        else:
            noise = colored_noise(w.size, rng, COLORS[int(rng.integers(len(COLORS)))])
        out.append(add_noise(w, noise, float(rng.uniform(*snr_db)), rng))
    return out


def noise_windows(n: int, length: int, noises: Sequence[np.ndarray] | None, rng: np.random.Generator,
                  level_db: tuple[float, float] = NOISE_LEVEL_DB) -> list[np.ndarray]:
    """``n`` windows of noise alone at a random everyday level: from ``noises`` or the augmentation's colors."""
    out = []
    for _ in range(n):
        if noises:
            source = np.asarray(noises[int(rng.integers(len(noises)))], np.float32)
            reps = int(np.ceil(length / max(1, source.size))) + 1
            source = np.tile(source, reps)
            start = int(rng.integers(0, source.size - length + 1))
            x = source[start:start + length]
        else:
            x = colored_noise(length, rng, COLORS[int(rng.integers(len(COLORS)))])
        rms = float(np.sqrt(np.mean(np.square(x, dtype=np.float64)))) or 1.0
        out.append((x / rms * 10 ** (float(rng.uniform(*level_db)) / 20)).astype(np.float32))
    return out


def score_windows(bundle, windows: Sequence[np.ndarray], cancel: CancelToken | None = None) -> np.ndarray:
    """Probabilities (N, C) of whole windows through the bundle's prediction path."""
    cancel = ensure_token(cancel)
    if not windows:
        return np.zeros((0, len(bundle.labels)), np.float32)
    window_s = bundle.window_config.window_s
    items = ((i, Window(0.0, window_s, w, i)) for i, w in enumerate(windows))
    probs = [p for _, p in predict_stream(bundle, items, cancel=cancel)]
    return np.concatenate(probs).astype(np.float32)


def leave_one_class_out(x_train: np.ndarray, y_train: np.ndarray, x_val: np.ndarray, y_val: np.ndarray,
                        n_classes: int, cfg, others: Sequence[tuple[np.ndarray, np.ndarray]] = (),
                        cancel: CancelToken | None = None) -> list[np.ndarray]:
    """Strangers simulated on features: for each class k, a head trained without k (early-stopped on the other
    classes' validation windows) scores k's windows. Returns the best probabilities of the held-out windows of
    ``(x_val, y_val)`` and of each ``others`` pair (e.g. the test split), in that order. Needs at least three
    classes (so that two remain); with fewer every array is empty."""
    cancel = ensure_token(cancel)
    sets = [(np.asarray(x_val, np.float32), np.asarray(y_val, np.int64)),
            *((np.asarray(x, np.float32), np.asarray(y, np.int64)) for x, y in others)]
    out: list[list[np.ndarray]] = [[] for _ in sets]
    x_train, y_train = np.asarray(x_train, np.float32), np.asarray(y_train, np.int64)
    if n_classes >= 3:
        cfg = dataclasses.replace(cfg, tensorboard_dir=None)
        for k in range(n_classes):
            cancel.raise_if_cancelled()
            keep_train, keep_val = y_train != k, sets[0][1] != k
            if not keep_train.any() or not keep_val.any() or not any((y == k).any() for _, y in sets):
                continue
            remap = np.array([c - (c > k) for c in range(n_classes)])
            head, _ = train_head(x_train[keep_train], remap[y_train[keep_train]], sets[0][0][keep_val],
                                 remap[sets[0][1][keep_val]], n_classes - 1, cfg, cancel=cancel)
            for slot, (x, y) in zip(out, sets):
                if (y == k).any():
                    slot.append(np.asarray(head.predict(x[y == k], verbose=0, batch_size=256)).max(axis=1))
    return [np.concatenate(slot).astype(np.float32) if slot else np.zeros(0, np.float32) for slot in out]
