"""Making a feature map from a model in memory, and keeping it where the Feature map page looks.

Training calls ``make_map`` with the model it has just trained (TensorFlow and the model are loaded already),
before the bundle is saved, and ``keep_map`` once it is: the first map a user opens after training is then a file
read. A first map made later by the page's job (featmap.py) in a fresh process waited for TensorFlow and the model
(on the demo 14.9 s on a quiet machine, about 10 s of it TensorFlow's import; bench/featmap.py ``--model``).

    windows of the training workspace (no augmented copies; with the speech gate, only windows with speech)
    -> features (a head on a frozen backbone: the vectors training cached; any other model: its own trunk)
    -> the head's answer for each window (misclassified: it names another class)
    -> the doctor's label judge on the same features (suspect files: core/data/doctor/judge.py)
    -> 2-D: features standardised, PCA to at most 50 dimensions, then t-SNE (scikit-learn, Barnes-Hut)

Nothing here imports the training pipeline, so the pipeline can import it.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from audionet_gui.core.base.errors import AudioNetError, BundleError
from audionet_gui.core.base.fsutil import atomic_write_json, file_sha256
from audionet_gui.core.base.jobs import CancelToken, Progress, ProgressCallback, ensure_token, no_progress
from audionet_gui.core.data.convert.manifest import ManifestRow
from audionet_gui.core.data.doctor.judge import (
    out_of_fold_probabilities,
    standardised,
    suspects_from_probabilities,
)
from audionet_gui.core.model.backbones import get_spec
from audionet_gui.core.model.bundle import MODEL_FILE, ModelBundle
from audionet_gui.core.model.features import FeatureKey, extract_features, feature_key
from audionet_gui.core.model.timeline import head_parts
from audionet_gui.core.model.training import TrainConfig

FORMAT = 1
PCA_DIMS = 50
PERPLEXITY = 30.0
MIN_TSNE_POINTS = 10  # fewer points: PCA alone (t-SNE needs a neighbourhood to keep)
SPLITS = ("train", "val", "test")
MAPS_DIR = "featmaps"


@dataclass
class FeatureMap:
    """One point per window: ``xy`` (N, 2) and, per point, its file, time, class, split, the model's answer and
    whether that answer is wrong or the file is a suspect of the label judge."""

    model: str
    labels: list[str]
    xy: np.ndarray
    files: list[str]
    starts: np.ndarray
    ends: np.ndarray
    classes: np.ndarray     # index into labels: the folder's class
    predicted: np.ndarray   # index into labels: the model's answer
    p: np.ndarray           # the answer's probability
    splits: list[str]
    suspect: np.ndarray     # bool: the window's file is a suspect_label finding
    suspects: list[dict] = field(default_factory=list)  # the findings (to_dict + "suggested_class")
    method: str = "pca+tsne"
    seconds: dict = field(default_factory=dict)
    cached: bool = False    # read from the map cache, not computed
    made_by: str = "map"    # "training": made by the training job right after training (kept in the map cache)

    def __len__(self) -> int:
        return len(self.files)

    @property
    def misclassified(self) -> np.ndarray:
        return np.asarray(self.predicted) != np.asarray(self.classes)

    def point(self, i: int) -> dict:
        return {"file": self.files[i], "start": round(float(self.starts[i]), 3), "end": round(float(self.ends[i]), 3),
                "class": self.labels[int(self.classes[i])], "predicted": self.labels[int(self.predicted[i])],
                "p": round(float(self.p[i]), 4), "split": self.splits[i],
                "misclassified": bool(self.misclassified[i]), "suspect": bool(self.suspect[i]),
                "x": round(float(self.xy[i, 0]), 4), "y": round(float(self.xy[i, 1]), 4)}

    def to_dict(self) -> dict:
        """The JSON of ``audionet featmap --json``."""
        return {"model": self.model, "labels": list(self.labels), "method": self.method,
                "points": [self.point(i) for i in range(len(self))], "suspects": list(self.suspects),
                "seconds": {k: round(float(v), 3) for k, v in self.seconds.items()}, "made_by": self.made_by}

    @classmethod
    def from_dict(cls, d: dict) -> FeatureMap:
        labels = list(d["labels"])
        index = {name: i for i, name in enumerate(labels)}
        pts = d["points"]
        return cls(d["model"], labels, np.array([[p["x"], p["y"]] for p in pts], np.float32).reshape(-1, 2),
                   [p["file"] for p in pts], np.array([p["start"] for p in pts], np.float64),
                   np.array([p["end"] for p in pts], np.float64), np.array([index[p["class"]] for p in pts], int),
                   np.array([index[p["predicted"]] for p in pts], int), np.array([p["p"] for p in pts], np.float32),
                   [p["split"] for p in pts], np.array([p["suspect"] for p in pts], bool),
                   list(d.get("suspects") or []), d.get("method", "pca+tsne"), dict(d.get("seconds") or {}),
                   made_by=str(d.get("made_by") or "map"))


def windows_to_map(rows: Sequence[ManifestRow], labels: Sequence[str], speech_gated: bool) -> list[ManifestRow]:
    """The windows of the model's recordings among a workspace's manifest rows: no augmented copies; with the
    speech gate, only windows with speech (the model never names the others)."""
    names = set(labels)
    return [r for r in rows if r.augmented == 0 and r.label in names and r.split in SPLITS
            and (r.speech or not speech_gated)]


def frozen_feature_key(bundle: ModelBundle) -> FeatureKey | None:
    """Training's own feature key for a head on a frozen pretrained backbone (those vectors are cached already),
    else None."""
    cfg = TrainConfig.from_dict(bundle.config.get("train") or {})
    frozen = bundle.config.get("train") and not cfg.fine_tune and cfg.backbone != "small_cnn"
    if frozen and get_spec(cfg.backbone).pretrained:
        try:
            return feature_key(cfg.backbone, cfg.weights, cfg.image_size or bundle.image_size, cfg.feature_layer)
        except (AudioNetError, ValueError, OSError):
            pass  # the weights file is gone: the model's own key (its features are computed once more)
    return None


def own_feature_key(bundle: ModelBundle, model_hash: str) -> FeatureKey:
    """A key that names this model file: its trunk learned, so nobody else has its features."""
    backbone = bundle.config.get("backbone") or {}
    return FeatureKey(bundle.backbone, f"model:{model_hash[:20]}", tuple(bundle.config.get("feature_layers") or ()),
                      str(backbone.get("preprocessing") or ""), tuple(bundle.image_size))


def embed_2d(features: np.ndarray, seed: int = 0, threads: int | None = 1) -> tuple[np.ndarray, str]:
    """(N, 2) points and the method's name: standardised features (as the label judge sees them), PCA to at
    most ``PCA_DIMS`` dimensions, then t-SNE (Barnes-Hut; perplexity 30, less for few points).

    One thread by default: t-SNE's OpenMP threads wait by spinning, and on the shared 2 cores under load two
    threads took 10x the wall time of one (bench/featmap.py: N = 300, 68 s against 7 s)."""
    from sklearn.decomposition import PCA  # noqa: PLC0415 - scikit-learn takes ~1 s to import: only here
    from sklearn.manifold import TSNE  # noqa: PLC0415 - as above
    from threadpoolctl import threadpool_limits  # noqa: PLC0415 - with scikit-learn

    n = len(features)
    if n == 0:
        return np.zeros((0, 2), np.float32), "none"
    if n < 3:
        return np.column_stack([np.arange(n, dtype=np.float32), np.zeros(n, np.float32)]), "none"
    z = standardised(np.asarray(features, np.float32))
    dims = int(min(PCA_DIMS, n - 1, z.shape[1]))
    with threadpool_limits(threads):
        reduced = PCA(dims, random_state=seed, svd_solver="auto").fit_transform(z)
        if n < MIN_TSNE_POINTS or dims < 2:
            xy = reduced[:, :2] if dims >= 2 else np.column_stack([reduced[:, 0], np.zeros(n)])
            return np.asarray(xy, np.float32), "pca"
        tsne = TSNE(2, perplexity=min(PERPLEXITY, (n - 1) / 3.0), init="pca", learning_rate="auto",
                    random_state=seed)
        return np.asarray(tsne.fit_transform(reduced), np.float32), "pca+tsne"


def map_cache_path(cache_dir: Path, labels: Sequence[str], model_hash: str, workspace: Path) -> Path:
    """Where the finished map of a model file (by its hash) on a workspace's manifest is kept."""
    manifest = workspace / "manifest.csv"
    text = json.dumps({"format": FORMAT, "model": model_hash, "labels": list(labels),
                       "manifest": file_sha256(manifest) if manifest.is_file() else "",
                       "pca": PCA_DIMS, "perplexity": PERPLEXITY}, sort_keys=True)
    return Path(cache_dir) / MAPS_DIR / f"{hashlib.sha256(text.encode()).hexdigest()[:24]}.json"


