"""Windows scored by heads that never met them, for the unknown gate's calibration (core/model/calibration.py):

- strangers (``leave_one_class_out_scores``): each class in turn is left out of a head retrained on the cached
  features; its windows are then a voice the model never heard;
- enrolled voices (``cross_fitted_known``): the training recordings are split into folds; each fold's windows, clean
  and augmented, are scored by a head and a within-class space fitted without that fold. So the known side of the
  calibration is hundreds of windows in the augmentation's rooms, microphones and noises, where the validation split
  alone gives a few dozen.

Heads are the app's own (``head.train_head``, a second or two each on cached features); the open-set cosine is
``openset.centroid_cosine`` in a space fitted without the held-out windows, as the model's is fitted without any
stranger.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from audionet_gui.core.base.jobs import CancelToken, ensure_token
from audionet_gui.core.model.head import train_head
from audionet_gui.core.model.openset import WithinClassSpace, centroid_cosine, class_centroids, fit_space

CROSS_FOLDS = 5  # folds of training recordings for the cross-fitted known windows


def leave_one_class_out(x_train: np.ndarray, y_train: np.ndarray, x_val: np.ndarray, y_val: np.ndarray,
                        n_classes: int, cfg, others: Sequence[tuple[np.ndarray, np.ndarray]] = (),
                        cancel: CancelToken | None = None) -> list[np.ndarray]:
    """Strangers simulated on features: for each class k, a head trained without k (early-stopped on the other
    classes' validation windows) scores k's windows. Returns the best probabilities of the held-out windows of
    ``(x_val, y_val)`` and of each ``others`` pair (e.g. the test split), in that order. Needs at least three
    classes (so that two remain); with fewer every array is empty."""
    return [top for top, _ in leave_one_class_out_scores(x_train, y_train, x_val, y_val, n_classes, cfg, others,
                                                         cancel=cancel)]


def leave_one_class_out_scores(x_train: np.ndarray, y_train: np.ndarray, x_val: np.ndarray, y_val: np.ndarray,
                               n_classes: int, cfg, others: Sequence[tuple[np.ndarray, np.ndarray]] = (),
                               standardise: Callable[[np.ndarray], np.ndarray] | None = None,
                               cohort: bool = True, cancel: CancelToken | None = None
                               ) -> list[tuple[np.ndarray, np.ndarray]]:
    """``leave_one_class_out`` with the open-set score too: per set, (best probabilities, cosines) of the held-out
    windows, where the cosine is that of the window's feature (``standardise``d as the full model does, then
    projected into the within-class space fitted without k, as the model's is fitted without any stranger) to the
    centroid of the class the head without k names, over the training windows of the classes that remain
    (core/model/openset.py). Without ``standardise`` the cosines are empty. With two classes (no head of one class
    to train) each one's windows are scored against the other's centroid at p = 1 (only with ``standardise``)."""
    cancel = ensure_token(cancel)
    sets = [(np.asarray(x_val, np.float32), np.asarray(y_val, np.int64)),
            *((np.asarray(x, np.float32), np.asarray(y, np.int64)) for x, y in others)]
    tops: list[list[np.ndarray]] = [[] for _ in sets]
    cosines: list[list[np.ndarray]] = [[] for _ in sets]
    x_train, y_train = np.asarray(x_train, np.float32), np.asarray(y_train, np.int64)
    z_train = standardise(x_train) if standardise is not None else None

    def space_without(k: int) -> tuple[WithinClassSpace, np.ndarray]:
        """The within-class space and centroids of the training windows of every class but k."""
        keep = y_train != k
        space = fit_space(z_train[keep], y_train[keep])
        return space, class_centroids(space.project(z_train[keep]), y_train[keep], n_classes)

    if n_classes == 2 and z_train is not None:
        # one class remains: a head of one class names it at p = 1; the feature space still tells them apart
        for k in range(2):
            space, centroids = space_without(k)
            for top, cos, (x, y) in zip(tops, cosines, sets):
                if (y == k).any():
                    top.append(np.ones(int((y == k).sum()), np.float32))
                    cos.append(centroid_cosine(space.project(standardise(x[y == k])), centroids,
                                               np.full((y == k).sum(), 1 - k), cohort, classes=[1 - k]))
    if n_classes >= 3:
        cfg = dataclasses.replace(cfg, tensorboard_dir=None)
        for k in range(n_classes):
            cancel.raise_if_cancelled()
            keep_train, keep_val = y_train != k, sets[0][1] != k
            if not keep_train.any() or not keep_val.any() or not any((y == k).any() for _, y in sets):
                continue
            remap = np.array([c - (c > k) for c in range(n_classes)])
            kept = np.array([c for c in range(n_classes) if c != k])
            head, _ = train_head(x_train[keep_train], remap[y_train[keep_train]], sets[0][0][keep_val],
                                 remap[sets[0][1][keep_val]], n_classes - 1, cfg, cancel=cancel)
            space, centroids = space_without(k) if z_train is not None else (None, None)
            for top, cos, (x, y) in zip(tops, cosines, sets):
                if (y == k).any():
                    p = np.asarray(head.predict(x[y == k], verbose=0, batch_size=256))
                    top.append(p.max(axis=1))
                    if space is not None:
                        cos.append(centroid_cosine(space.project(standardise(x[y == k])), centroids,
                                                   kept[p.argmax(axis=1)], cohort, classes=kept))

    def joined(parts: list[np.ndarray]) -> np.ndarray:
        return np.concatenate(parts).astype(np.float32) if parts else np.zeros(0, np.float32)

    return [(joined(t), joined(c)) for t, c in zip(tops, cosines)]


@dataclass
class HeldOutKnown:
    """Training windows of enrolled classes scored without their fold: best softmax probability, whether the head
    named the right class, the open-set cosine (empty without ``standardise``), and whether the window is a clean
    one (not an augmented copy)."""

    top: np.ndarray
    correct: np.ndarray
    cosines: np.ndarray
    clean: np.ndarray


def recording_folds(groups: Sequence, labels: np.ndarray, folds: int = CROSS_FOLDS) -> np.ndarray:
    """(N,) fold of each window: per class, its recordings (``groups``) in order of first appearance dealt round
    robin, so every fold holds some recordings of each class that has several, and a recording's windows (its
    augmented copies too) stay together. A class with a single recording gets fold -1: leaving it out would leave
    the head without the class."""
    labels = np.asarray(labels, np.int64)
    out = np.full(len(labels), -1, np.int64)
    for c in np.unique(labels):
        members = np.flatnonzero(labels == c)
        names = list(dict.fromkeys(groups[i] for i in members))
        if len(names) < 2:
            continue
        fold_of = {name: i % min(folds, len(names)) for i, name in enumerate(names)}
        for i in members:
            out[i] = fold_of[groups[i]]
    return out


def cross_fitted_known(x_train: np.ndarray, y_train: np.ndarray, groups: Sequence, clean: np.ndarray,
                       x_val: np.ndarray, y_val: np.ndarray, n_classes: int, cfg,
                       standardise: Callable[[np.ndarray], np.ndarray] | None = None, cohort: bool = True,
                       folds: int = CROSS_FOLDS, cancel: CancelToken | None = None) -> HeldOutKnown:
    """Every training window of a class with two recordings or more, scored by a head (early-stopped on the
    validation windows) and a within-class space fitted on the other folds."""
    cancel = ensure_token(cancel)
    x_train, y_train = np.asarray(x_train, np.float32), np.asarray(y_train, np.int64)
    fold = recording_folds(groups, y_train, folds)
    cfg = dataclasses.replace(cfg, tensorboard_dir=None)
    z_train = standardise(x_train) if standardise is not None else None
    parts: list[tuple[np.ndarray, ...]] = []
    for f in sorted(set(fold.tolist()) - {-1}):
        cancel.raise_if_cancelled()
        out, keep = fold == f, fold != f
        head, _ = train_head(x_train[keep], y_train[keep], x_val, y_val, n_classes, cfg, cancel=cancel)
        p = np.asarray(head.predict(x_train[out], verbose=0, batch_size=256))
        named = p.argmax(axis=1)
        cos = np.zeros(0, np.float32)
        if z_train is not None:
            space = fit_space(z_train[keep], y_train[keep])
            centroids = class_centroids(space.project(z_train[keep]), y_train[keep], n_classes)
            cos = centroid_cosine(space.project(z_train[out]), centroids, named, cohort)
        parts.append((p.max(axis=1), named == y_train[out], cos, np.asarray(clean, bool)[out]))
    if not parts:
        return HeldOutKnown(*(np.zeros(0, t) for t in (np.float32, bool, np.float32, bool)))
    return HeldOutKnown(*(np.concatenate(column) for column in zip(*parts)))
