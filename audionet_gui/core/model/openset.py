"""The open-set part of "unknown": how far a window's voice is from the speaker the head names, in feature space.

A softmax head is overconfident on voices it never met: it must spread its probability over the classes it knows,
so a stranger often gets one of them at p = 0.8. The feature space says more: a stranger's window lies away from
every class's windows even when the head picks one. So a model made of a backbone and a head carries, besides
the softmax threshold, an open-set score (config.json ``open_set``):

    s(x)  = cosine of the window's standardised backbone feature (the head's own standardisation), projected into
            the within-class space, to the centroid of the class the head names (centroid: the mean of that
            class's training windows there, each L2-normalised), minus the mean cosine to the other classes'
            centroids (cohort normalisation: noise lowers them all)
    q(x)  = sigmoid(slope * (s - tau)): the chance that the window is an enrolled voice at all, fitted by logistic
            regression (Platt) on enrolled windows (validation, clean and in noise: accepted) against strangers
            simulated by leaving each class out of the head (its windows scored against the other classes)
    P(c | x) = q(x) * softmax_c(x): the open-set posterior; P(unknown | x) = 1 - q(x)

Every answer (predict, evaluate, timeline, enrol, live) reads these products as the window's probabilities, so the
one unknown gate of core/answers.py (best probability under the calibrated threshold) and the timeline's Viterbi
(log probabilities against log threshold) decide with both pieces of evidence. A model folder without
``open_set`` (older ones, fine-tuned or end-to-end models) keeps q = 1: the softmax gate alone, as before.

The within-class space (``WithinClassSpace``): the leading principal axes of the training windows' features, whitened
by the variation of windows within a class (shrunk by Ledoit-Wolf), as speaker verification normalises embeddings
(WCCN / LDA). Raw features spread most along what every window of a voice varies in (words, level, the
augmentation's rooms and noises), so a stranger's window sits about as near a centroid as the class's own;
whitened, those directions count little and what sets voices apart counts. Measured on two benches (DEVELOPERS.md,
round 19): a stranger's window is told from an enrolled one with an AUC of 0.80-0.86 instead of 0.63-0.66, and in
noise no worse than before. Older folders have no space: the standardised features as they are.

The model is run here in two parts (backbone, then the head in numpy with the model's own weights: a
standardisation and a dense softmax; dropout does nothing at inference), so the features come out of the same pass
as the probabilities.
"""

from __future__ import annotations

import base64
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from audionet_gui.core.model.backbones import fast_predictor

CONFIG_KEY = "open_set"
KIND = "centroid_cosine"
# The logistic fit's L2 penalty on the slope: classes that never overlap (tones in tests) would otherwise drive it
# to infinity; the penalty keeps it finite (a few hundred) without moving an overlapping fit.
SLOPE_PENALTY = 1e-4
MIN_SLOPE = 0.1  # a flatter fit says the score does not tell known from strangers: not used
# Axes of the within-class space: 32-128 measured alike (DEVELOPERS.md, round 19); fewer when windows are few
SPACE_DIMS = 64
METHOD = ("open-set score: cosine of the standardised backbone feature, in the training windows' within-class "
          "whitened principal space, to the named class's centroid of training windows minus its mean cosine to the "
          "other classes' centroids; P(enrolled voice) = sigmoid(slope * (score - tau)) fitted (Platt, balanced) on "
          "validation windows clean and in noise against left-out classes; answers multiply the softmax by it")

_parts: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def l2_rows(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, np.float32)
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-9)


def class_centroids(standardised: np.ndarray, labels: np.ndarray, n_classes: int) -> np.ndarray:
    """(C, D) unit centroids: per class the mean of its L2-normalised rows (a class without rows: zeros)."""
    u = l2_rows(standardised)
    labels = np.asarray(labels, np.int64)
    out = np.zeros((n_classes, u.shape[1]), np.float32)
    for c in range(n_classes):
        if (labels == c).any():
            out[c] = u[labels == c].mean(axis=0)
    return l2_rows(out)


