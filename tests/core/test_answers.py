"""core/answers.py: the answers that are not a class, stable top-k, the unknown gate, segments and timelines; and
that a file and the microphone rank tied classes alike."""

from __future__ import annotations

import time
from types import SimpleNamespace

import numpy as np
import pytest

from audionet_gui.core.answers import (
    NO_SPEECH,
    NOT_A_CLASS,
    SILENCE,
    UNKNOWN,
    Segment,
    Timeline,
    build_timeline,
    gate,
    gate_rows,
    top_k,
    unsure,
)
from audionet_gui.core.live.decisions import decide
from audionet_gui.core.live.engine import LiveEngine, PushSource, classifier_from_bundle, live_config_from_bundle
from audionet_gui.core.model.bundle import load_bundle
from audionet_gui.core.model.predict import predict_samples
from tests.tiny_models import constant_classifier, write_bundle


def test_the_answers_that_are_not_classes():
    assert (UNKNOWN, SILENCE, NO_SPEECH) == ("unknown", "silence", "no speech")
    assert NOT_A_CLASS == (UNKNOWN, SILENCE, NO_SPEECH)


# --- the unknown gate ---------------------------------------------------------------------------------------------
def test_gate_names_the_class_at_or_above_the_threshold_and_unknown_below():
    assert gate(np.array([0.3, 0.7]), ["a", "b"], 0.6) == ("b", 0.7, 1)
    assert gate(np.array([0.3, 0.7]), ["a", "b"], 0.7) == ("b", 0.7, 1)  # at the threshold: still sure enough
    label, p, index = gate(np.array([0.45, 0.55]), ["a", "b"], 0.6)
    assert (label, index) == (UNKNOWN, 1) and p == pytest.approx(0.55)  # the best guess is still reported
    assert unsure(0.59, 0.6) is True and unsure(0.6, 0.6) is False


def test_gate_of_a_tie_is_the_first_label_as_top_k_ranks_it():
    probs = np.array([0.2, 0.4, 0.4])
    assert gate(probs, ["a", "b", "c"], 0.3) == ("b", 0.4, 1)
    assert top_k(probs, ["a", "b", "c"], 1) == [("b", 0.4)]


def test_gate_rows_agrees_with_gate_row_by_row():
    rng = np.random.default_rng(0)
    probs = rng.dirichlet(np.ones(4), size=50)
    probs[::7] = 0.25  # all tied
    labels = ["a", "b", "c", "d"]
    answers, p, indices = gate_rows(probs, labels, 0.45)
    assert [(a, float(q), int(i)) for a, q, i in zip(answers, p, indices)] == [gate(r, labels, 0.45) for r in probs]
    assert UNKNOWN in answers and set(answers) - {UNKNOWN}
    assert gate_rows(np.zeros((0, 4)), labels, 0.5)[0] == []


