"""Bottleneck features with an on-disk cache, so retraining after a change of head settings costs seconds.

A cache entry is one ``.npy`` vector per image, found by the sha256 of the image content (the PNG file's
bytes, or the array's bytes) inside a folder named after everything that changes the features: backbone,
weights identity, feature layer(s), preprocessing and image size (a ``FeatureKey``). Entries are written
atomically; an unreadable or wrong-shaped entry is recomputed. (Orange3's image embedder keeps its cache the
same way: keyed by content hash.)
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from audionet_gui.core.base.errors import UnreadableFileError
from audionet_gui.core.base.fsutil import atomic_path, atomic_write_json
from audionet_gui.core.base.jobs import CancelToken, ProgressCallback, ProgressTracker, ensure_token
from audionet_gui.core.model.backbones import (
    fast_predictor,
    get_spec,
    prepare_image,
    resolve_feature_layers,
    resolve_image_size,
    resolve_weights,
    weights_identity,
)

ImageItem = str | os.PathLike | np.ndarray
log = logging.getLogger(__name__)

CACHE_FORMAT = 1


@dataclass(frozen=True)
class FeatureKey:
    """Everything besides the image that decides its features."""

    backbone: str
    weights_id: str  # "imagenet", "none" or "file:<sha256 prefix>"
    feature_layers: tuple[str, ...]
    preprocessing: str
    image_size: tuple[int, int]  # (width, height)

    def digest(self) -> str:
        text = json.dumps({"format": CACHE_FORMAT, **asdict(self)}, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:20]

    def to_dict(self) -> dict:
        d = asdict(self)
        d["feature_layers"] = list(self.feature_layers)
        d["image_size"] = list(self.image_size)
        return d


def feature_key(backbone: str, weights: str | None = "imagenet", image_size=None, feature_layer=None) -> FeatureKey:
    """The key for a backbone configuration, as ``build_feature_extractor`` would build it."""
    spec = get_spec(backbone)
    size = resolve_image_size(backbone, image_size)
    path = resolve_weights(backbone, weights, size)
    if path is None:
        wid = "none"
    elif str(weights).lower() == "imagenet":
        wid = "imagenet"
    else:
        wid = weights_identity(path)
    return FeatureKey(backbone, wid, resolve_feature_layers(backbone, feature_layer), spec.preprocessing, size)


class DerivedImage:
    """An image made from another one on demand (e.g. an augmented copy), so thousands of variants need not sit
    in memory. Its identity is the source's content hash plus ``transform_id``, which must name the transform
    and all its parameters (seed included): equal ids promise equal pixels."""

    def __init__(self, source: ImageItem, transform: Callable[[np.ndarray, str], np.ndarray], transform_id: str):
        self.source = source
        self.transform = transform
        self.transform_id = transform_id
        self._source_hash: str | None = None

    @property
    def source_hash(self) -> str:
        if self._source_hash is None:
            self._source_hash = content_hash(self.source)
        return self._source_hash

    def content_id(self) -> str:
        return hashlib.sha256(f"{self.source_hash}|{self.transform_id}".encode()).hexdigest()

    def load(self, image_size: tuple[int, int]) -> np.ndarray:
        return self.transform(prepare_image(self.source, image_size), self.source_hash)


def load_image(item, image_size: tuple[int, int]) -> np.ndarray:
    """An item (path, array or DerivedImage) as the (H, W, 3) uint8 array the network takes."""
    if isinstance(item, DerivedImage):
        return item.load(image_size)
    return prepare_image(item, image_size)


def content_hash(item) -> str:
    """sha256 of an image's content: a file's bytes, or an array's shape, dtype and bytes."""
    if isinstance(item, DerivedImage):
        return item.content_id()
    digest = hashlib.sha256()
    if isinstance(item, np.ndarray):
        arr = np.ascontiguousarray(item)
        digest.update(f"array:{arr.shape}:{arr.dtype.str}:".encode())
        digest.update(arr.tobytes())
    else:
        try:
            with open(item, "rb") as fh:
                for block in iter(lambda: fh.read(1 << 20), b""):
                    digest.update(block)
        except OSError as exc:
            raise UnreadableFileError(item, f"cannot read this image ({exc.strerror or exc})") from exc
    return digest.hexdigest()


