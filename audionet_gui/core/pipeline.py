"""The whole job from folders of audio to a checked model bundle, shared by ``audionet train`` and the GUI:

    dataset folders -> workspace of window images (convert, cached) -> train on train/val (features cached)
    -> evaluate on test -> calibrate "unknown" on val -> bundle with metrics.json + confusion.png

and ``evaluate_folder``: the same metrics for an existing bundle on any folder of class subfolders.

Where intermediate files go (``cache_root()``): ``$AUDIONET_CACHE_DIR``, else ``$XDG_CACHE_HOME/audionet``, else
``~/.cache/audionet``. The window-image workspace defaults to ``<cache>/workspaces/<name>-<hash of the dataset's
folders>``; convert keys images by file content and settings inside it, so training again on the same data
re-uses every image, and a change of spectrogram settings never mixes images of two kinds.
Backbone features are cached under ``<cache>/features`` (keyed by image content, see core/features.py).
Neither lives next to the model: a model folder stays small and can be copied to another machine.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from audionet_gui.core.answers import no_speech_rows, unsure
from audionet_gui.core.audio.conditions import test_noises
from audionet_gui.core.audio.files import load_audio
from audionet_gui.core.audio.windows import iter_file_windows
from audionet_gui.core.base.errors import AudioFileError, AudioNetError, DatasetError
from audionet_gui.core.base.jobs import (
    CancelToken,
    Progress,
    ProgressCallback,
    ProgressTracker,
    ensure_token,
    no_progress,
)
from audionet_gui.core.data.convert import DEFAULT_COPIES, AugmentPlan, convert_dataset, load_manifest
from audionet_gui.core.data.dataset import DatasetSpec, class_sources
from audionet_gui.core.data.frontend_choice import resolved_frontend
from audionet_gui.core.live.engine import classifier_from_bundle, live_config_from_bundle
from audionet_gui.core.live.replay import live_answerer
from audionet_gui.core.model.backbones import (
    get_spec,
    prepare_image,
    resolve_image_size,
    resolve_weights,
    weights_identity,
)
from audionet_gui.core.model.bundle import ModelBundle, check_bundle_target, load_bundle, make_config, save_bundle
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
    evaluate_predictions,
    misclassified_windows,
    render_confusion_png,
    unknown_rates,
)
from audionet_gui.core.model.featmap_make import keep_map, make_map, windows_to_map
from audionet_gui.core.model.features import extract_features, feature_key
from audionet_gui.core.model.openset import CONFIG_KEY as OPEN_SET_KEY
from audionet_gui.core.model.openset import OpenSet, head_parts
from audionet_gui.core.model.predict import predict_images, predict_stream
from audionet_gui.core.model.robustness import answer_with_bundle, robustness_report, standard_conditions
from audionet_gui.core.model.training import LabeledImages, TrainConfig, train_classifier
from audionet_gui.core.settings import ImageSettings

PathLike = str | Path

EVAL_BATCH = 32
# The robustness report scores at most this many recordings of each class (chosen evenly from the sorted list):
# every recording is answered under 7 conditions plus a live replay, so the cost grows fast.
ROBUSTNESS_PER_CLASS = 20


def cache_root() -> Path:
    env = os.environ.get("AUDIONET_CACHE_DIR")
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg).expanduser() if xdg else Path.home() / ".cache") / "audionet"


def default_workspace(spec) -> Path:
    """``<cache>/workspaces/<dataset folder name>-<hash of the dataset's folders>``. One workspace per dataset:
    convert keeps images of different spectrogram/window settings apart inside it (and re-uses file hashes)."""
    # Absolute paths: the same data reached from another working directory is the same workspace.
    key = json.dumps({"classes": [{"name": c.name, "folders": [str(Path(f).absolute()) for f in c.folders],
                                   "files": [str(Path(f).absolute()) for f in c.files]} for c in spec.classes],
                      "test_dir": str(Path(spec.test_dir).absolute()) if spec.test_dir else None}, sort_keys=True)
    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    first = spec.classes[0].folders[0] if spec.classes and spec.classes[0].folders else None
    name = Path(first).absolute().parent.name if first is not None else ""
    return cache_root() / "workspaces" / f"{name or 'dataset'}-{digest}"


@dataclass
class TrainReport:
    bundle_path: Path
    workspace: Path
    labels: list[str]
    metrics: dict
    unknown_threshold: float
    wall_seconds: float
    timings: dict = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def summary_lines(self) -> list[str]:
        m = self.metrics
        test = m.get("test")
        lines = [f"model: {self.bundle_path}", f"classes: {', '.join(self.labels)}"]
        counts = m.get("data", {})
        lines.append("windows: " + ", ".join(f"{k} {counts.get(k + '_windows', 0)}" for k in ("train", "val", "test")))
        if test:
            lines.append(f"test accuracy: {test['accuracy']:.1%} of {test['windows']} windows, "
                         f"{test['recording_accuracy']:.1%} of {test['recordings']} recordings")
            if test.get("no_speech_rate"):
                lines.append(f"no speech heard in {test['no_speech_rate']:.1%} of the test recordings (counted wrong)")
        else:
            lines.append("test accuracy: no test data")
        if m.get("val"):
            lines.append(f"validation accuracy: {m['val']['accuracy']:.1%}")
        gate = counts.get("convert", {}).get("gate") if isinstance(counts.get("convert"), dict) else None
        if gate:
            lines.append(f"activity gate: {gate}")
        lines.append(f"unknown below p = {self.unknown_threshold:.3f}")
        if test and "false_unknown_rate" in test:
            lines.append(f"unknown on test: {test['false_unknown_rate']:.1%} of enrolled windows (clean and in noise) "
                         f"answered unknown, {test['false_accept_rate']:.1%} of noise/stranger windows named")
        robustness = m.get("robustness")
        if robustness and robustness.get("conditions"):
            lines.append("robustness: " + ", ".join(f"{name} {c['accuracy']:.0%}"
                                                    for name, c in robustness["conditions"].items()))
            if robustness.get("weakest"):
                lines.append(f"weakest: {robustness['weakest']}. {robustness.get('advice', '')}")
        lines.append(f"wall time: {self.wall_seconds:.1f} s")
        lines.extend(f"warning: {w}" for w in self.warnings)
        return lines


def _restage(progress: ProgressCallback, stage: str) -> ProgressCallback:
    def report(p: Progress) -> None:
        progress(dataclasses.replace(p, stage=stage))
    return report


def _load_images(paths: Sequence[Path], size: tuple[int, int]) -> np.ndarray:
    width, height = size
    if not paths:
        return np.zeros((0, height, width, 3), np.uint8)
    return np.stack([prepare_image(p, size) for p in paths])


def _predict_paths(bundle: ModelBundle, paths: Sequence[Path], progress: ProgressCallback,
                   cancel: CancelToken) -> np.ndarray:
    """Probabilities for image files, loaded a batch at a time (memory stays bounded on big test sets)."""

    tracker = ProgressTracker(progress, "evaluating", len(paths))
    out = []
    for i in range(0, len(paths), EVAL_BATCH):
        cancel.raise_if_cancelled()
        chunk = paths[i:i + EVAL_BATCH]
        out.append(predict_images(bundle, _load_images(chunk, bundle.image_size)))
        tracker.advance(len(chunk))
    return np.concatenate(out) if out else np.zeros((0, len(bundle.labels)), np.float32)


def _frozen_parts(model, train_cfg, feature_cache: Path | None):
    """(extractor, head) of a head trained on frozen, cached backbone features, or None for any other model
    (fine-tuned, end-to-end, small_cnn, another shape): only then are the cached features the model's own."""
    import keras  # noqa: PLC0415 - loads TensorFlow/Keras (3 s): only when this runs

    spec = get_spec(train_cfg.backbone)
    if train_cfg.fine_tune or not spec.pretrained or train_cfg.backbone == "small_cnn" or feature_cache is None:
        return None
    parts = [layer for layer in model.layers if not isinstance(layer, keras.layers.InputLayer)]
    if len(parts) != 2 or not all(isinstance(part, keras.Model) for part in parts):
        return None
    return parts[0], parts[1]


