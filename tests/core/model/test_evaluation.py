import json

import numpy as np
import pytest
from PIL import Image

from audionet_gui.core.model.evaluation import (
    calibrate_unknown_threshold,
    choose_unknown_threshold,
    confusion_matrix,
    evaluate_predictions,
    misclassified_windows,
    render_confusion_png,
    unknown_rates,
)

LABELS = ["alice", "bob", "carol"]


def _hand_made():
    # Recording a1 (alice): windows right, right, wrong(bob)      -> mean favours alice
    # Recording b1 (bob):   windows wrong(alice) strongly, right weakly -> mean favours alice (recording wrong)
    # Recording c1 (carol): one window right
    probs = np.array(
        [
            [0.8, 0.1, 0.1],
            [0.6, 0.3, 0.1],
            [0.3, 0.6, 0.1],
            [0.9, 0.05, 0.05],
            [0.4, 0.5, 0.1],
            [0.1, 0.1, 0.8],
        ]
    )
    true = [0, 0, 0, 1, 1, 2]
    sources = ["a1.wav", "a1.wav", "a1.wav", "b1.wav", "b1.wav", "c1.wav"]
    return probs, true, sources


def test_window_and_recording_accuracy_exact():
    probs, true, sources = _hand_made()
    m = evaluate_predictions(probs, true, sources, LABELS)
    # window predictions: 0,0,1,0,1,2 -> correct: T,T,F,F,T,T = 4/6
    assert m["accuracy"] == pytest.approx(4 / 6)
    # recordings: a1 mean [0.567,0.333,0.1] -> alice OK; b1 mean [0.65,0.275,0.075] -> alice WRONG; c1 OK
    assert m["recording_accuracy"] == pytest.approx(2 / 3)
    assert m["windows"] == 6 and m["recordings"] == 3
    assert m["confusion"] == [[2, 1, 0], [1, 1, 0], [0, 0, 1]]
    assert m["recording_confusion"] == [[1, 0, 0], [1, 0, 0], [0, 0, 1]]
    assert m["labels"] == LABELS


def test_per_class_precision_recall_f1_exact():
    probs, true, sources = _hand_made()
    pc = evaluate_predictions(probs, true, sources, LABELS)["per_class"]
    # alice: tp=2, predicted alice 3 times, support 3
    assert pc["alice"]["precision"] == pytest.approx(2 / 3)
    assert pc["alice"]["recall"] == pytest.approx(2 / 3)
    assert pc["alice"]["f1"] == pytest.approx(2 / 3)
    assert pc["alice"]["support"] == 3
    # bob: tp=1, predicted bob 2 times, support 2
    assert pc["bob"]["precision"] == pytest.approx(1 / 2)
    assert pc["bob"]["recall"] == pytest.approx(1 / 2)
    assert pc["bob"]["f1"] == pytest.approx(1 / 2)
    assert pc["carol"] == {"precision": 1.0, "recall": 1.0, "f1": 1.0, "support": 1}


def test_metrics_are_json_ready_and_never_predicted_class_is_zero_not_nan():
    probs = np.array([[0.9, 0.1, 0.0], [0.8, 0.2, 0.0]])
    m = evaluate_predictions(probs, [0, 1], ["x", "y"], LABELS)
    text = json.dumps(m, allow_nan=False)  # raises on NaN
    assert json.loads(text)["per_class"]["carol"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 0}
    assert m["per_class"]["bob"]["precision"] == 0.0


def test_same_file_name_in_two_classes_is_two_recordings():
    probs = np.array([[0.9, 0.1], [0.2, 0.8]])
    m = evaluate_predictions(probs, [0, 1], ["take1.wav", "take1.wav"], ["a", "b"])
    assert m["recordings"] == 2 and m["recording_accuracy"] == 1.0


def test_mismatched_lengths_are_refused():
    with pytest.raises(ValueError):
        evaluate_predictions(np.zeros((2, 2)), [0], ["a", "b"], ["a", "b"])
    with pytest.raises(ValueError):
        evaluate_predictions(np.zeros((1, 2)), [5], ["a"], ["a", "b"])