class FeatureCache:
    """One folder of cached vectors for one ``FeatureKey``."""

    def __init__(self, cache_dir: str | Path, key: FeatureKey):
        self.root = Path(cache_dir) / f"{key.backbone}-{key.digest()}"
        self.key = key
        self.write_failed = False
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            meta = self.root / "key.json"
            if not meta.exists():
                atomic_write_json(meta, key.to_dict())  # for people looking into the cache folder
        except OSError as exc:
            self.write_failed = True
            log.warning("feature cache %s is not writable (%s); going on without caching", self.root, exc)

    def path(self, chash: str) -> Path:
        return self.root / chash[:2] / f"{chash}.npy"

    def get(self, chash: str, dim: int | None = None) -> np.ndarray | None:
        p = self.path(chash)
        if not p.exists():
            return None
        try:
            vec = np.load(p, allow_pickle=False)
        except Exception:
            return None  # corrupt (e.g. a disk filled up mid-write elsewhere): recompute
        if vec.ndim != 1 or vec.dtype != np.float32 or (dim is not None and vec.shape[0] != dim) \
                or not np.all(np.isfinite(vec)):
            return None
        return vec

    def put(self, chash: str, vec: np.ndarray) -> None:
        if self.write_failed:
            return
        try:
            with atomic_path(self.path(chash), suffix=".npy") as tmp:
                with open(tmp, "wb") as fh:
                    np.save(fh, np.asarray(vec, dtype=np.float32), allow_pickle=False)
        except OSError as exc:  # disk full, read-only folder: a cache is optional, the features are not
            self.write_failed = True
            log.warning("feature cache %s is not writable (%s); going on without caching", self.root, exc)


def extract_features(images: Sequence[ImageItem], key: FeatureKey, model, cache_dir: str | Path | None,
                     batch_size: int = 32, progress: ProgressCallback | None = None,
                     cancel: CancelToken | None = None, stage: str = "features",
                     stats: dict | None = None) -> np.ndarray:
    """Features (N, D) float32 for images (paths to PNGs or RGB arrays), computed once and then read from cache.

    ``model`` is the feature extractor from ``build_feature_extractor`` for ``key`` (or any callable
    images (n, H, W, 3) -> (n, D)); it is only run on images missing from the cache. Progress counts images
    (cached ones included); cancel is checked between batches. ``cache_dir=None`` disables the cache.
    ``stats``, when given, receives {"cached", "computed", "seconds"} (seconds spent computing).
    """
    cancel = ensure_token(cancel)
    n = len(images)
    tracker = ProgressTracker(progress, stage, n)
    cache = FeatureCache(cache_dir, key) if cache_dir is not None else None
    hashes = [content_hash(item) for item in images] if cache is not None else [None] * n

    out: list[np.ndarray | None] = [None] * n
    dim: int | None = None
    missing: list[int] = []
    for i, h in enumerate(hashes):
        vec = cache.get(h, dim) if cache is not None else None
        if vec is not None:
            dim = dim or vec.shape[0]
            out[i] = vec
        else:
            missing.append(i)
    hits = n - len(missing)
    if hits:
        tracker.advance(hits, message=f"{hits} cached", force=True)
    cancel.raise_if_cancelled()

    if missing:
        predict = fast_predictor(model, batch_size)
        start = time.monotonic()
        done = 0
        for b in range(0, len(missing), batch_size):
            cancel.raise_if_cancelled()
            idx = missing[b:b + batch_size]
            batch = np.stack([load_image(images[i], key.image_size) for i in idx])
            feats = np.asarray(predict(batch), dtype=np.float32)
            for j, i in enumerate(idx):
                out[i] = feats[j]
                if cache is not None:
                    cache.put(hashes[i], feats[j])
            done += len(idx)
            rate = done / max(time.monotonic() - start, 1e-9)
            tracker.advance(len(idx), message=f"{rate:.1f} images/s", images_per_s=rate)

    if stats is not None:
        stats.update(cached=hits, computed=len(missing),
                     seconds=(time.monotonic() - start) if missing else 0.0)
    if n == 0:
        dim0 = int(model.output_shape[-1]) if hasattr(model, "output_shape") else 0
        return np.zeros((0, dim0), np.float32)
    dims = {v.shape[0] for v in out}  # a stale entry of another width would have been refused above
    if len(dims) != 1:
        raise RuntimeError(f"inconsistent feature sizes {sorted(dims)} in cache {cache.root if cache else ''}")
    return np.stack(out).astype(np.float32, copy=False)