def _cached_feature_probabilities(model, train_cfg, paths: Sequence[Path], feature_cache: Path | None,
                                  progress: ProgressCallback, cancel: CancelToken,
                                  config: dict | None = None) -> np.ndarray | None:
    """Test probabilities through the feature cache, when that is exactly the model's own computation.

    A head trained on frozen backbone features is stacked as image -> extractor -> head. The extractor is then
    the very network that filled the feature cache, so test features can come from (and go to) that cache and
    retraining with other head settings does not run the backbone on the test set again. Returns None (the
    caller runs the whole model) for fine-tuned or end-to-end models, whose backbone is no longer the cached one,
    and for any model of another shape.
    """
    parts = _frozen_parts(model, train_cfg, feature_cache)
    if parts is None:
        return None
    extractor, head = parts
    key = feature_key(train_cfg.backbone, train_cfg.weights, train_cfg.image_size, train_cfg.feature_layer)
    features = extract_features(list(paths), key, extractor, feature_cache, progress=progress, cancel=cancel,
                                stage="evaluating")
    if features.shape[1] != int(head.input_shape[-1]):
        return None
    open_set = OpenSet.from_config(config or {})
    numpy_head = head_parts(model) if open_set is not None else None
    if numpy_head is not None:  # answered as predict answers: the open-set posterior
        return numpy_head.outputs(features, open_set)[0]
    return np.asarray(head.predict(features, verbose=0, batch_size=256), dtype=np.float32)


