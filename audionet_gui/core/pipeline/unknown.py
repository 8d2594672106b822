"""The "unknown" gate of a model just trained: the validation, noisy, noise-only and left-out-class windows that
core/model/calibration.py calibrates it on, and its false-unknown and false-accept rates on the test split."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from audionet_gui.core.answers import no_speech_rows, unsure
from audionet_gui.core.audio.conditions import test_noises
from audionet_gui.core.base.jobs import (
    CancelToken,
    ProgressCallback,
    ProgressTracker,
)
from audionet_gui.core.model.bundle import ModelBundle
from audionet_gui.core.model.calibration import (
    NOISE_WINDOWS,
    FeatureSplits,
    ScoredWindows,
    UnknownCalibration,
    calibrate_unknown,
    noise_windows,
    noisy_copies,
    score_windows,
    score_windows_features,
    window_audio,
)
from audionet_gui.core.model.evaluation import (
    unknown_rates,
)
from audionet_gui.core.model.features import extract_features, feature_key
from audionet_gui.core.model.openset import head_parts
from audionet_gui.core.pipeline.scoring import frozen_parts

CALIBRATION_METHOD = ("balanced: the fewest false unknown + false accept, at most the threshold that keeps 95 % of "
                      "the correct clean validation windows; known = validation windows, clean and in augmentation "
                      "noise at 0-20 dB SNR; negatives = noise-only windows and left-out classes")


def _top(probabilities: np.ndarray) -> np.ndarray:
    p = np.asarray(probabilities, np.float32)
    return p.max(axis=1) if p.ndim == 2 and p.shape[0] and p.shape[1] else np.zeros(0, np.float32)


def calibrate_unknown_gate(bundle: ModelBundle, val_probabilities: np.ndarray, train_cfg, by_split: dict,
                       index: dict, workspace: Path, feature_cache: Path | None, progress: ProgressCallback,
                       cancel: CancelToken) -> UnknownCalibration:
    """The unknown gate from validation windows (core/model/calibration.py ``calibrate_unknown``): the windows
    it needs (noisy copies, noise alone, the cached features of the model's own windows) are gathered here."""
    n_classes = len(bundle.labels)
    rate, wcfg = bundle.sample_rate, bundle.window_config
    tracker = ProgressTracker(progress, "calibrating", 3)
    rng = np.random.default_rng([train_cfg.seed, 1])
    windows, owners = window_audio(by_split["val"], rate, wcfg)
    noisy_true = [index[by_split["val"][i].label] for i in owners]
    noisy_audio = noisy_copies(windows, None, rng)
    noise_audio = noise_windows(NOISE_WINDOWS, wcfg.window_samples(rate), None, rng)

    def scored(audio) -> ScoredWindows:
        both = score_windows_features(bundle, audio, cancel)
        return ScoredWindows(*both) if both is not None else ScoredWindows(score_windows(bundle, audio, cancel))

    noisy = scored(noisy_audio)
    tracker.advance(1, message="validation windows in noise")
    noise = scored(noise_audio)
    tracker.advance(1, message="noise-only windows")
    val = ScoredWindows(np.asarray(val_probabilities, np.float32))
    splits, standardise = None, None
    parts = frozen_parts(bundle.model, train_cfg, feature_cache)
    if parts is not None and n_classes >= 2:
        groups = [by_split["train"], by_split["val"], by_split["test"]]
        key = feature_key(train_cfg.backbone, train_cfg.weights, train_cfg.image_size, train_cfg.feature_layer)
        feats = extract_features([workspace / r.image for g in groups for r in g], key, parts[0], feature_cache,
                                 cancel=cancel, stage="calibrating")
        cuts = np.cumsum([len(g) for g in groups])[:-1]
        x_train, x_val, x_test = np.split(feats, cuts)
        y_train, y_val, y_test = (np.array([index[r.label] for r in g], np.int64) for g in groups)
        splits = FeatureSplits(x_train, y_train, np.array([not r.augmented for r in groups[0]], bool), x_val, y_val,
                               x_test, y_test, train_groups=[str(r.source) for r in groups[0]])
        numpy_head = head_parts(bundle.model)
        if numpy_head is not None:
            standardise = numpy_head.standardise
            val = ScoredWindows(val.probabilities, standardise(x_val))
    result = calibrate_unknown(val, [index[r.label] for r in by_split["val"]], n_classes, train_cfg, noisy, noise,
                               splits, standardise, noisy_true=noisy_true, cancel=cancel)
    tracker.advance(1, message="left-out classes")
    method = CALIBRATION_METHOD if result.record["negatives"]["strangers"] else CALIBRATION_METHOD.replace(
        " and left-out classes", " (no left-out classes: not a head on frozen features, or under 3 classes)")
    result.record["method"] = method
    return result


def unknown_rates_on_test(bundle: ModelBundle, test_rows: Sequence, test_probabilities: np.ndarray,
                        strangers: np.ndarray, seed: int, cancel: CancelToken) -> dict:
    """False unknown (test windows, clean and in the held-back test noises at 0-20 dB, under the threshold) and
    false accept (windows of held-back noise alone, and left-out classes, given a name) on the test split."""
    threshold, rate, wcfg = bundle.unknown_threshold, bundle.sample_rate, bundle.window_config
    held_back = list(test_noises(rate, seed).values())
    rng = np.random.default_rng([seed, 2])
    windows, _ = window_audio(test_rows, rate, wcfg)
    clean = _top(test_probabilities)
    noisy = _top(score_windows(bundle, noisy_copies(windows, held_back, rng), cancel))
    noise = _top(score_windows(bundle, noise_windows(NOISE_WINDOWS, wcfg.window_samples(rate), held_back, rng),
                               cancel))
    strangers = np.asarray(strangers, np.float32)
    return {
        "false_unknown_rate": unknown_rates(np.concatenate([clean, noisy]), [], threshold)[0],
        "false_accept_rate": unknown_rates([], np.concatenate([noise, strangers]), threshold)[1],
        "false_unknown_rate_clean": unknown_rates(clean, [], threshold)[0],
        "false_unknown_rate_noise": unknown_rates(noisy, [], threshold)[0],
        "false_accept_rate_noise": unknown_rates([], noise, threshold)[1],
        "false_accept_rate_strangers": unknown_rates([], strangers, threshold)[1] if strangers.size else None,
    }


def unknown_rate(probabilities: np.ndarray, threshold: float) -> float:
    classified = probabilities[~no_speech_rows(probabilities)] if len(probabilities) else probabilities
    if not len(classified):
        return 0.0
    return float(unsure(classified.max(axis=1), threshold).mean())
