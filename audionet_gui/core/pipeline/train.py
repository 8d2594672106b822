"""``train_from_folders``: folders of audio -> window images -> a trained, tested, calibrated model bundle."""

from __future__ import annotations

import dataclasses
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from audionet_gui.core.base.errors import AudioNetError, DatasetError
from audionet_gui.core.base.jobs import (
    CancelToken,
    Progress,
    ProgressCallback,
    ensure_token,
    no_progress,
)
from audionet_gui.core.data.convert import DEFAULT_COPIES, AugmentPlan, convert_dataset, load_manifest
from audionet_gui.core.data.dataset import DatasetSpec
from audionet_gui.core.data.frontend_choice import resolved_frontend
from audionet_gui.core.model.backbones import (
    get_spec,
    resolve_image_size,
    resolve_weights,
    weights_identity,
)
from audionet_gui.core.model.bundle import ModelBundle, check_bundle_target, make_config, save_bundle
from audionet_gui.core.model.evaluation import (
    evaluate_predictions,
    misclassified_windows,
    render_confusion_png,
)
from audionet_gui.core.model.featmap_make import keep_map, make_map, windows_to_map
from audionet_gui.core.model.openset import CONFIG_KEY as OPEN_SET_KEY
from audionet_gui.core.model.training import LabeledImages, TrainConfig, train_classifier
from audionet_gui.core.pipeline.cache import cache_root, default_workspace
from audionet_gui.core.pipeline.report import TrainReport
from audionet_gui.core.pipeline.robustness import bundle_robustness, load_recordings
from audionet_gui.core.pipeline.scoring import cached_feature_probabilities, predict_paths
from audionet_gui.core.pipeline.unknown import calibrate_unknown_gate, unknown_rate, unknown_rates_on_test
from audionet_gui.core.settings import ImageSettings

PathLike = str | Path


def _restage(progress: ProgressCallback, stage: str) -> ProgressCallback:
    def report(p: Progress) -> None:
        progress(dataclasses.replace(p, stage=stage))
    return report


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
        calibrated = calibrate_unknown_gate(
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
        test_probs = cached_feature_probabilities(result.model, train_cfg, test_paths, feature_cache, progress,
                                                   cancel, config)
    if test_probs is None:
        test_probs = predict_paths(bundle, test_paths, progress, cancel)
    if settings.window.speech_gated and test_rows:
        # as predict answers: a test window without speech is "no speech", not classified (a row of zeros)
        test_probs = np.asarray(test_probs, np.float32).copy()
        test_probs[~np.array([r.speech for r in test_rows], bool)] = 0.0
    timings["evaluate_s"] = time.monotonic() - t0
    test_metrics = None
    if test_rows:
        test_metrics = evaluate_predictions(test_probs, [index[r.label] for r in test_rows],
                                            [r.source for r in test_rows], labels)
        test_metrics["unknown_rate"] = unknown_rate(test_probs, threshold)
        test_metrics.update(unknown_rates_on_test(bundle, test_rows, test_probs, strangers_test, train_cfg.seed,
                                                cancel))
        test_metrics["misclassified"] = misclassified_windows(
            test_probs, [index[r.label] for r in test_rows], labels, [r.source for r in test_rows],
            [r.start_s for r in test_rows], [r.end_s for r in test_rows])
    val_metrics = None
    if len(val_set):
        val_metrics = evaluate_predictions(result.val_probabilities, val_set.labels,
                                           [r.source for r in by_split["val"]], labels)
        val_metrics["unknown_rate"] = unknown_rate(result.val_probabilities, threshold)

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


def _summary_dict(summary: Any) -> Any:
    if summary is None:
        return None
    if hasattr(summary, "to_dict"):
        return summary.to_dict()
    if dataclasses.is_dataclass(summary):
        return dataclasses.asdict(summary)
    return str(summary)