CALIBRATION_METHOD = ("balanced: the fewest false unknown + false accept, at most the threshold that keeps 95 % of "
                      "the correct clean validation windows; known = validation windows, clean and in augmentation "
                      "noise at 0-20 dB SNR; negatives = noise-only windows and left-out classes")


def _top(probabilities: np.ndarray) -> np.ndarray:
    p = np.asarray(probabilities, np.float32)
    return p.max(axis=1) if p.ndim == 2 and p.shape[0] and p.shape[1] else np.zeros(0, np.float32)


def _calibrate_unknown(bundle: ModelBundle, val_probabilities: np.ndarray, train_cfg, by_split: dict,
                       index: dict, workspace: Path, feature_cache: Path | None, progress: ProgressCallback,
                       cancel: CancelToken) -> UnknownCalibration:
    """The unknown gate from validation windows (core/model/calibration.py ``calibrate_unknown``): the windows
    it needs (noisy copies, noise alone, the cached features of the model's own windows) are gathered here."""
    n_classes = len(bundle.labels)
    rate, wcfg = bundle.sample_rate, bundle.window_config
    tracker = ProgressTracker(progress, "calibrating", 3)
    rng = np.random.default_rng([train_cfg.seed, 1])
    windows, _ = window_audio(by_split["val"], rate, wcfg)
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
    parts = _frozen_parts(bundle.model, train_cfg, feature_cache)
    if parts is not None and n_classes >= 2:
        groups = [by_split["train"], by_split["val"], by_split["test"]]
        key = feature_key(train_cfg.backbone, train_cfg.weights, train_cfg.image_size, train_cfg.feature_layer)
        feats = extract_features([workspace / r.image for g in groups for r in g], key, parts[0], feature_cache,
                                 cancel=cancel, stage="calibrating")
        cuts = np.cumsum([len(g) for g in groups])[:-1]
        x_train, x_val, x_test = np.split(feats, cuts)
        y_train, y_val, y_test = (np.array([index[r.label] for r in g], np.int64) for g in groups)
        splits = FeatureSplits(x_train, y_train, np.array([not r.augmented for r in groups[0]], bool), x_val, y_val,
                               x_test, y_test)
        numpy_head = head_parts(bundle.model)
        if numpy_head is not None:
            standardise = numpy_head.standardise
            val = ScoredWindows(val.probabilities, standardise(x_val))
    result = calibrate_unknown(val, [index[r.label] for r in by_split["val"]], n_classes, train_cfg, noisy, noise,
                               splits, standardise, cancel=cancel)
    tracker.advance(1, message="left-out classes")
    method = CALIBRATION_METHOD if result.record["negatives"]["strangers"] else CALIBRATION_METHOD.replace(
        " and left-out classes", " (no left-out classes: not a head on frozen features, or under 3 classes)")
    result.record["method"] = method
    return result


