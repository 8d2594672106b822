"""How the Results page reads a model's figures: the accuracy interval, the small-test-set warning and the
validation figure against the curves' last point."""

import pytest

from audionet_gui.core.model.figures import accuracy_interval, small_test_warning, validation_note, wilson_interval


def test_wilson_interval_matches_the_textbook_values():
    assert wilson_interval(27, 30) == pytest.approx((0.7438, 0.9654), abs=1e-4)
    assert wilson_interval(30, 30)[1] == 1.0 and wilson_interval(30, 30)[0] == pytest.approx(0.8865, abs=1e-4)
    assert wilson_interval(0, 0) == (0.0, 1.0)


def test_a_tiny_test_set_is_flagged_with_its_interval_and_a_big_one_is_not():
    tiny = {"windows": 30, "accuracy": 0.9, "per_class": {c: {"support": 5} for c in "abcdef"}}
    text = small_test_warning(tiny)
    assert "30 windows (5 for the smallest class)" in text and "74 % to 97 %" in text
    big = {"windows": 600, "accuracy": 0.9, "per_class": {c: {"support": 100} for c in "abcdef"}}
    assert small_test_warning(big) == ""
    assert accuracy_interval(big) == pytest.approx((0.873, 0.922), abs=1e-3)


def test_the_validation_figure_is_of_the_kept_epoch_not_the_last_point():
    history = [{"epoch": 1, "val_loss": 1.0, "val_accuracy": 0.5}, {"epoch": 2, "val_loss": 0.4, "val_accuracy": 0.8},
               {"epoch": 3, "val_loss": 0.6, "val_accuracy": 0.7}]
    note = validation_note({"val": {"accuracy": 0.82}, "history": history})
    assert "82.0 %" in note and "epoch 2 (the lowest validation loss)" in note and "epoch 3 (70.0 %)" in note
    same = validation_note({"val": {"accuracy": 0.7}, "history": history[:2]})
    assert "last epoch (2)" in same
    assert validation_note({"history": history}) == ""
