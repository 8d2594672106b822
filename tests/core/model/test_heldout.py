"""Windows scored by heads that never met them: left-out classes (strangers) and cross-fitted folds of training
recordings (enrolled voices, clean and augmented)."""

import numpy as np
import pytest

from audionet_gui.core.model.heldout import cross_fitted_known, leave_one_class_out, recording_folds
from audionet_gui.core.model.training import TrainConfig


def clusters(rng, centres, n_per, spread=0.5):
    y = np.repeat(np.arange(len(centres)), n_per)
    return (centres[y] + rng.normal(0, spread, (y.size, centres.shape[1]))).astype(np.float32), y


@pytest.mark.slow  # trains four small heads
def test_leave_one_class_out_scores_every_held_out_window_of_each_set():
    rng = np.random.default_rng(0)
    centres = rng.normal(0, 4, (4, 16))
    (x_tr, y_tr), (x_va, y_va), (x_te, y_te) = (clusters(rng, centres, n) for n in (30, 6, 5))
    cfg = TrainConfig(epochs=15, patience=3, seed=0)
    val_top, test_top = leave_one_class_out(x_tr, y_tr, x_va, y_va, 4, cfg, others=[(x_te, y_te)])
    assert val_top.shape == (24,) and test_top.shape == (20,)
    assert np.all((val_top >= 1 / 3 - 1e-6) & (val_top <= 1.0))  # best of three probabilities
    empty = leave_one_class_out(x_tr[y_tr < 2], y_tr[y_tr < 2], x_va[y_va < 2], y_va[y_va < 2], 2, cfg)
    assert [a.size for a in empty] == [0]  # two classes: leaving one out leaves nothing to choose between


def test_recording_folds_keep_a_recordings_windows_together_and_spread_each_class():
    groups = ["a1", "a1", "a2", "a3", "b1", "b2", "b2", "c1", "c1"]
    labels = np.array([0, 0, 0, 0, 1, 1, 1, 2, 2])
    fold = recording_folds(groups, labels, folds=2)
    assert fold[0] == fold[1] and fold[5] == fold[6]  # a recording (its augmented copies too) in one fold
    assert set(fold[:4]) == {0, 1} and set(fold[4:7]) == {0, 1}  # each class in both folds
    assert (fold[7:] == -1).all()  # one recording only: never left out, the head would lose the class


@pytest.mark.slow  # trains five small heads
def test_cross_fitted_known_scores_every_training_window_without_its_fold():
    rng = np.random.default_rng(1)
    centres = rng.normal(0, 4, (3, 16))
    x_tr, y_tr = clusters(rng, centres, 30)
    groups = [f"{c}-{i // 3}" for c, i in zip(y_tr, range(len(y_tr)))]  # recordings of three windows
    clean = np.arange(len(y_tr)) % 3 == 0  # the first window of each: the clean one, two copies after it
    x_va, y_va = clusters(rng, centres, 5)
    cfg = TrainConfig(epochs=15, patience=3, seed=0, learning_rate=0.05)  # a tiny head learns in a few steps
    held = cross_fitted_known(x_tr, y_tr, groups, clean, x_va, y_va, 3, cfg,
                              standardise=lambda x: np.asarray(x, np.float32))
    assert held.top.shape == held.correct.shape == held.cosines.shape == held.clean.shape == (90,)
    assert held.clean.sum() == 30
    assert held.correct.mean() > 0.9 and (held.top > 1 / 3).all()
    assert held.cosines.mean() > 0.3  # near their own class's centroid, fitted without them
    # without features: no cosines; a class of one recording is never left out
    single = [g if c else "one" for g, c in zip(groups, y_tr)]
    held = cross_fitted_known(x_tr, y_tr, single, clean, x_va, y_va, 3, cfg)
    assert held.top.shape == (60,) and held.cosines.size == 0
