"""The label judge: each window judged by its nearest neighbours among the windows of OTHER files (out-of-fold by
file) on backbone features; a file whose windows sound clearly like another class is a suspect. Pure numpy on
features already made, so the doctor (suspects.py), the feature map and training's own map share it.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import numpy as np

from audionet_gui.core.data.doctor.findings import Finding

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