def test_confusion_matrix_rows_true_columns_predicted():
    m = confusion_matrix([0, 0, 1], [1, 1, 1], 2)
    assert m.tolist() == [[0, 2], [0, 1]]


def test_threshold_keeps_95_percent_of_correct_windows():
    rng = np.random.default_rng(0)
    n = 400
    top = rng.uniform(0.5, 1.0, n)
    probs = np.stack([top, 1 - top], axis=1)
    true = np.zeros(n, dtype=int)
    t = calibrate_unknown_threshold(probs, true, max_threshold=1.0)
    kept = (top >= t).mean()
    assert 0.94 <= kept <= 0.96
    # wrong windows do not move the threshold
    wrong = np.array([[0.3, 0.7]] * 50)
    t2 = calibrate_unknown_threshold(np.vstack([probs, wrong]), np.concatenate([true, np.zeros(50, int)]),
                                     max_threshold=1.0)
    assert t2 == t


def test_threshold_with_tiny_validation_set_keeps_every_correct_window():
    probs = np.array([[0.7, 0.2, 0.1], [0.2, 0.75, 0.05], [0.1, 0.1, 0.8]])
    t = calibrate_unknown_threshold(probs, [0, 1, 2])
    assert t == pytest.approx(0.7)
    assert all(p.max() >= t for p in probs)


def test_threshold_is_clamped_and_has_sane_fallbacks():
    confident = np.array([[0.999, 0.001]] * 5)
    assert calibrate_unknown_threshold(confident, [0] * 5) == pytest.approx(0.9)
    all_wrong = np.array([[0.2, 0.8]] * 3)
    assert calibrate_unknown_threshold(all_wrong, [0] * 3) == pytest.approx(0.5)
    assert calibrate_unknown_threshold(np.zeros((0, 4)), []) == pytest.approx(0.25)


def test_confusion_png_is_written_and_readable(tmp_path):
    labels = ["speaker_with_a_long_name", "bob", "c"]
    matrix = [[5, 1, 0], [0, 6, 0], [2, 0, 3]]
    out = render_confusion_png(matrix, labels, tmp_path / "confusion.png")
    image = Image.open(out)
    assert image.format == "PNG"
    pixels = np.asarray(image.convert("RGB")).astype(int)
    # the diagonal cells are shaded blue, errors red: both colours appear
    blueish = (pixels[..., 2] - pixels[..., 0] > 60).sum()
    reddish = (pixels[..., 0] - pixels[..., 2] > 60).sum()
    assert blueish > 100 and reddish > 100
    # the picture is wide enough for the long label beside the cells
    assert image.width > 3 * 28 + 100
    assert list(tmp_path.iterdir()) == [out]  # atomic: no temp files left


def test_confusion_png_refuses_shape_mismatch(tmp_path):
    with pytest.raises(ValueError):
        render_confusion_png([[1, 0], [0, 1]], ["a", "b", "c"], tmp_path / "x.png")


def test_misclassified_windows_most_confident_first():
    probs, true, sources = _hand_made()
    starts = [0.0, 1.0, 2.0, 0.0, 1.0, 0.0]
    ends = [s + 2 for s in starts]
    wrong = misclassified_windows(probs, true, LABELS, sources, starts, ends)
    # window 3 (b1 0-2 s, said alice at 0.9) before window 2 (a1 2-4 s, said bob at 0.6)
    assert wrong == [
        {"file": "b1.wav", "start": 0.0, "end": 2.0, "true": "bob", "predicted": "alice", "p": 0.9},
        {"file": "a1.wav", "start": 2.0, "end": 4.0, "true": "alice", "predicted": "bob", "p": 0.6},
    ]
    assert len(misclassified_windows(probs, true, LABELS, sources, starts, ends, limit=1)) == 1
    assert misclassified_windows(np.zeros((0, 3)), [], LABELS, [], [], []) == []


# ------------------------------------------------------------------ unknown threshold against negatives

