"""DER and speaker-attributed time (core/turn_metrics.py)."""

import pytest

from audionet_gui.core.turn_metrics import Turn, diarization_scores

REF = [Turn(0, 10, "alice"), Turn(10, 20, "stranger_a"), Turn(25, 35, "stranger_b")]


def test_a_perfect_answer_scores_zero_error_whatever_the_unknown_ids_are_called():
    hyp = [Turn(0, 10, "alice"), Turn(10, 20, "unknown-2"), Turn(25, 35, "unknown-1")]
    s = diarization_scores([REF], [hyp], strangers=["stranger_a", "stranger_b"])
    assert s["der"] == pytest.approx(0.0, abs=1e-3)
    assert s["enrolled_right"] == pytest.approx(1.0, abs=1e-3)
    assert s["stranger_unknown"] == pytest.approx(1.0, abs=1e-3)
    assert s["stranger_main_id"] == pytest.approx(1.0, abs=1e-3)
    assert s["strangers_distinct"] == "1/1"


def test_errors_are_counted_by_kind():
    # alice half missed, 5 s of false alarm in the pause, stranger_a named alice, both strangers one id
    hyp = [Turn(5, 10, "alice"), Turn(10, 20, "alice"), Turn(20, 25, "bob"), Turn(25, 35, "unknown-1")]
    s = diarization_scores([REF], [hyp], strangers=["stranger_a", "stranger_b"])
    assert s["missed"] == pytest.approx(5 / 30, abs=1e-3)
    assert s["false_alarm"] == pytest.approx(5 / 30, abs=1e-3)
    assert s["confusion"] == pytest.approx(10 / 30, abs=1e-3)
    assert s["der"] == pytest.approx(20 / 30, abs=1e-3)
    assert s["enrolled_right"] == pytest.approx(0.5, abs=1e-3)
    assert s["stranger_unknown"] == pytest.approx(0.5, abs=1e-3)


def test_one_id_for_two_strangers_is_a_confusion_and_not_distinct():
    hyp = [Turn(0, 10, "alice"), Turn(10, 20, "unknown-1"), Turn(25, 35, "unknown-1")]
    s = diarization_scores([REF], [hyp], strangers=["stranger_a", "stranger_b"])
    assert s["confusion"] == pytest.approx(10 / 30, abs=1e-3)
    assert s["strangers_distinct"] == "0/1"
    assert s["stranger_unknown"] == pytest.approx(1.0, abs=1e-3)


def test_silence_and_no_speech_labels_are_not_speech():
    hyp = [Turn(0, 10, "alice"), Turn(10, 35, "no speech")]
    s = diarization_scores([REF], [hyp], strangers=["stranger_a", "stranger_b"])
    assert s["missed"] == pytest.approx(20 / 30, abs=1e-3)
    assert s["false_alarm"] == 0