def centroid_cosine(standardised: np.ndarray, centroids: np.ndarray, named: np.ndarray, cohort: bool = False,
                    classes: Sequence[int] | None = None) -> np.ndarray:
    """(N,) cosine of each row to the centroid of its named class (``named``: class indices). With ``cohort``,
    minus the mean cosine to the other classes' centroids (a cohort normalisation, as speaker verification does:
    noise or a room lowers a window's similarity to every class alike, a stranger's only to the one it is taken
    for). ``classes``: the centroids that take part (default all; leave-one-class-out leaves the held-out one
    out); a row's named class must be among them."""
    if not len(standardised):
        return np.zeros(0, np.float32)
    classes = np.arange(len(centroids)) if classes is None else np.asarray(classes, np.int64)
    position = {int(c): i for i, c in enumerate(classes)}
    sims = l2_rows(standardised) @ np.asarray(centroids, np.float32)[classes].T
    rows = np.arange(len(sims))
    s = sims[rows, [position[int(c)] for c in np.asarray(named).reshape(-1)]]
    if cohort and sims.shape[1] > 1:
        s = s - (sims.sum(axis=1) - s) / (sims.shape[1] - 1)
    return s.astype(np.float32)


def fit_platt(known: np.ndarray, strangers: np.ndarray, iterations: int = 100) -> tuple[float, float]:
    """(slope, tau) of P(known | s) = sigmoid(slope * (s - tau)) by logistic regression with the two groups weighted
    equally (Newton's method, a small L2 penalty on the slope). Needs both groups; slope > 0 when known scores are
    higher (otherwise the score is of no use: ``fit_open_set`` then gives none)."""
    known = np.asarray(known, np.float64).reshape(-1)
    strangers = np.asarray(strangers, np.float64).reshape(-1)
    if not known.size or not strangers.size:
        raise ValueError("fit_platt needs scores of both known windows and strangers")
    x = np.concatenate([known, strangers])
    y = np.concatenate([np.ones(known.size), np.zeros(strangers.size)])
    weight = np.where(y == 1, 0.5 / known.size, 0.5 / strangers.size)
    a, b = 1.0, 0.0
    for _ in range(iterations):
        p = 1.0 / (1.0 + np.exp(-np.clip(a * x + b, -500, 500)))
        g, h = weight * (p - y), weight * p * (1 - p)
        grad = np.array([(g * x).sum() + SLOPE_PENALTY * a, g.sum()])
        hess = np.array([[(h * x * x).sum() + SLOPE_PENALTY, (h * x).sum()], [(h * x).sum(), h.sum() + 1e-12]])
        step = np.linalg.solve(hess, grad)
        a, b = a - step[0], b - step[1]
        if np.abs(step).max() < 1e-9:
            break
    return float(a), float(-b / a) if abs(a) > 1e-12 else float("nan")


def _encode(array: np.ndarray) -> dict:
    a = np.ascontiguousarray(array, "<f4")
    return {"shape": list(a.shape), "float32": base64.b64encode(a.tobytes()).decode("ascii")}


def _decode(entry: dict) -> np.ndarray:
    return np.frombuffer(base64.b64decode(entry["float32"]), "<f4").reshape(entry["shape"]).copy()


@dataclass
class WithinClassSpace:
    """Standardised features -> (N, d): centred, onto the training windows' ``d`` leading principal axes, then
    whitened by the within-class covariance there (``basis`` = axes @ W^-1/2)."""

    mean: np.ndarray  # (D,)
    basis: np.ndarray  # (D, d)

    def project(self, standardised: np.ndarray) -> np.ndarray:
        return ((np.asarray(standardised, np.float32) - self.mean) @ self.basis).astype(np.float32)

    def to_config(self) -> dict:
        # base64 float32: exact, and half the text of a list of rounded numbers (1536 x 64 values)
        return {"mean": _encode(self.mean), "basis": _encode(self.basis)}

    @classmethod
    def from_config(cls, entry: dict) -> WithinClassSpace:
        return cls(_decode(entry["mean"]), _decode(entry["basis"]))


