"""The feature map: every window a model was trained and tested on, as a point in 2-D, so a user sees which
classes the network keeps apart, which it mixes up and which recordings sit among another class.

    model folder -> its training workspace (manifest: the windows' images, files, times, classes, splits)
    -> features, answers, suspects and 2-D points as featmap_make.make_map makes them (a head on a frozen
       backbone reuses the very vectors training cached; any other model's features are its own trunk's,
       cached under the model file's hash)

Why scikit-learn's t-SNE (measured, bench/featmap.py and DEVELOPERS.md): openTSNE and umap-learn both need
scikit-learn too, so it is the smallest install; umap-learn adds numba + llvmlite (~200 MB) and its first call
compiles for 20 s or more; on the shared 2 cores scikit-learn was also the fastest at the sizes the app shows.

The finished map is kept in the cache (``<cache>/featmaps``), keyed by the model file, the manifest and the
settings of the map, so opening the page again costs a file read and no TensorFlow. Training keeps one there
right after it trains (featmap_make.py: with the model it has in memory), so the first map opened after training is
such a read too; this job computes one only for a model without it (trained before, or its cache cleared).
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from audionet_gui.core.base.errors import BundleError, DatasetError
from audionet_gui.core.base.fsutil import file_sha256
from audionet_gui.core.base.jobs import CancelToken, Progress, ProgressCallback, ensure_token, no_progress
from audionet_gui.core.data.convert.manifest import ManifestRow, load_manifest
from audionet_gui.core.model.bundle import MODEL_FILE, ModelBundle, load_bundle
from audionet_gui.core.model.featmap_make import (
    FeatureMap,
    embed_2d,
    keep_map,
    make_map,
    map_cache_path,
    windows_to_map,
)
from audionet_gui.core.pipeline import cache_root

__all__ = ["FeatureMap", "embed_2d", "feature_map", "map_rows"]  # FeatureMap and embed_2d: featmap_make's


def map_rows(bundle: ModelBundle) -> tuple[Path, list[ManifestRow]]:
    """The workspace and the windows of the model's recordings (``featmap_make.windows_to_map``)."""
    workspace = Path((bundle.metrics.get("data") or {}).get("workspace") or "")
    try:
        rows = load_manifest(workspace) if str(workspace) not in ("", ".") else []
    except DatasetError:
        rows = []
    rows = windows_to_map(rows, bundle.labels, bundle.window_config.speech_gated)
    if not rows or not all((workspace / r.image).is_file() for r in rows[:50]):
        where = workspace if str(workspace) not in ("", ".") else "the cache"
        raise BundleError(f"{bundle.path}: the windows this model was trained on are no longer in {where}; "
                          "train the model again to see its feature map")
    return workspace, rows


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
    stored = map_cache_path(cache_dir, info.labels, model_hash, workspace)
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
    t0 = time.monotonic()
    bundle = load_bundle(model_dir)
    load_s = time.monotonic() - t0
    cancel.raise_if_cancelled()
    fmap = make_map(bundle, workspace, rows, cache_dir / "features", model_hash, progress=progress, cancel=cancel)
    fmap.model = str(model_dir)
    fmap.seconds = {"load": load_s, **fmap.seconds}
    keep_map(fmap, cache_dir, Path(model_dir), workspace, model_hash)
    fmap.seconds["total"] = time.monotonic() - started
    progress(Progress("mapping", 4, 4, "done"))
    return fmap