def test_separated_known_and_negatives_give_both_rates_near_zero_and_a_threshold_in_the_gap():
    rng = np.random.default_rng(0)
    known = rng.uniform(0.75, 1.0, 400)      # enrolled classes, clean and in noise: confident
    negatives = rng.uniform(0.1, 0.45, 200)  # noise and strangers: spread thin over the classes
    chosen = choose_unknown_threshold(known, negatives, n_classes=10)
    assert chosen["false_unknown_rate"] == 0.0 and chosen["false_accept_rate"] == 0.0
    assert 0.45 < chosen["threshold"] < 0.75
    assert chosen["threshold"] == pytest.approx(0.6, abs=0.03)  # the middle of the gap, not its edge
    assert chosen["method"] == "balanced"


def test_overlapping_groups_get_a_threshold_that_balances_the_two_errors():
    rng = np.random.default_rng(1)
    known = np.clip(rng.normal(0.7, 0.1, 2000), 0, 1)
    negatives = np.clip(rng.normal(0.5, 0.1, 2000), 0, 1)
    chosen = choose_unknown_threshold(known, negatives, n_classes=5)
    # equal spreads: the best cut is half-way, and both errors are about the normal tail beyond 1 sigma
    assert chosen["threshold"] == pytest.approx(0.6, abs=0.03)
    assert chosen["false_unknown_rate"] == pytest.approx(0.16, abs=0.04)
    assert chosen["false_accept_rate"] == pytest.approx(0.16, abs=0.04)
    fu, fa = unknown_rates(known, negatives, chosen["threshold"])
    assert (fu, fa) == (chosen["false_unknown_rate"], chosen["false_accept_rate"])
    for other in (0.5, 0.7):  # no other threshold makes fewer errors in all
        assert sum(unknown_rates(known, negatives, other)) > fu + fa


def test_a_false_accept_target_trades_false_unknown_for_it():
    rng = np.random.default_rng(2)
    known = np.clip(rng.normal(0.7, 0.1, 2000), 0, 1)
    negatives = np.clip(rng.normal(0.5, 0.1, 2000), 0, 1)
    balanced = choose_unknown_threshold(known, negatives, 5)
    strict = choose_unknown_threshold(known, negatives, 5, max_false_accept=0.02)
    assert strict["false_accept_rate"] <= 0.02 < balanced["false_accept_rate"]
    assert strict["false_unknown_rate"] > balanced["false_unknown_rate"]
    assert strict["threshold"] > balanced["threshold"]


def test_threshold_choice_stays_between_chance_and_the_cap():
    # negatives more confident than anything known: nothing can be separated, never a threshold above the cap
    chosen = choose_unknown_threshold([0.3, 0.35], [0.99, 0.98], n_classes=4)
    assert 0.25 <= chosen["threshold"] <= 0.9
    # no negatives at all: any threshold up to the least sure known window is free of errors
    chosen = choose_unknown_threshold([0.6, 0.9], [], n_classes=4)
    assert 0.25 <= chosen["threshold"] <= 0.6 and chosen["false_unknown_rate"] == 0.0


def test_windows_answered_no_speech_do_not_vote_and_count_as_not_named():
    # rec a: one classified window (right) and one "no speech" row; rec b: only "no speech" rows
    probs = np.array([[0.9, 0.1], [0.0, 0.0], [0.0, 0.0], [0.0, 0.0]])
    m = evaluate_predictions(probs, [0, 0, 0, 0], ["a", "a", "b", "b"], ["x", "y"])
    assert m["accuracy"] == pytest.approx(0.25)  # the no-speech windows are wrong, not class "x"
    assert m["recording_accuracy"] == pytest.approx(0.5)  # a: named from its speech window; b: not named
    assert m["no_speech_rate"] == pytest.approx(0.5) and m["window_no_speech_rate"] == pytest.approx(0.75)
    assert m["confusion"] == [[1, 0], [0, 0]] and m["recording_confusion"] == [[1, 0], [0, 0]]
    wrong = misclassified_windows(probs, [0, 0, 0, 0], ["x", "y"], ["a", "a", "b", "b"], [0, 1, 0, 1], [2, 3, 2, 3])
    assert len(wrong) == 3 and {w["predicted"] for w in wrong} == {"no speech"}
    clean = evaluate_predictions(probs[:1], [0], ["a"], ["x", "y"])
    assert clean["no_speech_rate"] == 0.0 and clean["recording_accuracy"] == 1.0
