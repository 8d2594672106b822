"""Add a speaker to a model (or more audio to one it knows) in seconds: the backbone stays as it is, only the head
retrains, on the cached features of the model's own training windows plus the new speaker's windows.

    model folder -> its training workspace (manifest + window images) -> features (the feature cache; computed
    once when missing) + the new audio's windows (the model's window rule and speech gate) -> head trained again
    (the model's own head settings) -> unknown threshold re-calibrated on the validation windows (and strangers
    simulated by leaving each class out) -> test windows of every class measured, old and new model side by side
    -> a complete new model folder (labels, config, metrics)

The new speaker's windows are split by file (with three files or more: one for testing, one for validation) or,
with fewer files, by time (the first 70 % train, then 15 % validation, the last 15 % test), so a test window never
overlaps a training one by more than the window's overlap at one boundary.
"""

from __future__ import annotations

import dataclasses
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from audionet_gui.core.audio.spectrogram import save_png, spectrogram_image
from audionet_gui.core.audio.vad import has_speech, window_speech
from audionet_gui.core.audio.windows import iter_file_windows
from audionet_gui.core.base.errors import AudioFileError, BundleError, DatasetError
from audionet_gui.core.base.jobs import CancelToken, Progress, ProgressCallback, ensure_token, no_progress
from audionet_gui.core.data.convert.manifest import ManifestRow, load_manifest
from audionet_gui.core.model.bundle import check_bundle_target, load_bundle, save_bundle
from audionet_gui.core.model.calibration import FeatureSplits, ScoredWindows, calibrate_unknown
from audionet_gui.core.model.evaluation import evaluate_predictions, unknown_rates
from audionet_gui.core.model.features import extract_features, feature_key
from audionet_gui.core.model.head import train_head
from audionet_gui.core.model.openset import CONFIG_KEY as OPEN_SET_KEY
from audionet_gui.core.model.openset import OpenSet
from audionet_gui.core.model.openset import head_parts as model_parts
from audionet_gui.core.model.timeline import head_parts, voice_clips
from audionet_gui.core.model.training import TrainConfig
from audionet_gui.core.pipeline import cache_root

SPLIT_SHARES = (0.70, 0.15)  # train, validation; the rest is test (fewer than three files)


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in name)[:40] or "speaker"


@dataclass
class EnrollReport:
    bundle_path: Path
    name: str
    new_speaker: bool
    labels: list[str]
    windows: dict  # split -> the new speaker's windows
    files: list[str]
    failed: list[dict]
    unknown_threshold: float
    metrics: dict
    before: dict  # per-class test recall of the old model on the same test windows (other speakers)
    after: dict  # the same with the new model
    seconds: float = 0.0
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        test = self.metrics.get("test") or {}
        return {"model": str(self.bundle_path), "name": self.name, "new_speaker": self.new_speaker,
                "labels": self.labels, "windows": self.windows, "files": self.files, "failed": self.failed,
                "unknown_threshold": self.unknown_threshold, "test_accuracy": test.get("accuracy"),
                "others_before": self.before, "others_after": self.after, "seconds": round(self.seconds, 2),
                "warnings": self.warnings}


def _speaker_windows(bundle, paths, cancel: CancelToken) -> tuple[list[list[np.ndarray]], list[dict]]:
    """Per readable file, the images of its windows with speech (the model's gate); unreadable files reported."""
    wcfg, rate, spec = bundle.window_config, bundle.sample_rate, bundle.spectrogram_config
    per_file, failed = [], []
    for path in paths:
        cancel.raise_if_cancelled()
        try:
            images = [spectrogram_image(w.samples, spec) for w in iter_file_windows(path, rate, wcfg)
                      if not wcfg.speech_gated or has_speech(window_speech(w.samples, rate, wcfg.speech_threshold))]
        except AudioFileError as exc:
            failed.append({"path": str(path), "reason": exc.reason})
            continue
        if not images:
            failed.append({"path": str(path), "reason": "no window with speech"})
            continue
        per_file.append(images)
    return per_file, failed


