"""Viterbi smoothing with a minimum run and the clustering of voices (core/turns.py)."""

import numpy as np
from scipy.spatial.distance import cosine

from audionet_gui.core.turns import (
    DEFAULT_DISTANCE,
    chunk_embeddings,
    cluster_embeddings,
    runs,
    similarity_threshold,
    smooth_states,
)


def _scores(states, n_states, good=0.0, bad=-2.0):
    s = np.full((len(states), n_states), bad)
    s[np.arange(len(states)), states] = good
    return s


def test_a_single_odd_window_inside_a_turn_is_smoothed_away():
    truth = [0] * 6 + [1] + [0] * 6
    assert smooth_states(_scores(truth, 2), switch_cost=3.0).tolist() == [0] * 13
    # without a cost of change every window keeps its own best state
    assert smooth_states(_scores(truth, 2), switch_cost=0.0).tolist() == truth


def test_real_changes_of_speaker_survive():
    truth = [0] * 5 + [1] * 5 + [2] * 5
    assert smooth_states(_scores(truth, 3), switch_cost=3.0).tolist() == truth


def test_minimum_run_forbids_short_turns_even_when_switching_is_free():
    truth = [0] * 5 + [1] + [0] * 5
    assert smooth_states(_scores(truth, 2), switch_cost=0.0, min_run=1).tolist() == truth
    out = smooth_states(_scores(truth, 2), switch_cost=0.0, min_run=3)
    assert all(b - a >= 3 for a, b in runs(out)[1:-1])
    assert out.tolist() == [0] * 11


def test_minimum_run_keeps_turns_that_are_long_enough():
    truth = [1] * 4 + [0] * 3 + [1] * 4
    assert smooth_states(_scores(truth, 2), switch_cost=0.5, min_run=3).tolist() == truth


def test_edge_cases():
    assert smooth_states(np.zeros((0, 3)), 1.0).tolist() == []
    assert smooth_states(np.zeros((4, 1)), 1.0, min_run=3).tolist() == [0, 0, 0, 0]
    assert smooth_states(_scores([1], 3), 1.0, min_run=5).tolist() == [1]


def test_runs():
    assert runs([3, 3, 1, 1, 1, 3]) == [(0, 2), (2, 5), (5, 6)]
    assert runs([]) == []


def _voices(rng, n_voices, dim=32):
    return [rng.standard_normal(dim) for _ in range(n_voices)]


def test_two_voices_become_two_clusters_numbered_by_first_appearance():
    rng = np.random.default_rng(0)
    a, b = _voices(rng, 2)
    seq = [b, b, a, b, a, a]
    emb = np.stack([v + 0.3 * rng.standard_normal(v.size) for v in seq])
    assert cluster_embeddings(emb, DEFAULT_DISTANCE).tolist() == [0, 0, 1, 0, 1, 1]


def test_one_voice_stays_one_cluster():
    rng = np.random.default_rng(1)
    (a,) = _voices(rng, 1)
    emb = np.stack([a + 0.3 * rng.standard_normal(a.size) for _ in range(8)])
    assert set(cluster_embeddings(emb, DEFAULT_DISTANCE).tolist()) == {0}
    assert cluster_embeddings(np.zeros((0, 4)), 0.5).tolist() == []


def test_threshold_from_the_files_named_voices_lies_between_same_and_other_distances():
    rng = np.random.default_rng(2)
    voices = _voices(rng, 3)
    emb = np.stack([voices[i % 3] + 0.2 * rng.standard_normal(32) for i in range(12)])
    labels = [i % 3 for i in range(12)]
    t = similarity_threshold(emb, labels)
    same = cosine(emb[0], emb[3])
    other = cosine(emb[0], emb[1])
    assert same < t < other
    # too few pairs of one kind: the default
    assert similarity_threshold(emb[:2], labels[:2]) == DEFAULT_DISTANCE
    assert similarity_threshold(emb[:4], [0, 0, 0, 0]) == DEFAULT_DISTANCE


def test_chunks_cut_runs_and_average_them():
    feats = np.eye(4)[[0, 0, 0, 1, 1, 2, 2]]
    emb, pieces = chunk_embeddings(feats, [(0, 5), (5, 7)], chunk=3)
    assert pieces == [(0, 3), (3, 5), (5, 7)]
    assert np.allclose(emb[0], [1, 0, 0, 0]) and np.allclose(emb[1], [0, 1, 0, 0])
    assert np.allclose(np.linalg.norm(emb, axis=1), 1.0)