def fit_space(standardised: np.ndarray, labels: np.ndarray, dims: int = SPACE_DIMS) -> WithinClassSpace:
    """The within-class space of training windows (every window, augmented copies included: the variation they
    add is the variation a voice has in a room). ``dims`` is capped by what the windows can estimate: the rank
    of the within-class scatter (windows minus classes) and the feature size."""
    from scipy.linalg import eigh  # noqa: PLC0415 - calibration only
    from sklearn.covariance import ledoit_wolf  # noqa: PLC0415 - scikit-learn loads in ~1 s: calibration only

    z = np.asarray(standardised, np.float64)
    labels = np.asarray(labels, np.int64)
    classes = np.unique(labels)
    mean = z.mean(axis=0)
    centred = z - mean
    d = int(max(1, min(dims, z.shape[1], len(z) - len(classes))))
    # principal axes (exact and deterministic): the top d eigenvectors of the smaller of the Gram and the scatter
    # matrix (only those: half the time of a full decomposition of 1536 x 1536)
    small = centred @ centred.T if len(z) < z.shape[1] else centred.T @ centred
    _, vectors = eigh(small, subset_by_index=[len(small) - d, len(small) - 1])
    axes = vectors[:, ::-1]
    if len(z) < z.shape[1]:
        axes = centred.T @ axes
        axes /= np.maximum(np.linalg.norm(axes, axis=0, keepdims=True), 1e-12)
    p = centred @ axes
    within = np.concatenate([p[labels == c] - p[labels == c].mean(axis=0) for c in classes])
    cov = np.atleast_2d(ledoit_wolf(within, assume_centered=True)[0])
    values, vectors = np.linalg.eigh(cov)
    whiten = vectors @ np.diag(1.0 / np.sqrt(np.maximum(values, values.max() * 1e-6 + 1e-12))) @ vectors.T
    return WithinClassSpace(mean.astype(np.float32), (axes @ whiten).astype(np.float32))


@dataclass
class OpenSet:
    """The stored open-set score of a model: class centroids (C, d) in its ``space`` (None: the standardised
    features as they are, as older folders have it), ``tau`` and ``slope``."""

    centroids: np.ndarray
    tau: float
    slope: float
    cohort: bool = True
    space: WithinClassSpace | None = None

    def project(self, standardised: np.ndarray) -> np.ndarray:
        return self.space.project(standardised) if self.space is not None else np.asarray(standardised, np.float32)

    def known(self, standardised: np.ndarray, probabilities: np.ndarray) -> np.ndarray:
        """(N,) q: the chance that each window is an enrolled voice at all."""
        s = centroid_cosine(self.project(standardised), self.centroids, np.asarray(probabilities).argmax(axis=1),
                            self.cohort)
        return 1.0 / (1.0 + np.exp(-np.clip(self.slope * (s - self.tau), -50, 50)))

    def apply(self, probabilities: np.ndarray, standardised: np.ndarray) -> np.ndarray:
        """The open-set posterior q * softmax (rows of zeros stay zeros: windows the speech gate kept back)."""
        probabilities = np.asarray(probabilities, np.float32)
        if not len(probabilities):
            return probabilities
        return (probabilities * self.known(standardised, probabilities)[:, None]).astype(np.float32)

    def to_config(self) -> dict:
        config = {"kind": KIND, "tau": round(float(self.tau), 6), "slope": round(float(self.slope), 6),
                  "cohort": bool(self.cohort),
                  "centroids": [[round(float(v), 6) for v in row] for row in np.asarray(self.centroids)]}
        if self.space is not None:
            config["space"] = self.space.to_config()
        return config

    @classmethod
    def from_config(cls, config: dict) -> OpenSet | None:
        """The open-set score of a bundle's config, or None (older folders, other models: the softmax gate alone)."""
        entry = (config or {}).get(CONFIG_KEY)
        if not isinstance(entry, dict) or entry.get("kind") != KIND:
            return None
        centroids = np.asarray(entry["centroids"], np.float32)
        space = WithinClassSpace.from_config(entry["space"]) if isinstance(entry.get("space"), dict) else None
        return cls(centroids, float(entry["tau"]), float(entry["slope"]), bool(entry.get("cohort", False)), space)