def _split_new(per_file: list[list[np.ndarray]]) -> dict[str, list[np.ndarray]]:
    split: dict[str, list[np.ndarray]] = {"train": [], "val": [], "test": []}
    if len(per_file) >= 3:
        for i, images in enumerate(per_file):
            part = "test" if i == len(per_file) - 1 else "val" if i == len(per_file) - 2 else "train"
            split[part].extend(images)
        return split
    for images in per_file:
        n = len(images)
        a = max(1, int(round(n * SPLIT_SHARES[0])))
        b = min(n, a + max(1, int(round(n * SPLIT_SHARES[1])))) if n > 2 else n
        split["train"] += images[:a]
        split["val"] += images[a:b]
        split["test"] += images[b:]
    return split


def enroll_speaker(model_dir: str | Path, name: str, audio: list[str | Path], out_dir: str | Path,
                   feature_cache: str | Path | None = None, progress: ProgressCallback | None = None,
                   cancel: CancelToken | None = None) -> EnrollReport:
    """Write ``out_dir``: the model of ``model_dir`` that also knows ``name`` from ``audio`` (files). Raises
    ``BundleError`` for a model whose backbone is not frozen (fine-tuned or trained end to end: its features are
    not the cached ones) or whose training windows are gone, ``DatasetError`` when no file gives speech."""
    import time  # noqa: PLC0415 - only for the wall time below

    import keras  # noqa: PLC0415 - loads TensorFlow/Keras (3 s): only when this runs

    started = time.monotonic()
    progress = progress or no_progress
    cancel = ensure_token(cancel)
    name = str(name).strip()
    if not name:
        raise ValueError("the speaker needs a name")
    out_dir = Path(out_dir)
    check_bundle_target(out_dir)
    progress(Progress("enrolling", 0, 5, "loading the model"))
    bundle = load_bundle(model_dir)
    parts = head_parts(bundle)
    train_cfg = TrainConfig.from_dict(bundle.config.get("train") or {})
    if parts is None or train_cfg.fine_tune or bundle.backbone == "small_cnn":
        raise BundleError(f"{bundle.path}: only a model whose head was trained on a frozen backbone can take a new "
                          "speaker without training again (this one was fine-tuned or trained end to end)")
    workspace = Path((bundle.metrics.get("data") or {}).get("workspace") or "")
    try:
        rows = [r for r in load_manifest(workspace) if r.label in bundle.labels and r.split in ("train", "val", "test")]
    except DatasetError:
        rows = []
    # speakers enrolled before: their windows were kept as images in the cache (``enrolled_windows`` in metrics)
    carried = (bundle.metrics.get("enrolled_windows") or {}) if isinstance(bundle.metrics, dict) else {}
    for label, parts_of in carried.items():
        if label in bundle.labels:
            rows += [ManifestRow(str(Path(img).resolve()), label, part, f"{label}:{part}", 0.0, 0.0)
                     for part, images in parts_of.items() for img in images if Path(img).is_file()]
    missing = sorted(set(bundle.labels) - {r.label for r in rows if r.split == "train"})
    if missing or not all((workspace / r.image).is_file() for r in rows[:50]):
        where = workspace if str(workspace) not in ("", ".") else "the cache"
        raise BundleError(f"{bundle.path}: the training windows of this model are no longer in {where}"
                          f"{' (missing: ' + ', '.join(missing) + ')' if missing else ''}; train the model again "
                          "with the new speaker's folder instead")

    progress(Progress("enrolling", 1, 5, f"{name}: windows with speech"))
    per_file, failed = _speaker_windows(bundle, audio, cancel)
    if not per_file:
        raise DatasetError(f"{name}: no speech in " + ", ".join(str(a) for a in audio) +
                           "".join(f"; {f['path']}: {f['reason']}" for f in failed))
    new = _split_new(per_file)
    new_speaker = name not in bundle.labels
    labels = list(bundle.labels) + ([name] if new_speaker else [])
    index = {label: i for i, label in enumerate(labels)}

    # keep the new windows as images, so the next enrolment (of anyone) still has this speaker's windows
    keep_dir = cache_root() / "enrolled" / f"{_safe(name)}-{datetime.now(UTC).strftime('%Y%m%d%H%M%S%f')}"
    kept: dict[str, list[str]] = {}
    for part in ("train", "val", "test"):
        for i, img in enumerate(new[part]):
            target = keep_dir / f"{part}_{i:05d}.png"
            save_png(img, target)
            kept.setdefault(part, []).append(str(target))
    if not new_speaker:  # more audio for a speaker enrolled before: the earlier windows stay too
        for part, images in (carried.get(name) or {}).items():
            kept.setdefault(part, []).extend(img for img in images if Path(img).is_file())

    progress(Progress("enrolling", 2, 5, "features"))
    key = feature_key(train_cfg.backbone, train_cfg.weights, train_cfg.image_size or bundle.image_size,
                      train_cfg.feature_layer)
    cache = Path(feature_cache) if feature_cache else cache_root() / "features"
    old_images = [workspace / r.image for r in rows]
    new_images = [img for part in ("train", "val", "test") for img in new[part]]
    feats = extract_features(old_images + new_images, key, parts.extract, cache, cancel=cancel,
                             progress=lambda p: progress(dataclasses.replace(p, stage="enrolling")))
    x_old, x_new = feats[:len(old_images)], feats[len(old_images):]
    cuts = np.cumsum([len(new["train"]), len(new["val"])])
    x_new_parts = dict(zip(("train", "val", "test"), np.split(x_new, cuts)))

    def split(part: str) -> tuple[np.ndarray, np.ndarray, list[str]]:
        chosen = [i for i, r in enumerate(rows) if r.split == part]
        x = np.concatenate([x_old[chosen], x_new_parts[part]])
        y = np.array([index[rows[i].label] for i in chosen] + [index[name]] * len(x_new_parts[part]), np.int64)
        sources = [rows[i].source for i in chosen] + [f"{name}:{part}"] * len(x_new_parts[part])
        return x, y, sources

    (x_tr, y_tr, src_tr), (x_va, y_va, _), (x_te, y_te, src_te) = split("train"), split("val"), split("test")

    progress(Progress("enrolling", 3, 5, "training the head"))
    head, val_probs = train_head(x_tr, y_tr, x_va, y_va, len(labels), train_cfg, cancel=cancel)
    extractor = [layer for layer in bundle.model.layers if not isinstance(layer, keras.layers.InputLayer)][0]
    image = keras.Input(extractor.input_shape[1:], name="image")
    model = keras.Model(image, head(extractor(image)), name=f"{train_cfg.backbone}_classifier")

    progress(Progress("enrolling", 4, 5, "calibrating and measuring"))
    threshold, calibration, open_set = 1.0 / len(labels), None, None
    test_probs = np.asarray(head.predict(x_te, verbose=0, batch_size=256), np.float32)
    strangers_test = np.zeros(0, np.float32)
    if len(y_va):
        # the same calibration as training (no noise windows here: the enrolment's images are all there is), with
        # the open-set score when the model had one
        new_parts = model_parts(model)
        standardise = new_parts.standardise if new_parts is not None else None
        had_open_set = OpenSet.from_config(bundle.config) is not None
        old_train = [not r.augmented for r in rows if r.split == "train"]  # split() puts them first
        clean_train = np.concatenate([np.array(old_train, bool), np.ones(len(y_tr) - len(old_train), bool)])
        val = ScoredWindows(val_probs, standardise(x_va) if standardise is not None else None)
        calibrated = calibrate_unknown(val, y_va, len(labels), train_cfg,
                                       splits=FeatureSplits(x_tr, y_tr, clean_train, x_va, y_va, x_te, y_te,
                                                            train_groups=src_tr),
                                       standardise=standardise, open_set=had_open_set, cancel=cancel)
        threshold, open_set, strangers_test = calibrated.threshold, calibrated.open_set, calibrated.strangers_test
        calibration = {**calibrated.record,
                       "method": "enrolment: validation windows against left-out classes (no noise windows)"}
        if open_set is not None:
            test_probs = new_parts.outputs(x_te, open_set)[0]
    old_probs = parts.probabilities(parts.standardise(x_te[y_te < len(bundle.labels)]))
    metrics = {"labels": labels, "unknown_threshold": threshold, "calibration": calibration}
    before, after = {}, {}
    if len(y_te):
        test = evaluate_predictions(test_probs, y_te, src_te, labels)
        test["false_unknown_rate_clean"] = unknown_rates(test_probs.max(axis=1), [], threshold)[0]
        if len(strangers_test):
            test["false_accept_rate_strangers"] = unknown_rates([], strangers_test, threshold)[1]
        metrics["test"] = test
        old_y = y_te[y_te < len(bundle.labels)]
        for c, label in enumerate(bundle.labels):
            if label != name and (old_y == c).any():
                before[label] = round(float((old_probs[old_y == c].argmax(axis=1) == c).mean()), 4)
                after[label] = round(float((test_probs[y_te == c].argmax(axis=1) == c).mean()), 4)
    metrics["val"] = evaluate_predictions(val_probs, y_va, ["val"] * len(y_va), labels) if len(y_va) else None
    metrics["enrolled"] = {"name": name, "new_speaker": new_speaker, "from": str(bundle.path),
                           "files": [str(a) for a in audio], "failed": failed,
                           "windows": {k: len(v) for k, v in new.items()}, "others_before": before,
                           "others_after": after, "created": datetime.now(UTC).isoformat(timespec="seconds")}
    metrics["data"] = {**(bundle.metrics.get("data") or {}), "enrolled": metrics["enrolled"]["windows"]}
    metrics["backbone"] = bundle.metrics.get("backbone")
    metrics["enrolled_windows"] = {**{k: v for k, v in carried.items() if k in labels and k != name}, name: kept}
    config = dict(bundle.config)
    config["unknown_threshold"] = float(threshold)
    config.pop(OPEN_SET_KEY, None)  # the old classes' centroids no longer fit the new head
    if open_set is not None:
        config[OPEN_SET_KEY] = open_set.to_config()
    config["enrolled"] = [*config.get("enrolled", []), name]
    warnings = []
    if not new["test"] or not new["val"]:
        warnings.append(f"{name}: too little audio to hold windows back for validation and testing")
    save_bundle(out_dir, model, labels, config, metrics, cancel=cancel)
    progress(Progress("enrolling", 5, 5, "done"))
    return EnrollReport(out_dir, name, new_speaker, labels, {k: len(v) for k, v in new.items()},
                        [str(a) for a in audio], failed, float(threshold), metrics, before, after,
                        time.monotonic() - started, warnings)


def name_voice(model_dir: str | Path, audio: str | Path, segments: list[Any], label: str, name: str,
               out_dir: str | Path | None = None, progress: ProgressCallback | None = None,
               cancel: CancelToken | None = None) -> EnrollReport:
    """"Name this voice": the turns of ``label`` (an ``unknown-N`` of a timeline, ``segments`` of the file
    ``audio``) enrolled as ``name``; the model folder is replaced by the new one (``out_dir`` None) or written to
    ``out_dir``."""
    bundle = load_bundle(model_dir, load_model=False)
    with tempfile.TemporaryDirectory(prefix="audionet-voice-") as tmp:
        clips = voice_clips(audio, segments, label, bundle.sample_rate, tmp)
        if not clips:
            raise DatasetError(f"{audio}: no turn of {label} to learn the voice from")
        return enroll_speaker(model_dir, name, clips, out_dir or model_dir, progress=progress, cancel=cancel)