# --- stable top-k ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("n", [3, 8, 17, 40])
def test_top_k_keeps_the_label_order_among_ties(n):
    labels = [f"c{i}" for i in range(n)]
    probs = np.full(n, 0.5 / (n - 1))
    probs[n // 2] = 0.5  # one winner, all the others tied (numpy's default sort reorders these)
    ranked = top_k(probs, labels, n)
    assert [lab for lab, _ in ranked] == [labels[n // 2]] + [lab for i, lab in enumerate(labels) if i != n // 2]
    assert [lab for lab, _ in top_k(np.full(n, 1 / n), labels, 5)] == labels[:5]


def test_top_k_gives_at_least_one_and_at_most_all():
    assert top_k([0.1, 0.9], ["a", "b"], 0) == [("b", 0.9)]
    assert [lab for lab, _ in top_k([0.1, 0.9], ["a", "b"], 10)] == ["b", "a"]


def test_top_k_of_tied_probabilities_is_the_same_for_a_file_and_live(tmp_path):
    """The same model, the same (tied) probabilities: identifying a file and listening rank the classes alike."""
    labels = [f"speaker{i}" for i in range(8)]
    probs = [0.1] * 8
    probs[4] = 0.3
    bundle = load_bundle(write_bundle(tmp_path / "tied", model=constant_classifier(probs), labels=labels,
                                      threshold=0.2))
    sr = bundle.sample_rate
    audio = (0.3 * np.sin(2 * np.pi * 440.0 * np.arange(3 * sr) / sr)).astype(np.float32)

    from_file = predict_samples(bundle, audio, top_k=8)

    config = live_config_from_bundle(bundle, top_k=8)
    engine = LiveEngine(PushSource(in_rate=sr, sample_rate=sr), classifier_from_bundle(bundle), bundle.labels,
                        bundle.spectrogram_config, config, compute_columns=False)
    live = engine.decide_window(audio[: int(config.window_s * sr)], config.window_s, time.monotonic())

    expected = ["speaker4", "speaker0", "speaker1", "speaker2", "speaker3", "speaker5", "speaker6", "speaker7"]
    assert [lab for lab, _ in from_file.top_k] == expected
    assert [lab for lab, _ in live.top_k] == expected
    assert from_file.label == live.label == live.best == "speaker4"


def test_live_decide_uses_the_gate_and_top_k():
    labels = ["a", "b", "c"]
    d = decide(np.array([0.4, 0.2, 0.4]), labels, threshold=0.5, t=1.0, k=3)
    assert d.label == UNKNOWN and d.best == "a" and d.gate == "low_confidence"
    assert [lab for lab, _ in d.top_k] == ["a", "c", "b"]
    d = decide(np.array([0.4, 0.2, 0.4]), labels, threshold=0.4, t=1.0)
    assert d.label == "a" and d.gate is None


# --- segments and timelines -----------------------------------------------------------------------------------------
def test_build_timeline_merges_splits_and_respects_gaps():
    labels = ["a", "b"]
    starts = np.array([0.0, 1.0, 2.0, 3.0, 7.0, 8.0])
    ends = starts + 2.0
    probs = np.array([[0.9, 0.1], [0.8, 0.2], [0.2, 0.8], [0.1, 0.9], [0.1, 0.9], [0.55, 0.45]])
    segs = build_timeline(starts, ends, probs, labels, threshold=0.6, hop_s=1.0)
    got = [(s.start_s, s.end_s, s.label, s.count) for s in segs]
    # a: windows 0,1 ; b: windows 2,3 (boundary half way between centres 2 and 3) ; gap 5..7 ;
    # b again at 7 ; window 8 is below the threshold -> unknown, meeting b half way (8.5)
    assert got == [(0.0, 2.5, "a", 2), (2.5, 5.0, "b", 2), (7.0, 8.5, "b", 1), (8.5, 10.0, UNKNOWN, 1)]
    assert segs[0].p == pytest.approx(0.85)
    assert segs[-1].p == pytest.approx(0.55)
    assert build_timeline(np.zeros(0), np.zeros(0), np.zeros((0, 2)), labels, 0.5, 1.0) == []


def test_segment_json_keys_are_those_of_predict():
    assert Segment(0.0, 1.23456, "a", 0.876543, 3).to_dict() == {"start": 0.0, "end": 1.235, "label": "a",
                                                                 "p": 0.8765}


def test_live_timeline_merges_runs_of_the_same_answer():
    tl = Timeline(hop_s=0.5)
    for t, label, p in [(2.0, SILENCE, 1.0), (2.5, "low", 0.9), (3.0, "low", 0.7), (3.5, "high", 0.8),
                        (4.0, "low", 0.6)]:
        tl.add(SimpleNamespace(t=t, label=label, p=p))
    segs = [(s.label, s.start_s, s.end_s, s.count) for s in tl.segments()]
    assert segs == [(SILENCE, 1.5, 2.0, 1), ("low", 2.0, 3.0, 2), ("high", 3.0, 3.5, 1), ("low", 3.5, 4.0, 1)]
    assert tl.segments()[1].p == pytest.approx(0.8)  # the mean over the run
    copy = tl.segments()[0]
    copy.label = "changed"
    assert tl.segments()[0].label == SILENCE  # readers get copies
    assert tl.to_dict()[1] == {"start": 2.0, "end": 3.0, "label": "low", "p": 0.8}


def test_live_timeline_keeps_at_most_max_segments():
    tl = Timeline(hop_s=0.5, max_segments=3)
    for i in range(6):
        tl.add(SimpleNamespace(t=1.0 + i / 2, label="ab"[i % 2], p=0.9))
    assert [s.start_s for s in tl.segments()] == [2.0, 2.5, 3.0]  # the oldest were dropped
