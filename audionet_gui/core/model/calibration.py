"""An honest "unknown": the windows the threshold is calibrated and checked on.

The threshold must let enrolled classes through when a room is noisy and stop what is no class of the model.
So it is chosen (``evaluation.choose_unknown_threshold``) between two groups of best probabilities:

- known: validation windows, and noisy copies of them (augmentation-side noise: white/pink/brown noise from
  core/audio/augment.py at a random SNR of 0-20 dB); for a head on frozen backbone features with the open-set
  score, also every training window scored without its fold of recordings (core/model/heldout.py: the clean ones
  and the augmented copies, in the augmentation's rooms, microphones and noises);
- negatives: windows of that noise alone at everyday levels, and strangers: for a head on frozen backbone
  features (not small_cnn, not fine-tuned), each class in turn is left out of a head retrained on the cached
  features (a second or two each) and its validation windows are scored by the head that never met it
  (core/model/heldout.py).

The test-side check (``test_rates``) uses the held-back test noises of core/audio/conditions.py instead, which
calibration never sees. Windows are scored by the model's own prediction path (``predict_stream``), so what is
measured is what ``audionet predict`` and the live page will do.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from audionet_gui.core.audio.augment import add_noise, colored_noise
from audionet_gui.core.audio.files import load_audio
from audionet_gui.core.audio.windows import Window, WindowConfig, fill_short
from audionet_gui.core.base.errors import AudioFileError
from audionet_gui.core.base.jobs import CancelToken, ensure_token
from audionet_gui.core.model.evaluation import (
    MAX_UNKNOWN_THRESHOLD,
    calibrate_unknown_threshold,
    choose_unknown_threshold,
    kept_threshold,
    unknown_rates,
)
from audionet_gui.core.model.heldout import cross_fitted_known, leave_one_class_out_scores
from audionet_gui.core.model.openset import METHOD as OPEN_SET_METHOD
from audionet_gui.core.model.openset import (
    OpenSet,
    WithinClassSpace,
    centroid_cosine,
    class_centroids,
    fit_open_set,
    fit_space,
    head_parts,
)
from audionet_gui.core.model.predict import predict_stream

MAX_WINDOWS = 300        # validation (or test) windows copied into noise, at most
NOISE_WINDOWS = 60       # windows of noise alone
SNR_DB = (0.0, 20.0)
NOISE_LEVEL_DB = (-40.0, -15.0)  # RMS dBFS of a noise-only window: a quiet room to a loud fan
COLORS = ("white", "pink", "brown")
KEEP_CLEAN = 0.95  # of the correct clean validation windows, kept named by the open-set gate at least
KEEP_NOISY = 0.90  # of the correct validation windows in noise, kept named at least (false unknown in noise)


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


def score_windows_features(bundle, windows: Sequence[np.ndarray], cancel: CancelToken | None = None
                           ) -> tuple[np.ndarray, np.ndarray] | None:
    """(softmax probabilities (N, C), standardised features (N, D)) of whole windows through the model in two
    parts (rows of zeros where the speech gate keeps a window back), or None for a model that is not a backbone
    and a standardising head."""
    cancel = ensure_token(cancel)
    parts = head_parts(bundle.model)
    if parts is None:
        return None
    n_classes, dim = len(bundle.labels), parts.w.shape[0]
    if not windows:
        return np.zeros((0, n_classes), np.float32), np.zeros((0, dim), np.float32)

    def run(images: np.ndarray) -> np.ndarray:
        z = parts.standardise(parts.extract(images))
        return np.concatenate([parts.probabilities(z), z], axis=1)

    window_s = bundle.window_config.window_s
    items = ((i, Window(0.0, window_s, w, i)) for i, w in enumerate(windows))
    rows = np.concatenate([r for _, r in predict_stream(bundle, items, cancel=cancel, run=run,
                                                         width=n_classes + dim)])
    return rows[:, :n_classes].astype(np.float32), rows[:, n_classes:].astype(np.float32)


# ------------------------------------------------------------------------------------------ the whole calibration

@dataclass
class ScoredWindows:
    """Windows as the calibration sees them: softmax probabilities (N, C) and, for a backbone + head model,
    standardised features (N, D) (None otherwise). Rows of zeros: windows the speech gate kept back."""

    probabilities: np.ndarray
    features: np.ndarray | None = None

    def answered(self, open_set: OpenSet | None) -> np.ndarray:
        """The probabilities the model answers with: the open-set posterior when there is one."""
        if open_set is None or self.features is None:
            return np.asarray(self.probabilities, np.float32)
        return open_set.apply(self.probabilities, self.features)

    def cosines(self, space: WithinClassSpace, centroids: np.ndarray, cohort: bool = True) -> np.ndarray:
        """Each classified window's open-set score (``openset.centroid_cosine`` in ``space``) for the class the
        head names."""
        keep = np.asarray(self.probabilities).any(axis=1)
        if self.features is None or not keep.any():
            return np.zeros(0, np.float32)
        return centroid_cosine(space.project(self.features[keep]), centroids,
                               self.probabilities[keep].argmax(axis=1), cohort)


@dataclass
class FeatureSplits:
    """Backbone features of the model's own windows (a head on frozen features), for the left-out classes and the
    centroids: train (with ``train_clean``: not an augmented copy), validation and test."""

    x_train: np.ndarray
    y_train: np.ndarray
    train_clean: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    train_groups: Sequence | None = None  # the recording of each training window (None: no cross-fitting)


@dataclass
class UnknownCalibration:
    threshold: float
    record: dict  # metrics.json ``calibration``
    open_set: OpenSet | None  # config.json ``open_set`` (None: the softmax gate alone)
    val_probabilities: np.ndarray  # the validation windows as the model answers them
    strangers_test: np.ndarray  # best answered probability of left-out classes' test windows (empty: none)


def _top(probabilities: np.ndarray) -> np.ndarray:
    """Best probabilities; a window the speech gate kept back counts at 0 (never named), as before."""
    p = np.asarray(probabilities, np.float32)
    return p.max(axis=1) if p.ndim == 2 and p.shape[0] and p.shape[1] else np.zeros(0, np.float32)


def _correct_tops(answered: np.ndarray, true: Sequence[int] | None) -> np.ndarray:
    """Best answered probabilities of the windows named right (none without their classes)."""
    p = np.asarray(answered, np.float64)
    if true is None or not len(p) or len(true) != len(p):
        return np.zeros(0)
    correct = p.any(axis=1) & (p.argmax(axis=1) == np.asarray(true, np.int64))
    return p[correct].max(axis=1)


def calibrate_unknown(val: ScoredWindows, val_true: Sequence[int], n_classes: int, cfg,
                      noisy: ScoredWindows | None = None, noise: ScoredWindows | None = None,
                      splits: FeatureSplits | None = None,
                      standardise: Callable[[np.ndarray], np.ndarray] | None = None,
                      open_set: bool = True, method: str = "", noisy_true: Sequence[int] | None = None,
                      cancel: CancelToken | None = None) -> UnknownCalibration:
    """The unknown gate of a model from its calibration windows: known = validation windows (``val``, clean) and
    ``noisy`` copies of them; negatives = ``noise``-only windows and strangers simulated by leaving each class out
    (``splits``: needs a head on frozen features and three classes or more).

    With features and strangers (and ``open_set``), first the open-set score (core/model/openset.py): centroids of
    the training windows, P(enrolled voice) fitted on the known windows' cosines against the strangers' (the
    strangers: left-out classes' validation and clean training windows, none of which the head without them met).
    The softmax threshold is chosen as before (the fewest false unknown + false accept of the best softmax
    probabilities over known against negatives, capped so that 95 % of the correct clean validation windows stay
    named). With the open-set score the answers are q * softmax, and the threshold is chosen on them the same way
    (negatives: noise alone and every simulated stranger), capped so that 95 % of the correct clean validation
    windows and 90 % of the correct ones in noise (``noisy_true``: their classes) stay named: an enrolled voice
    in a noisy room must keep its name, and a stranger is rejected only as far as that allows. With
    ``splits.train_groups`` (each training window's recording) the cross-fitted training windows join the known
    side of the fit, the choice and the caps (augmented copies counted as "in noise"). The rates recorded are those
    of the answers."""
    empty = ScoredWindows(np.zeros((0, n_classes), np.float32))
    noisy, noise = noisy or empty, noise or empty
    strangers = [(np.zeros(0, np.float32), np.zeros(0, np.float32))] * 3
    # the cohort (the other classes) of a left-out class's windows is one class smaller: with two classes it
    # would be empty while the model's has one, so the plain cosine is used there
    cohort = n_classes >= 3
    if splits is not None and (n_classes >= 3 or (n_classes == 2 and open_set and standardise is not None)):
        clean = np.asarray(splits.train_clean, bool)
        strangers = leave_one_class_out_scores(
            splits.x_train, splits.y_train, splits.x_val, splits.y_val, n_classes, cfg,
            others=[(splits.x_test, splits.y_test), (splits.x_train[clean], splits.y_train[clean])],
            standardise=standardise if open_set else None, cohort=cohort, cancel=cancel)
    (val_top, val_cos), (test_top, test_cos), (train_top, train_cos) = strangers
    fitted, held = None, None
    if open_set and splits is not None and standardise is not None and val.features is not None and len(val_cos):
        if splits.train_groups is not None:
            held = cross_fitted_known(splits.x_train, splits.y_train, splits.train_groups, splits.train_clean,
                                      splits.x_val, splits.y_val, n_classes, cfg, standardise, cohort, cancel=cancel)
        z_train = standardise(splits.x_train)
        space = fit_space(z_train, splits.y_train)
        centroids = class_centroids(space.project(z_train), splits.y_train, n_classes)
        fitted = fit_open_set(z_train, splits.y_train, n_classes,
                              [val.cosines(space, centroids, cohort), noisy.cosines(space, centroids, cohort),
                               held.cosines if held is not None else np.zeros(0)],
                              [val_cos, train_cos], cohort, space)

    def answered_top(top: np.ndarray, cos: np.ndarray) -> np.ndarray:
        """q * best softmax probability of windows scored apart (strangers, cross-fitted windows)."""
        if fitted is None or not len(top):
            return top
        return (top / (1.0 + np.exp(-np.clip(fitted.slope * (cos - fitted.tau), -50, 50)))).astype(np.float32)

    # The softmax gate as before: the fewest false unknown + false accept on the best softmax probabilities, never
    # above the threshold that keeps 95 % of the correct clean validation windows (an enrolled class heard clean
    # must stay named; the noise windows a model names confidently are the speech gate's job).
    soft_cap = calibrate_unknown_threshold(val.probabilities, val_true) if len(val.probabilities) else 1.0
    soft = choose_unknown_threshold(np.concatenate([_top(val.probabilities), _top(noisy.probabilities)]),
                                    np.concatenate([_top(noise.probabilities), val_top]), n_classes,
                                    max_threshold=soft_cap)
    threshold = soft["threshold"]
    val_answered, noisy_answered = val.answered(fitted), noisy.answered(fitted)
    known_clean, known_noisy = _top(val_answered), _top(noisy_answered)
    noise_neg = _top(noise.answered(fitted))
    strangers_val = answered_top(val_top, val_cos)
    if fitted is not None:
        # the answers q * p are no softmax: the threshold is chosen on them, from 0 up to what keeps enrolled
        # voices named clean and in noise; the cross-fitted training windows join the validation windows (clean
        # ones as clean, augmented copies as "in noise")
        clean_right, noisy_right = _correct_tops(val_answered, val_true), _correct_tops(noisy_answered, noisy_true)
        if held is not None and held.top.size:
            held_answered = answered_top(held.top, held.cosines)
            known_clean = np.concatenate([known_clean, held_answered[held.clean]])
            known_noisy = np.concatenate([known_noisy, held_answered[~held.clean]])
            clean_right = np.concatenate([clean_right, held_answered[held.clean & held.correct]])
            noisy_right = np.concatenate([noisy_right, held_answered[~held.clean & held.correct]])
        cap = max(0.001, min(kept_threshold(clean_right, KEEP_CLEAN), kept_threshold(noisy_right, KEEP_NOISY),
                             MAX_UNKNOWN_THRESHOLD))
        threshold = choose_unknown_threshold(np.concatenate([known_clean, known_noisy]),
                                             np.concatenate([noise_neg, strangers_val,
                                                             answered_top(train_top, train_cos)]),
                                             n_classes, max_threshold=cap, floor=0.001)["threshold"]
    known_all, negatives = np.concatenate([known_clean, known_noisy]), np.concatenate([noise_neg, strangers_val])
    record = {
        "method": method,
        "threshold": threshold,
        "false_unknown_rate": unknown_rates(known_all, [], threshold)[0],
        "false_accept_rate": unknown_rates([], negatives, threshold)[1],
        "false_unknown_rate_clean": unknown_rates(known_clean, [], threshold)[0],
        "false_unknown_rate_noise": unknown_rates(known_noisy, [], threshold)[0] if known_noisy.size else None,
        "false_accept_rate_noise": unknown_rates([], noise_neg, threshold)[1] if noise_neg.size else None,
        "false_accept_rate_strangers": unknown_rates([], strangers_val, threshold)[1] if len(strangers_val)
        else None,
        "known": {"clean": int(known_clean.size), "noise": int(known_noisy.size)},
        "negatives": {"noise": int(noise_neg.size), "strangers": int(strangers_val.size)},
    }
    if fitted is not None:
        record["open_set"] = {"method": OPEN_SET_METHOD, "tau": round(fitted.tau, 4), "slope": round(fitted.slope, 3),
                              "strangers": int(len(val_cos) + len(train_cos)), "cohort": fitted.cohort,
                              "space_dims": int(fitted.space.basis.shape[1]) if fitted.space is not None else None,
                              "threshold_cap": cap, "cross_fitted_known": int(held.top.size) if held else 0}
        record["softmax_only"] = soft  # the softmax gate alone on the same windows, for comparison
    return UnknownCalibration(threshold, record, fitted, val_answered, answered_top(test_top, test_cos))