# ------------------------------------------------------------------------------------ the model in two parts

@dataclass
class HeadParts:
    """Features -> probabilities as the head computes them: softmax(((f - mean) * scale) @ w + b)."""

    extract: Callable[[np.ndarray], np.ndarray]
    mean: np.ndarray
    scale: np.ndarray
    w: np.ndarray
    b: np.ndarray

    def standardise(self, features: np.ndarray) -> np.ndarray:
        return (np.asarray(features, np.float32) - self.mean) * self.scale

    def probabilities(self, standardised: np.ndarray) -> np.ndarray:
        z = standardised @ self.w + self.b
        z -= z.max(axis=1, keepdims=True)
        e = np.exp(z)
        return e / e.sum(axis=1, keepdims=True)

    def outputs(self, features: np.ndarray, open_set: OpenSet | None) -> tuple[np.ndarray, np.ndarray]:
        """(probabilities, with the open-set score when there is one; standardised features) of backbone
        features."""
        z = self.standardise(features)
        p = self.probabilities(z)
        return (open_set.apply(p, z) if open_set is not None else p.astype(np.float32)), z


def head_parts(model, batch_size: int = 32) -> HeadParts | None:
    """The model as (backbone, head in numpy), or None when it is not a backbone followed by a standardising
    softmax head. Built once per model."""
    import keras  # noqa: PLC0415 - loads TensorFlow/Keras (3 s): only when this runs

    if model is None:
        raise ValueError("the model was loaded without its network")
    cached = _parts.get(model)
    if cached is not None:
        return cached
    inner = [layer for layer in model.layers if not isinstance(layer, keras.layers.InputLayer)]
    if len(inner) != 2 or not all(isinstance(part, keras.Model) for part in inner):
        return None
    extractor, head = inner
    layers = [layer for layer in head.layers if not isinstance(layer, (keras.layers.InputLayer, keras.layers.Dropout))]
    if not layers or layers[-1].name != "classes" or len(layers) > 2:
        return None
    w, b = (np.asarray(v, np.float32) for v in layers[-1].get_weights())
    mean, scale = np.zeros(w.shape[0], np.float32), np.ones(w.shape[0], np.float32)
    if len(layers) == 2:
        if not isinstance(layers[0], keras.layers.Normalization):
            return None
        mean = np.asarray(layers[0].mean, np.float32).reshape(-1)
        scale = 1.0 / np.maximum(np.sqrt(np.asarray(layers[0].variance, np.float32).reshape(-1)), 1e-7)
    parts = HeadParts(fast_predictor(extractor, batch_size), mean, scale, w, b)
    _parts[model] = parts
    return parts


# ------------------------------------------------------------------------------------------------ calibration

def fit_open_set(train_standardised: np.ndarray, train_labels: np.ndarray, n_classes: int,
                 known_scores: Sequence[np.ndarray], stranger_scores: Sequence[np.ndarray],
                 cohort: bool = True, space: WithinClassSpace | None = None) -> OpenSet | None:
    """The open-set score from the training windows' centroids (in ``space``) and the calibration's cosine scores
    (known windows and simulated strangers, computed against the same kind of centroids). None when either group
    is empty or when the fit finds the score no higher for known windows than for strangers."""
    known = np.concatenate([np.asarray(s, np.float64).reshape(-1) for s in known_scores] or [np.zeros(0)])
    strangers = np.concatenate([np.asarray(s, np.float64).reshape(-1) for s in stranger_scores] or [np.zeros(0)])
    if not known.size or not strangers.size:
        return None
    slope, tau = fit_platt(known, strangers)
    if not (slope > MIN_SLOPE and np.isfinite(tau)):
        return None  # the score does not tell enrolled voices from strangers here: the softmax gate alone
    projected = space.project(train_standardised) if space is not None else train_standardised
    return OpenSet(class_centroids(projected, train_labels, n_classes), tau, slope, cohort, space)
