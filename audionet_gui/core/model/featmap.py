"""The feature map: every window a model was trained and tested on, as a point in 2-D, so a user sees which
classes the network keeps apart, which it mixes up and which recordings sit among another class.

    model folder -> its training workspace (manifest: the windows' images, files, times, classes, splits)
    -> features (the feature cache: a head on a frozen backbone reuses the very vectors training cached; any
       other model's features are its own trunk's, cached under the model file's hash)
    -> the head's answer for each window (misclassified: it names another class)
    -> the doctor's label judge on the same features (suspect files: core/data/doctor/suspects.py)
    -> 2-D: features standardised, PCA to at most 50 dimensions, then t-SNE (scikit-learn, Barnes-Hut)

Why scikit-learn's t-SNE (measured, bench/featmap.py and DEVELOPERS.md): openTSNE and umap-learn both need
scikit-learn too, so it is the smallest install; umap-learn adds numba + llvmlite (~200 MB) and its first call
compiles for 20 s or more; on the shared 2 cores scikit-learn was also the fastest at the sizes the app shows.

The finished map is kept in the cache (``<cache>/featmaps``), keyed by the model file, the manifest and the
settings of the map, so opening the page again costs a file read and no TensorFlow.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from audionet_gui.core.base.errors import AudioNetError, BundleError, DatasetError
from audionet_gui.core.base.fsutil import atomic_write_json, file_sha256
from audionet_gui.core.base.jobs import CancelToken, Progress, ProgressCallback, ensure_token, no_progress
from audionet_gui.core.data.convert import ManifestRow, load_manifest
from audionet_gui.core.data.doctor.suspects import (
    out_of_fold_probabilities,
    standardised,
    suspects_from_probabilities,
)
from audionet_gui.core.model.backbones import get_spec
from audionet_gui.core.model.bundle import MODEL_FILE, ModelBundle, load_bundle
from audionet_gui.core.model.features import FeatureKey, extract_features, feature_key
from audionet_gui.core.model.timeline import head_parts
from audionet_gui.core.model.training import TrainConfig
from audionet_gui.core.pipeline import cache_root

FORMAT = 1
PCA_DIMS = 50
PERPLEXITY = 30.0
MIN_TSNE_POINTS = 10  # fewer points: PCA alone (t-SNE needs a neighbourhood to keep)
SPLITS = ("train", "val", "test")


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
                "seconds": {k: round(float(v), 3) for k, v in self.seconds.items()}}

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
                   list(d.get("suspects") or []), d.get("method", "pca+tsne"), dict(d.get("seconds") or {}))


def map_rows(bundle: ModelBundle) -> tuple[Path, list[ManifestRow]]:
    """The workspace and the windows of the model's recordings (no augmented copies; with the speech gate, only
    windows with speech: the model never names the others)."""
    workspace = Path((bundle.metrics.get("data") or {}).get("workspace") or "")
    try:
        rows = load_manifest(workspace) if str(workspace) not in ("", ".") else []
    except DatasetError:
        rows = []
    labels = set(bundle.labels)
    gated = bundle.window_config.speech_gated
    rows = [r for r in rows if r.augmented == 0 and r.label in labels and r.split in SPLITS
            and (r.speech or not gated)]
    if not rows or not all((workspace / r.image).is_file() for r in rows[:50]):
        where = workspace if str(workspace) not in ("", ".") else "the cache"
        raise BundleError(f"{bundle.path}: the windows this model was trained on are no longer in {where}; "
                          "train the model again to see its feature map")
    return workspace, rows


def _key(bundle: ModelBundle, model_hash: str) -> FeatureKey:
    """The feature cache's key: training's own for a head on a frozen pretrained backbone (those vectors are
    cached already), else one that names this model file (its trunk learned: nobody else has its features)."""
    cfg = TrainConfig.from_dict(bundle.config.get("train") or {})
    frozen = bundle.config.get("train") and not cfg.fine_tune and cfg.backbone != "small_cnn"
    if frozen and get_spec(cfg.backbone).pretrained:
        try:
            return feature_key(cfg.backbone, cfg.weights, cfg.image_size or bundle.image_size, cfg.feature_layer)
        except (AudioNetError, ValueError, OSError):
            pass  # the weights file is gone: the model's own key (its features are computed once more)
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


def _map_cache_path(cache_dir: Path, bundle: ModelBundle, model_hash: str, workspace: Path) -> Path:
    manifest = workspace / "manifest.csv"
    text = json.dumps({"format": FORMAT, "model": model_hash, "labels": bundle.labels,
                       "manifest": file_sha256(manifest) if manifest.is_file() else "",
                       "pca": PCA_DIMS, "perplexity": PERPLEXITY}, sort_keys=True)
    return cache_dir / "featmaps" / f"{hashlib.sha256(text.encode()).hexdigest()[:24]}.json"


def feature_map(model_dir: str | Path, cache_dir: str | Path | None = None, use_cache: bool = True,
                progress: ProgressCallback | None = None, cancel: CancelToken | None = None) -> FeatureMap:
    """The feature map of the model in ``model_dir`` (a core job: progress, cancel). ``cache_dir``: where the
    feature vectors (``features/``) and finished maps (``featmaps/``) are kept; default ``cache_root()``.
    Raises ``BundleError`` when the model's training windows are gone or the model has no feature layer."""
    started = time.monotonic()
    progress = progress or no_progress
    cancel = ensure_token(cancel)
    cache_dir = Path(cache_dir) if cache_dir is not None else cache_root()
    progress(Progress("mapping", 0, 4, "reading the model"))
    info = load_bundle(model_dir, load_model=False)
    workspace, rows = map_rows(info)
    model_hash = file_sha256(Path(model_dir) / MODEL_FILE)
    stored = _map_cache_path(cache_dir, info, model_hash, workspace)
    if use_cache and stored.is_file():
        try:
            fmap = FeatureMap.from_dict(json.loads(stored.read_text(encoding="utf-8")))
            fmap.model, fmap.cached = str(model_dir), True
            fmap.seconds = {**fmap.seconds, "total": time.monotonic() - started}
            progress(Progress("mapping", 4, 4, "read from the cache"))
            return fmap
        except (ValueError, KeyError, TypeError, OSError):
            pass  # damaged: compute it again
    cancel.raise_if_cancelled()
    seconds: dict[str, float] = {}
    t0 = time.monotonic()
    bundle = load_bundle(model_dir)
    parts = head_parts(bundle)
    if parts is None:
        raise BundleError(f"{bundle.path}: this model is not a backbone followed by a classifier head, so it has no "
                          "features to map")
    seconds["load"] = time.monotonic() - t0
    cancel.raise_if_cancelled()

    t0 = time.monotonic()
    key = _key(bundle, model_hash)
    feats = extract_features([workspace / r.image for r in rows], key, parts.extract, cache_dir / "features",
                             progress=progress, cancel=cancel, stage="features")
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
    fmap = FeatureMap(
        str(model_dir), list(bundle.labels), xy, [r.source for r in rows],
        np.array([r.start_s for r in rows], np.float64), np.array([r.end_s for r in rows], np.float64), labels,
        probs.argmax(axis=1).astype(int), probs.max(axis=1).astype(np.float32), [r.split for r in rows],
        np.array([r.source in suspect_files for r in rows], bool),
        [{**f.to_dict(), "suggested_class": f.suggested_class} for f in findings], method, seconds)
    try:
        atomic_write_json(stored, fmap.to_dict())
    except OSError:
        pass  # a cache is optional
    fmap.seconds["total"] = time.monotonic() - started
    progress(Progress("mapping", 4, 4, "done"))
    return fmap