def make_map(bundle: ModelBundle, workspace: Path, rows: Sequence[ManifestRow], feature_dir: Path | None,
             model_hash: str | None = None, progress: ProgressCallback | None = None,
             cancel: CancelToken | None = None, stage: str = "features") -> FeatureMap:
    """The map of ``rows`` (``windows_to_map``) through ``bundle``'s model, which must be loaded. Features are
    read from / kept in ``feature_dir`` (a frozen backbone's: training's; another model's: under ``model_hash``,
    not kept without it); ``stage`` names their progress. Raises ``BundleError`` when the model is not a
    backbone followed by a classifier head."""
    progress = progress or no_progress
    cancel = ensure_token(cancel)
    seconds: dict[str, float] = {}
    parts = head_parts(bundle)
    if parts is None:
        raise BundleError(f"{bundle.path}: this model is not a backbone followed by a classifier head, so it has no "
                          "features to map")
    cancel.raise_if_cancelled()

    t0 = time.monotonic()
    key = frozen_feature_key(bundle)
    if key is None:
        key = own_feature_key(bundle, model_hash or "unsaved")
        if model_hash is None:
            feature_dir = None  # the model file is not saved yet: nothing names its features in the cache
    feats = extract_features([workspace / r.image for r in rows], key, parts.extract, feature_dir,
                             progress=progress, cancel=cancel, stage=stage)
    if feats.shape[1] != parts.mean.shape[0]:
        raise BundleError(f"{bundle.path}: its features ({feats.shape[1]}) do not fit its head "
                          f"({parts.mean.shape[0]})")
    probs = parts.probabilities(parts.standardise(feats))
    seconds["features"] = time.monotonic() - t0
    cancel.raise_if_cancelled()

    progress(Progress("mapping", 2, 4, "judging labels"))
    index = {name: i for i, name in enumerate(bundle.labels)}
    labels = np.array([index[r.label] for r in rows], int)
    files = sorted({r.source for r in rows})
    file_index = {f: i for i, f in enumerate(files)}
    groups = np.array([file_index[r.source] for r in rows])
    judged = out_of_fold_probabilities(feats, labels, groups, len(bundle.labels))
    findings = suspects_from_probabilities(judged, labels, files, groups, bundle.labels)
    suspect_files = {p for f in findings for p in f.paths}
    cancel.raise_if_cancelled()

    progress(Progress("mapping", 3, 4, f"placing {len(rows)} windows in 2-D"))
    t0 = time.monotonic()
    xy, method = embed_2d(feats)
    seconds["embedding"] = time.monotonic() - t0
    cancel.raise_if_cancelled()
    return FeatureMap(
        str(bundle.path), list(bundle.labels), xy, [r.source for r in rows],
        np.array([r.start_s for r in rows], np.float64), np.array([r.end_s for r in rows], np.float64), labels,
        probs.argmax(axis=1).astype(int), probs.max(axis=1).astype(np.float32), [r.split for r in rows],
        np.array([r.source in suspect_files for r in rows], bool),
        [{**f.to_dict(), "suggested_class": f.suggested_class} for f in findings], method, seconds)


def keep_map(fmap: FeatureMap, cache_dir: Path, model_dir: Path, workspace: Path,
             model_hash: str | None = None) -> Path | None:
    """Keep ``fmap`` in ``<cache_dir>/featmaps`` under the saved model file's hash (read now unless given), where
    ``featmap.feature_map`` looks first. The path, or None when it could not be written (a cache is optional)."""
    try:
        model_hash = model_hash or file_sha256(Path(model_dir) / MODEL_FILE)
        path = map_cache_path(cache_dir, fmap.labels, model_hash, workspace)
        atomic_write_json(path, fmap.to_dict())
    except OSError:
        return None
    return path