def _test_unknown_rates(bundle: ModelBundle, test_rows: Sequence, test_probabilities: np.ndarray,
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


def _unknown_rate(probabilities: np.ndarray, threshold: float) -> float:
    classified = probabilities[~no_speech_rows(probabilities)] if len(probabilities) else probabilities
    if not len(classified):
        return 0.0
    return float(unsure(classified.max(axis=1), threshold).mean())


def train_from_folders(
    data: Any,
    out_dir: PathLike,
    settings: ImageSettings | None = None,
    train_cfg=None,
    test_dir: PathLike | None = None,
    workspace: PathLike | None = None,
    feature_cache: PathLike | None = None,
    split_cfg=None,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
    augment: Any = "default",
    robustness: bool = True,
    feature_map: bool = True,
) -> TrainReport:
    """Train a model from a dataset and write its bundle to ``out_dir``.

    ``augment`` (an ``AugmentPlan``, None for none, "default" for ``DEFAULT_COPIES`` noisy copies per training
    window) makes audio-domain augmented copies at conversion (background noise, level, shift, masks): the model learns
    that a fan or rain is not the speaker. ``train_cfg.augment=False`` turns every augmentation off.

    ``data`` is a folder of class subfolders or a ``DatasetSpec``; ``split_cfg`` (a ``SplitConfig``) sets the
    validation/test fractions of the split by source file. ``settings`` (an ``ImageSettings``) say how audio
    becomes images; they are resolved once for the backbone: their ``image_size`` (else ``train_cfg.image_size``)
    checked against it, else the backbone's own, so images are made at the size the network takes (no resizing
    anywhere). The bundle stores these resolved settings once.
    ``robustness`` (on by default) scores the test split's recordings in held-back noise, another room, through
    a cheap microphone and by live replay (metrics.json ``robustness``, see ``bundle_robustness``).
    ``feature_map`` (on by default) makes the Feature map page's map with the model in memory and keeps it beside
    the feature cache (``<cache>/featmaps``), so the page need not load TensorFlow and the model again to show it.
    Progress stages: "converting", "features", "training" (and "fine_tuning"), "evaluating", "calibrating",
    "robustness", "mapping", "saving".
    Cancel leaves the previous bundle (or none) and a consistent, re-usable workspace.
    """

    started = time.monotonic()
    progress = progress or no_progress
    cancel = ensure_token(cancel)
    settings = settings or ImageSettings()
    train_cfg = train_cfg or TrainConfig()
    out_dir = Path(out_dir)

    if isinstance(data, DatasetSpec):
        spec = data
        if test_dir is not None:
            spec = dataclasses.replace(spec, test_dir=Path(test_dir))
    else:
        spec = DatasetSpec.from_root(Path(data), test_dir=test_dir)
    check_bundle_target(out_dir)  # before minutes of work, not after
    labels = spec.labels
    if len(labels) < 2:
        raise DatasetError(f"at least two classes are needed to train, found {len(labels)}: {labels}")

    backbone = get_spec(train_cfg.backbone)
    requested = settings.image_size if settings.image_size is not None else train_cfg.image_size
    settings = dataclasses.replace(settings, image_size=resolve_image_size(train_cfg.backbone, requested))
    size = settings.image_size
    # Fail on weights before spending minutes converting (offline with no file, missing file ...).
    weights_path = resolve_weights(train_cfg.backbone, train_cfg.weights, size)
    train_cfg = dataclasses.replace(train_cfg, image_size=tuple(size))

    workspace = Path(workspace) if workspace else default_workspace(spec)
    timings: dict[str, float] = {}
    warnings: list[str] = []

    if augment == "default":
        augment = AugmentPlan(copies=DEFAULT_COPIES, seed=train_cfg.seed)
    if not train_cfg.augment:
        augment = None
    if augment is not None and augment.copies > 0:
        # the audio copies already carry SpecAugment masks: no second round of image-only copies for the head
        train_cfg = dataclasses.replace(train_cfg, augment_copies=0)

    t0 = time.monotonic()
    # the "auto" front end is decided once, here, before the images are made; the bundle records the result
    frontend = resolved_frontend(settings.spectrogram.frontend, spec, settings.window,
                                 settings.spectrogram.sample_rate, cancel)
    settings = dataclasses.replace(settings, spectrogram=dataclasses.replace(settings.spectrogram, frontend=frontend))
    extra = {"split_cfg": split_cfg} if split_cfg is not None else {}
    summary = convert_dataset(spec, workspace, settings.spectrogram, settings.window,
                              progress=_restage(progress, "converting"), cancel=cancel, augment=augment, **extra)
    timings["convert_s"] = time.monotonic() - t0
    cancel.raise_if_cancelled()
    # "auto" is decided once, here: the bundle records "speech" or "energy", so predict/evaluate/live never re-decide
    settings = dataclasses.replace(settings, window=dataclasses.replace(settings.window, gate=summary.gate))
    warnings.extend(f"{s['path']}: {s['reason']}" for s in summary.skipped)
    if summary.no_speech_windows:
        warnings.append(f"{summary.no_speech_windows} windows without speech left out (speech gate)")
    rows = load_manifest(workspace)
    index = {label: i for i, label in enumerate(labels)}
    by_split: dict[str, list] = {"train": [], "val": [], "test": []}
    for row in rows:
        if row.label in index and row.split in by_split:
            by_split[row.split].append(row)

    def images_of(split: str) -> LabeledImages:
        chosen = by_split[split]
        return LabeledImages([workspace / r.image for r in chosen], np.array([index[r.label] for r in chosen]))

    train_set, val_set = images_of("train"), images_of("val")
    if len(train_set) == 0:
        raise DatasetError(f"{workspace}: no training windows after conversion; are the audio files readable?")
    missing_train = [name for name in labels if index[name] not in set(train_set.labels.tolist())]
    if missing_train:
        raise DatasetError(f"no training audio for class(es) {', '.join(missing_train)}")
    if len(val_set) == 0:
        warnings.append("no validation windows: early stopping is off and the unknown threshold is not calibrated")
    if not by_split["test"]:
        warnings.append("no test windows: the model is not measured; add files or give --test-dir")

    feature_cache = Path(feature_cache) if feature_cache else cache_root() / "features"
    t0 = time.monotonic()
    result = train_classifier(train_set, val_set, labels, train_cfg, feature_cache, progress=progress, cancel=cancel)
    timings["train_s"] = time.monotonic() - t0
    timings.update({f"train.{k}": v for k, v in (result.timings or {}).items()})
    cancel.raise_if_cancelled()

    threshold = 1.0 / len(labels)  # "never unknown" until calibrated below (no validation windows: stays)
    config = make_config(
        settings=settings, backbone=train_cfg.backbone, unknown_threshold=threshold,
        weights=weights_identity(weights_path) if weights_path else "none",
        preprocessing=backbone.preprocessing, train=train_cfg,
        feature_layers=list(train_cfg.feature_layer.split("+")) if train_cfg.feature_layer else
        list(backbone.feature_layers),
    )
    # A ModelBundle in memory (not yet on disk) so evaluation runs the exact inference path of prediction.
    bundle = ModelBundle(path=out_dir, labels=labels, config=config, metrics={}, model=result.model)
    calibration, strangers_test = None, np.zeros(0, np.float32)
    if len(val_set):
        t0 = time.monotonic()
        calibrated = _calibrate_unknown(
            bundle, result.val_probabilities, train_cfg, by_split, index, workspace, feature_cache, progress, cancel)
        threshold, calibration, strangers_test = calibrated.threshold, calibrated.record, calibrated.strangers_test
        config["unknown_threshold"] = threshold
        if calibrated.open_set is not None:
            config[OPEN_SET_KEY] = calibrated.open_set.to_config()
            bundle._predictor = None  # answers from here on are the open-set posterior
            result.val_probabilities = calibrated.val_probabilities
        timings["calibrate_s"] = time.monotonic() - t0

    t0 = time.monotonic()
    test_rows = by_split["test"]
    test_paths = [workspace / r.image for r in test_rows]
    test_probs = None
    if test_rows:
        test_probs = _cached_feature_probabilities(result.model, train_cfg, test_paths, feature_cache, progress,
                                                   cancel, config)
    if test_probs is None:
        test_probs = _predict_paths(bundle, test_paths, progress, cancel)
    if settings.window.speech_gated and test_rows:
        # as predict answers: a test window without speech is "no speech", not classified (a row of zeros)
        test_probs = np.asarray(test_probs, np.float32).copy()
        test_probs[~np.array([r.speech for r in test_rows], bool)] = 0.0
    timings["evaluate_s"] = time.monotonic() - t0
    test_metrics = None
    if test_rows:
        test_metrics = evaluate_predictions(test_probs, [index[r.label] for r in test_rows],
                                            [r.source for r in test_rows], labels)
        test_metrics["unknown_rate"] = _unknown_rate(test_probs, threshold)
        test_metrics.update(_test_unknown_rates(bundle, test_rows, test_probs, strangers_test, train_cfg.seed,
                                                cancel))
        test_metrics["misclassified"] = misclassified_windows(
            test_probs, [index[r.label] for r in test_rows], labels, [r.source for r in test_rows],
            [r.start_s for r in test_rows], [r.end_s for r in test_rows])
    val_metrics = None
    if len(val_set):
        val_metrics = evaluate_predictions(result.val_probabilities, val_set.labels,
                                           [r.source for r in by_split["val"]], labels)
        val_metrics["unknown_rate"] = _unknown_rate(result.val_probabilities, threshold)

    robustness_metrics = None
    if robustness and test_rows:
        t0 = time.monotonic()
        sources: dict[str, list[str]] = {}
        for r in test_rows:
            sources.setdefault(r.label, []).append(r.source)
        recordings, unreadable = load_recordings(sources, bundle.sample_rate, cancel=cancel)
        robustness_metrics = bundle_robustness(bundle, recordings, seed=train_cfg.seed, progress=progress,
                                               cancel=cancel)
        robustness_metrics["failed"] = unreadable
        timings["robustness_s"] = time.monotonic() - t0

    fmap = None
    if feature_map:
        t0 = time.monotonic()
        fmap = _training_map(bundle, workspace, rows, feature_cache, progress, cancel)
        timings["feature_map_s"] = time.monotonic() - t0

    metrics = {
        "labels": labels,
        "test": test_metrics,
        "robustness": robustness_metrics,
        "val": val_metrics,
        "unknown_threshold": threshold,
        "calibration": calibration,
        "data": {
            **{f"{s}_windows": len(by_split[s]) for s in by_split},
            **{f"{s}_recordings": len({r.source for r in by_split[s]}) for s in by_split},
            "convert": _summary_dict(summary),
            "workspace": str(workspace),
            "augment": augment.to_dict() if augment is not None else None,  # what the training copies had
        },
        "backbone": {"name": train_cfg.backbone, "weights": config["backbone"]["weights"],
                     "image_size": list(size)},
        "history": result.history,
        "timings": timings,
        "warnings": warnings,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    cancel.raise_if_cancelled()
    t0 = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="audionet-confusion-") as tmp:
        png = None
        if test_metrics:
            png = render_confusion_png(test_metrics["confusion"], labels, Path(tmp) / "confusion.png",
                                       title=f"Test windows: {test_metrics['accuracy']:.1%} correct "
                                             "(rows: true, columns: predicted)")
        save_bundle(out_dir, result.model, labels, config, metrics, confusion_png=png, progress=progress,
                    cancel=cancel)
    timings["save_s"] = time.monotonic() - t0
    if fmap is not None:
        keep_map(fmap, feature_cache.parent, out_dir, workspace)  # after saving: kept under the saved file's hash
    metrics["timings"] = timings
    return TrainReport(out_dir, workspace, labels, metrics, threshold, time.monotonic() - started, timings, warnings)


def _training_map(bundle: ModelBundle, workspace: Path, rows: Sequence, feature_cache: Path,
                  progress: ProgressCallback, cancel: CancelToken):
    """The feature map of the model just trained (featmap_make.make_map), made before the bundle is saved so a
    cancel leaves the previous bundle; None when this model has no map (the page then says why)."""
    try:
        fmap = make_map(bundle, workspace, windows_to_map(rows, bundle.labels, bundle.window_config.speech_gated),
                        feature_cache, progress=_restage(progress, "mapping"), cancel=cancel, stage="mapping")
    except (AudioNetError, ValueError):
        return None  # not a backbone and a head: the page computes nothing either and says why
    fmap.made_by = "training"
    return fmap


def load_recordings(sources: dict[str, Sequence[str | Path]], sample_rate: int,
                    per_class: int = ROBUSTNESS_PER_CLASS,
                    cancel: CancelToken | None = None) -> tuple[list[tuple[np.ndarray, str]], list[dict]]:
    """(samples at ``sample_rate``, label) of at most ``per_class`` recordings of each label (evenly spaced over
    the sorted distinct paths, so the choice is the same every time) and ``{path, reason}`` of unreadable ones."""
    recordings, failed = [], []
    for label in sorted(sources):
        paths = sorted({str(p) for p in sources[label]})
        if len(paths) > per_class:
            paths = [paths[i] for i in np.linspace(0, len(paths) - 1, per_class).round().astype(int)]
        for path in paths:
            ensure_token(cancel).raise_if_cancelled()
            try:
                recordings.append((load_audio(path, sample_rate), label))
            except AudioFileError as exc:
                failed.append({"path": path, "reason": exc.reason})
    return recordings, failed


def bundle_robustness(bundle: ModelBundle, recordings: Sequence[tuple[np.ndarray, str]], seed: int = 0,
                      live: bool = True, per_class: int = ROBUSTNESS_PER_CLASS,
                      progress: ProgressCallback | None = None, cancel: CancelToken | None = None) -> dict:
    """The robustness report of a bundle (core/model/robustness.py) on ``recordings``: clean, the held-back test
    noises (core/audio/conditions.test_noises, never used in training) at 20/10/5/0 dB, reverb, cheap_mic and
    ``live_replay`` (through the live engine, with room tone around each recording). Each recording is named as
    ``audionet predict`` names a file (a clip shorter than the window is filled by the same short-clip rule).
    JSON-ready: ``conditions`` {name: {accuracy, unknown_rate, recordings, kind}}, ``weakest``, ``advice``,
    ``seed``, ``per_class_limit``."""
    noises = list(test_noises(bundle.sample_rate, seed).values())
    live_answer = None
    if live:
        live_answer = live_answerer(classifier_from_bundle(bundle), bundle.labels, bundle.spectrogram_config,
                                    live_config_from_bundle(bundle))
    report = robustness_report(recordings, bundle.sample_rate, answer_with_bundle(bundle),
                               standard_conditions(noises), live_answer=live_answer, seed=seed,
                               progress=progress, cancel=cancel)
    report["per_class_limit"] = per_class
    return report


def _summary_dict(summary: Any) -> Any:
    if summary is None:
        return None
    if hasattr(summary, "to_dict"):
        return summary.to_dict()
    if dataclasses.is_dataclass(summary):
        return dataclasses.asdict(summary)
    return str(summary)


# ------------------------------------------------------------------------------------------ evaluate a folder

def evaluate_folder(
    bundle: ModelBundle | PathLike,
    data_dir: PathLike,
    batch_size: int = EVAL_BATCH,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
    robustness: bool = False,
) -> dict:
    """Metrics of a bundle on EVERY file of a folder of class subfolders (no split), as a JSON-ready dict:
    the keys of ``evaluate_predictions`` plus ``files``, ``failed`` (``{path, reason}`` of unreadable files,
    which are skipped) and ``unknown_rate``. A class the model does not know is a ``DatasetError`` naming it.
    With ``robustness``, also ``robustness``: ``bundle_robustness`` on the folder's readable files (at most
    ``ROBUSTNESS_PER_CLASS`` a class).
    """

    progress = progress or no_progress
    cancel = ensure_token(cancel)
    if not isinstance(bundle, ModelBundle):
        bundle = load_bundle(bundle)
    spec = DatasetSpec.from_root(Path(data_dir))
    unknown = [c.name for c in spec.classes if c.name not in bundle.labels]
    if unknown:
        raise DatasetError(f"{data_dir}: class(es) {', '.join(unknown)} are not known to the model "
                           f"(it knows {', '.join(bundle.labels)})")
    index = {label: i for i, label in enumerate(bundle.labels)}
    sources = [s for c in spec.classes for s in class_sources(c)]
    failed: dict[int, dict] = {}
    tracker = ProgressTracker(progress, "evaluating", len(sources))

    def windows():
        for i, source in enumerate(sources):
            try:
                for w in iter_file_windows(source.path, bundle.sample_rate, bundle.window_config):
                    yield i, w
            except AudioFileError as exc:
                failed[i] = {"path": str(source.path), "reason": exc.reason}
            tracker.advance(message=source.path.name)

    probs, owners, starts, ends = [], [], [], []
    for tagged, batch_probs in predict_stream(bundle, windows(), batch_size, cancel):
        owners.extend(i for i, _ in tagged)
        starts.extend(w.start_s for _, w in tagged)
        ends.extend(w.end_s for _, w in tagged)
        probs.append(batch_probs)
    probs_arr = np.concatenate(probs) if probs else np.zeros((0, len(bundle.labels)), np.float32)
    # A file that failed part-way is dropped whole: a metric over half a file would be a different test.
    keep = np.array([o not in failed for o in owners], dtype=bool)
    if len(keep):
        probs_arr, starts, ends = probs_arr[keep], np.asarray(starts)[keep], np.asarray(ends)[keep]
    owners = [o for o in owners if o not in failed]
    true = [index[sources[o].label] for o in owners]
    files = [str(sources[o].path) for o in owners]
    metrics = evaluate_predictions(probs_arr, true, files, bundle.labels)
    metrics["misclassified"] = misclassified_windows(probs_arr, true, bundle.labels, files, starts, ends)
    metrics["files"] = len(sources) - len(failed)
    metrics["failed"] = list(failed.values())
    metrics["unknown_rate"] = _unknown_rate(probs_arr, bundle.unknown_threshold)
    metrics["unknown_threshold"] = bundle.unknown_threshold
    if robustness:
        by_label: dict[str, list[str]] = {}
        for i, source in enumerate(sources):
            if i not in failed:
                by_label.setdefault(source.label, []).append(str(source.path))
        recordings, _ = load_recordings(by_label, bundle.sample_rate, cancel=cancel)
        metrics["robustness"] = bundle_robustness(bundle, recordings, progress=progress, cancel=cancel)
    return metrics
