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
from typing import Any, Union

import numpy as np

from audionet_gui.core.audio.spectrogram import SpectrogramConfig
from audionet_gui.core.audio.windows import WindowConfig, iter_file_windows
from audionet_gui.core.base.errors import AudioFileError, DatasetError
from audionet_gui.core.base.jobs import (
    CancelToken,
    Progress,
    ProgressCallback,
    ProgressTracker,
    ensure_token,
    no_progress,
)
from audionet_gui.core.data.convert import AugmentPlan, convert_dataset, load_manifest
from audionet_gui.core.data.dataset import DatasetSpec, class_sources
from audionet_gui.core.model.backbones import (
    get_spec,
    prepare_image,
    resolve_image_size,
    resolve_weights,
    weights_identity,
)
from audionet_gui.core.model.bundle import ModelBundle, check_bundle_target, load_bundle, make_config, save_bundle
from audionet_gui.core.model.evaluation import (
    calibrate_unknown_threshold,
    evaluate_predictions,
    misclassified_windows,
    render_confusion_png,
)
from audionet_gui.core.model.features import extract_features, feature_key
from audionet_gui.core.model.predict import predict_images, predict_stream
from audionet_gui.core.model.training import LabeledImages, TrainConfig, train_classifier

PathLike = Union[str, Path]

EVAL_BATCH = 32


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
        else:
            lines.append("test accuracy: no test data")
        if m.get("val"):
            lines.append(f"validation accuracy: {m['val']['accuracy']:.1%}")
        lines.append(f"unknown below p = {self.unknown_threshold:.3f}")
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


def _cached_feature_probabilities(model, train_cfg, paths: Sequence[Path], feature_cache: Path | None,
                                  progress: ProgressCallback, cancel: CancelToken) -> np.ndarray | None:
    """Test probabilities through the feature cache, when that is exactly the model's own computation.

    A head trained on frozen backbone features is stacked as image -> extractor -> head. The extractor is then
    the very network that filled the feature cache, so test features can come from (and go to) that cache and
    retraining with other head settings does not run the backbone on the test set again. Returns None (the
    caller runs the whole model) for fine-tuned or end-to-end models, whose backbone is no longer the cached one,
    and for any model of another shape.
    """
    import keras  # noqa: PLC0415 - loads TensorFlow/Keras (3 s): only when this runs

    spec = get_spec(train_cfg.backbone)
    if train_cfg.fine_tune or not spec.pretrained or train_cfg.backbone == "small_cnn" or feature_cache is None:
        return None
    parts = [layer for layer in model.layers if not isinstance(layer, keras.layers.InputLayer)]
    if len(parts) != 2 or not all(isinstance(part, keras.Model) for part in parts):
        return None
    extractor, head = parts
    key = feature_key(train_cfg.backbone, train_cfg.weights, train_cfg.image_size, train_cfg.feature_layer)
    features = extract_features(list(paths), key, extractor, feature_cache, progress=progress, cancel=cancel,
                                stage="evaluating")
    if features.shape[1] != int(head.input_shape[-1]):
        return None
    return np.asarray(head.predict(features, verbose=0, batch_size=256), dtype=np.float32)


def _unknown_rate(probabilities: np.ndarray, threshold: float) -> float:
    if not len(probabilities):
        return 0.0
    return float((probabilities.max(axis=1) < threshold).mean())


