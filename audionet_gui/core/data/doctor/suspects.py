"""Files whose folder is probably the wrong one: each window is judged by its nearest neighbours among the
windows of OTHER files (out-of-fold by file), on the backbone's cached features; a file whose windows sound
clearly like another class is a suspect, ranked by how sure that judgement is.

The features are the training pipeline's own (same conversion, same feature cache), so a doctor run before
training makes the first training faster and one after it costs little.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import numpy as np

from audionet_gui.core.base.jobs import CancelToken, ProgressCallback, ensure_token
from audionet_gui.core.data.convert import convert_dataset, load_manifest
from audionet_gui.core.data.dataset import DatasetSpec
from audionet_gui.core.data.doctor.findings import Finding
from audionet_gui.core.model.backbones import build_feature_extractor
from audionet_gui.core.model.features import extract_features, feature_key
from audionet_gui.core.pipeline import cache_root, default_workspace
from audionet_gui.core.settings import ImageSettings

SUSPECT_MIN_P = 0.5       # the other class must take at least this share of the file's votes
SUSPECT_MAX_OWN_P = 0.25  # and its own class at most this
NEIGHBOURS = 10
BLOCK = 1024


def standardised(features: np.ndarray) -> np.ndarray:
    """Each feature centred and scaled to unit variance, each row to unit length: cosine similarity on these
    weighs every feature alike whatever the backbone's scale. (Projecting on principal axes and whitening
    them was tried: it lifts noise directions to the strength of the real ones and lost planted mislabels.)"""
    x = (features - features.mean(axis=0)) / (features.std(axis=0) + 1e-6)
    return (x / (np.linalg.norm(x, axis=1, keepdims=True) + 1e-12)).astype(np.float32)


def out_of_fold_probabilities(features: np.ndarray, labels: np.ndarray, groups: np.ndarray,
                              n_classes: int, k: int = NEIGHBOURS) -> np.ndarray:
    """(N, n_classes): for each row, the similarity-weighted class votes of its ``k`` nearest rows from OTHER
    files (``groups``): no file is judged by its own windows. Votes are divided by each class's share of the
    rows, so a large class does not outvote a small one by its size. Plain numpy (scikit-learn is not in the
    app bundle)."""
    z = standardised(features)
    n = len(z)
    out = np.full((n, n_classes), np.nan, np.float32)
    prior = np.bincount(labels, minlength=n_classes).astype(np.float32) / max(n, 1)
    for a in range(0, n, BLOCK):
        sims = z[a:a + BLOCK] @ z.T
        sims[groups[a:a + BLOCK, None] == groups[None, :]] = -np.inf
        kk = min(k, n - 1)
        if kk < 1:
            break
        nearest = np.argpartition(-sims, kk - 1, axis=1)[:, :kk]
        for r, cols in enumerate(nearest):
            w = sims[r, cols]
            ok = np.isfinite(w)
            if not ok.any():
                continue
            votes = np.bincount(labels[cols[ok]], weights=np.maximum(w[ok], 0) + 1e-3, minlength=n_classes)
            votes = votes / np.maximum(prior, 1e-9)
            out[a + r] = votes / votes.sum()
    return out


def suspects_from_probabilities(probs: np.ndarray, labels: np.ndarray, files: list[str],
                                file_of_row: np.ndarray, class_names: list[str]) -> list[Finding]:
    """One finding per file whose windows, averaged, sound clearly like another class; surest first."""
    judged = ~np.isnan(probs).any(axis=1)
    # how often the judge itself is right: with weak features (stand-in weights) suspects are mostly hints
    accuracy = float((probs[judged].argmax(axis=1) == labels[judged]).mean()) if judged.any() else 0.0
    rows_of: dict[int, list[int]] = defaultdict(list)
    for r, f in enumerate(file_of_row):
        rows_of[int(f)].append(r)
    found = []
    for f, rows in rows_of.items():
        p = probs[rows]
        p = p[~np.isnan(p).any(axis=1)]
        if not len(p):
            continue
        mean = p.mean(axis=0)
        own = int(labels[rows[0]])
        other = int(np.argmax(mean))
        if other == own or mean[other] < SUSPECT_MIN_P or mean[own] > SUSPECT_MAX_OWN_P:
            continue
        name, to = class_names[own], class_names[other]
        found.append(Finding(
            "suspect_label", [files[f]],
            f"{Path(files[f]).name} is in '{name}' but sounds like '{to}' (p = {mean[other]:.2f}; "
            f"'{name}' {mean[own]:.2f}, judged by its nearest neighbours in other files, which name the right "
            f"class for {accuracy:.0%} of all windows)",
            f"Listen to it. If it is '{to}', move it there; if it is noise or someone else, exclude it.",
            cls=name, score=float(mean[other]), suggested_class=to))
    return sorted(found, key=lambda x: -x.score)


def find_suspects(spec: DatasetSpec, backbone: str, weights: str | None, settings: ImageSettings | None = None,
                  workspace: Path | None = None, feature_cache: Path | None = None,
                  progress: ProgressCallback | None = None, cancel: CancelToken | None = None) -> list[Finding]:
    """Convert (cached), extract features (cached), judge every file out of fold."""
    cancel = ensure_token(cancel)
    settings = (settings or ImageSettings()).for_backbone(backbone)
    workspace = Path(workspace) if workspace else default_workspace(spec)
    convert_dataset(spec, workspace, settings.spectrogram, settings.window, progress=progress, cancel=cancel)
    names = spec.labels
    index = {n: i for i, n in enumerate(names)}
    rows = [r for r in load_manifest(workspace) if r.augmented == 0 and r.label in index]
    speech = {r.source for r in rows if r.speech}
    rows = [r for r in rows if r.speech or r.source not in speech]  # a file's speech windows, if it has any
    if not rows:
        return []
    cancel.raise_if_cancelled()
    extractor = build_feature_extractor(backbone, weights, settings.image_size, seed=0)  # seed: random weights only
    key = feature_key(backbone, weights, settings.image_size)
    features = extract_features([workspace / r.image for r in rows], key, extractor,
                                Path(feature_cache) if feature_cache else cache_root() / "features",
                                progress=progress, cancel=cancel, stage="features")
    cancel.raise_if_cancelled()
    files = sorted({r.source for r in rows})
    file_index = {f: i for i, f in enumerate(files)}
    labels = np.array([index[r.label] for r in rows])
    groups = np.array([file_index[r.source] for r in rows])
    probs = out_of_fold_probabilities(features, labels, groups, len(names))
    return suspects_from_probabilities(probs, labels, files, groups, names)
