"""The two algorithms behind speaker turns (``answers.speaker_turns`` puts names on their output):

- ``smooth_states``: a Viterbi pass over per-window scores with a cost for every change of state and a minimum run
  length (each state is a left-to-right chain of ``min_run`` sub-states, the textbook HMM with a minimum duration),
  so one odd window inside a turn does not become a turn of its own.
- ``cluster_embeddings``: agglomerative clustering (average linkage, cosine distance, scipy) of feature vectors,
  cut at a distance; ``similarity_threshold`` derives that distance from labelled vectors of the same file when there
  are enough (same-label pairs against different-label pairs), so it adapts to the backbone and the recording.

Pure numpy/scipy: states and clusters are integers here; labels are the caller's business.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.spatial.distance import pdist

# Used when a file has too few named turns to measure its own same-speaker and other-speaker distances: cosine
# distance of standardised, length-normalised backbone features (0 same direction, 1 unrelated).
DEFAULT_DISTANCE = 0.5
MIN_PAIRS = 3  # of each kind (same label, different labels) before a file's own distances decide


def smooth_states(scores: np.ndarray, switch_cost: float, min_run: int = 1) -> np.ndarray:
    """The most likely state per row of ``scores`` (N, S) (log-likelihood-like: higher is better) when changing
    state costs ``switch_cost`` and a state, once entered, holds at least ``min_run`` rows (the first and last
    runs may be shorter: the sequence cuts them). Ties keep the lower state index."""
    scores = np.asarray(scores, np.float64)
    n, s = scores.shape if scores.ndim == 2 else (0, 0)
    if n == 0 or s == 0:
        return np.zeros(0, np.int64)
    k = max(1, int(min_run))
    # expanded state (state, step) at index state * k + step; the last step of a chain may repeat
    m = s * k
    owner = np.repeat(np.arange(s), k)
    step = np.tile(np.arange(k), s)
    first, last = step == 0, step == k - 1
    delta = scores[0][owner].copy()  # any step at the start: the file may begin inside a turn
    back = np.zeros((n, m), np.int64)
    idx = np.arange(m)
    for t in range(1, n):
        # continue the chain (step -> step + 1), or stay on its last step
        cont = np.full(m, -np.inf)
        cont_from = np.zeros(m, np.int64)
        cont[~first] = delta[idx[~first] - 1]
        cont_from[~first] = idx[~first] - 1
        stay = np.where(last, delta, -np.inf)
        better_stay = stay > cont
        cont = np.where(better_stay, stay, cont)
        cont_from = np.where(better_stay, idx, cont_from)
        # or switch from the last step of another state into the first step of this one
        ends = np.where(last, delta, -np.inf)
        ends_by_state = ends[last]  # (s,) best way to have finished a turn of each state
        order = np.argsort(-ends_by_state, kind="stable")
        best, second = order[0], order[1] if s > 1 else order[0]
        from_state = np.where(owner == best, second, best)  # the best other state to come from
        switch = np.where(first & (from_state != owner), ends_by_state[from_state] - switch_cost, -np.inf)
        switch_from = from_state * k + (k - 1)
        use_switch = switch > cont
        delta = np.where(use_switch, switch, cont) + scores[t][owner]
        back[t] = np.where(use_switch, switch_from, cont_from)
    path = np.zeros(n, np.int64)
    path[-1] = int(np.argmax(delta))
    for t in range(n - 1, 0, -1):
        path[t - 1] = back[t, path[t]]
    return owner[path]


def runs(values: Sequence[int]) -> list[tuple[int, int]]:
    """(start, stop) index ranges of consecutive equal values."""
    values = np.asarray(values)
    if not len(values):
        return []
    cuts = np.flatnonzero(values[1:] != values[:-1]) + 1
    bounds = np.concatenate([[0], cuts, [len(values)]])
    return [(int(a), int(b)) for a, b in zip(bounds[:-1], bounds[1:])]


def normalise(features: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (zero rows stay zero)."""
    features = np.asarray(features, np.float64)
    norms = np.linalg.norm(features, axis=1, keepdims=True)
    return features / np.where(norms > 0, norms, 1.0)


def chunk_embeddings(features: np.ndarray, groups: Sequence[tuple[int, int]],
                     chunk: int) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """Each index range of ``groups`` cut into pieces of at most ``chunk`` rows; per piece the mean of the
    normalised rows, normalised again. Returns (embeddings (P, D), the pieces' ranges)."""
    unit = normalise(features)
    pieces = [(a, min(a + chunk, stop)) for start, stop in groups for a in range(start, stop, chunk)]
    if not pieces:
        return np.zeros((0, unit.shape[1] if unit.ndim == 2 else 0)), []
    return normalise(np.stack([unit[a:b].mean(axis=0) for a, b in pieces])), pieces


def similarity_threshold(embeddings: np.ndarray, labels: Sequence[int], default: float = DEFAULT_DISTANCE) -> float:
    """A cosine distance that separates voices in this file: half way between the median distance of pieces with
    the same label and of pieces with different labels, when there are ``MIN_PAIRS`` of each and the two are in
    that order; otherwise ``default``."""
    labels = np.asarray(labels)
    if len(labels) < 3:
        return default
    d = pdist(np.asarray(embeddings, np.float64), metric="cosine")
    i, j = np.triu_indices(len(labels), k=1)
    same = labels[i] == labels[j]
    if same.sum() < MIN_PAIRS or (~same).sum() < MIN_PAIRS:
        return default
    d_same, d_diff = float(np.median(d[same])), float(np.median(d[~same]))
    return (d_same + d_diff) / 2 if d_diff > d_same else default


def cluster_embeddings(embeddings: np.ndarray, max_distance: float) -> np.ndarray:
    """Cluster ids 0, 1, ... numbered by first appearance: average-linkage clusters of cosine distance at most
    ``max_distance``."""
    embeddings = np.asarray(embeddings, np.float64)
    n = len(embeddings)
    if n == 0:
        return np.zeros(0, np.int64)
    if n == 1:
        return np.zeros(1, np.int64)
    tree = linkage(np.nan_to_num(pdist(embeddings, metric="cosine"), nan=1.0), method="average")
    raw = fcluster(tree, t=max_distance, criterion="distance")
    order: dict[int, int] = {}
    return np.array([order.setdefault(int(c), len(order)) for c in raw], np.int64)