def train_from_folders(
    data: Any,
    out_dir: PathLike,
    spectrogram_cfg=None,
    window_cfg=None,
    train_cfg=None,
    test_dir: PathLike | None = None,
    workspace: PathLike | None = None,
    feature_cache: PathLike | None = None,
    split_cfg=None,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
    augment: Any = "default",
) -> TrainReport:
    """Train a model from a dataset and write its bundle to ``out_dir``.

    ``augment`` (an ``AugmentPlan``, None for none, "default" for one noisy copy per training window) makes
    audio-domain augmented copies at conversion (background noise, level, shift, masks): the model learns
    that a fan or rain is not the speaker. ``train_cfg.augment=False`` turns every augmentation off.

    ``data`` is a folder of class subfolders or a ``DatasetSpec``; ``split_cfg`` (a ``SplitConfig``) sets the
    validation/test fractions of the split by source file. The image size is a model setting:
    ``train_cfg.image_size`` when given, else the backbone's default; the spectrogram config's own size is
    replaced by it, so images are made at the size the network takes (no resizing anywhere).
    Progress stages: "converting", "features", "training" (and "fine_tuning"), "evaluating", "saving".
    Cancel leaves the previous bundle (or none) and a consistent, re-usable workspace.
    """

    started = time.monotonic()
    progress = progress or no_progress
    cancel = ensure_token(cancel)
    spectrogram_cfg = spectrogram_cfg or SpectrogramConfig()
    window_cfg = window_cfg or WindowConfig()
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
    size = resolve_image_size(train_cfg.backbone, train_cfg.image_size)
    # Fail on weights before spending minutes converting (offline with no file, missing file ...).
    weights_path = resolve_weights(train_cfg.backbone, train_cfg.weights, size)
    spectrogram_cfg = spectrogram_cfg.with_image_size(*size)
    train_cfg = dataclasses.replace(train_cfg, image_size=tuple(size))

    workspace = Path(workspace) if workspace else default_workspace(spec)
    timings: dict[str, float] = {}
    warnings: list[str] = []

    if augment == "default":
        augment = AugmentPlan(copies=1, seed=train_cfg.seed)
    if not train_cfg.augment:
        augment = None
    if augment is not None and augment.copies > 0:
        # the audio copies already carry SpecAugment masks: no second round of image-only copies for the head
        train_cfg = dataclasses.replace(train_cfg, augment_copies=0)

    t0 = time.monotonic()
    extra = {"split_cfg": split_cfg} if split_cfg is not None else {}
    summary = convert_dataset(spec, workspace, spectrogram_cfg, window_cfg, progress=_restage(progress, "converting"),
                              cancel=cancel, augment=augment, **extra)
    timings["convert_s"] = time.monotonic() - t0
    cancel.raise_if_cancelled()
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
    missing_train = [l for l in labels if index[l] not in set(train_set.labels.tolist())]
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

    threshold = calibrate_unknown_threshold(result.val_probabilities, val_set.labels) if len(val_set) else 1.0 / len(labels)
    config = make_config(
        spectrogram=spectrogram_cfg, window=window_cfg, backbone=train_cfg.backbone, image_size=size,
        unknown_threshold=threshold,
        weights=weights_identity(weights_path) if weights_path else "none",
        preprocessing=backbone.preprocessing, train=train_cfg,
        feature_layers=list(train_cfg.feature_layer.split("+")) if train_cfg.feature_layer else
        list(backbone.feature_layers),
    )
    # A ModelBundle in memory (not yet on disk) so evaluation runs the exact inference path of prediction.
    bundle = ModelBundle(path=out_dir, labels=labels, config=config, metrics={}, model=result.model)

    t0 = time.monotonic()
    test_rows = by_split["test"]
    test_paths = [workspace / r.image for r in test_rows]
    test_probs = None
    if test_rows:
        test_probs = _cached_feature_probabilities(result.model, train_cfg, test_paths, feature_cache, progress,
                                                   cancel)
    if test_probs is None:
        test_probs = _predict_paths(bundle, test_paths, progress, cancel)
    timings["evaluate_s"] = time.monotonic() - t0
    test_metrics = None
    if test_rows:
        test_metrics = evaluate_predictions(test_probs, [index[r.label] for r in test_rows],
                                            [r.source for r in test_rows], labels)
        test_metrics["unknown_rate"] = _unknown_rate(test_probs, threshold)
        test_metrics["misclassified"] = misclassified_windows(
            test_probs, [index[r.label] for r in test_rows], labels, [r.source for r in test_rows],
            [r.start_s for r in test_rows], [r.end_s for r in test_rows])
    val_metrics = None
    if len(val_set):
        val_metrics = evaluate_predictions(result.val_probabilities, val_set.labels,
                                           [r.source for r in by_split["val"]], labels)
        val_metrics["unknown_rate"] = _unknown_rate(result.val_probabilities, threshold)

    metrics = {
        "labels": labels,
        "test": test_metrics,
        "val": val_metrics,
        "unknown_threshold": threshold,
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
    metrics["timings"] = timings
    return TrainReport(out_dir, workspace, labels, metrics, threshold, time.monotonic() - started, timings, warnings)


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
) -> dict:
    """Metrics of a bundle on EVERY file of a folder of class subfolders (no split), as a JSON-ready dict:
    the keys of ``evaluate_predictions`` plus ``files``, ``failed`` (``{path, reason}`` of unreadable files,
    which are skipped) and ``unknown_rate``. A class the model does not know is a ``DatasetError`` naming it.
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
    return metrics
