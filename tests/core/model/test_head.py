"""The numpy-trained softmax head: learns, repeats, stops early on validation, honours class weights."""

from __future__ import annotations

import numpy as np
import pytest

from audionet_gui.core.base.jobs import Cancelled, CancelToken
from audionet_gui.core.model.head import class_weights, train_head
from audionet_gui.core.model.training import TrainConfig


def blobs(n_per_class, n_classes=4, dim=32, seed=0, spread=1.0, counts=None):
    rng = np.random.default_rng(seed)
    centres = np.random.default_rng(99).normal(0, 3, (n_classes, dim))
    counts = counts or [n_per_class] * n_classes
    x = np.concatenate([centres[c] + spread * rng.normal(size=(k, dim)) for c, k in enumerate(counts)])
    y = np.concatenate([[c] * k for c, k in enumerate(counts)])
    # channels on wildly different scales, as pooled CNN activations are
    return (x * np.logspace(-3, 2, dim)).astype(np.float32), y


def test_head_learns_and_matches_its_keras_model():
    x, y = blobs(50)
    xv, yv = blobs(20, seed=1)
    history = []
    reports = []
    head, probs = train_head(x, y, xv, yv, 4, TrainConfig(epochs=30), progress=reports.append, history=history)
    assert (probs.argmax(1) == yv).mean() > 0.95
    np.testing.assert_allclose(head.predict(xv, verbose=0), probs, atol=1e-5)
    assert [r.extra["epoch"] for r in reports] == [h["epoch"] for h in history]
    assert set(history[0]) >= {"epoch", "loss", "accuracy", "val_loss", "val_accuracy"}
    assert history[-1]["loss"] < history[0]["loss"]


def test_same_seed_same_head_and_other_seed_differs():
    x, y = blobs(30, spread=4.0)
    xv, yv = blobs(10, seed=1, spread=4.0)
    a = train_head(x, y, xv, yv, 4, TrainConfig(epochs=5, seed=3))[1]
    b = train_head(x, y, xv, yv, 4, TrainConfig(epochs=5, seed=3))[1]
    c = train_head(x, y, xv, yv, 4, TrainConfig(epochs=5, seed=4))[1]
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)


def test_early_stopping_restores_the_best_epoch():
    x, y = blobs(20, spread=6.0)  # noisy: validation loss soon rises again
    xv, yv = blobs(20, seed=1, spread=6.0)
    history = []
    _, probs = train_head(x, y, xv, yv, 4, TrainConfig(epochs=200, patience=3, learning_rate=1e-2, dropout=0.0),
                          history=history)
    assert len(history) < 200
    best = min(h["val_loss"] for h in history)
    assert history.index(min(history, key=lambda h: h["val_loss"])) == len(history) - 1 - 3
    smooth = 0.1
    targets = np.eye(4)[yv] * (1 - smooth) + smooth / 4
    loss = -(targets * np.log(np.clip(probs, 1e-7, 1))).sum(1).mean()
    assert loss == pytest.approx(best, rel=1e-4)


def test_class_weights_help_a_rare_class():
    x, y = blobs(0, n_classes=2, spread=5.0, counts=[300, 15])
    xv, yv = blobs(0, n_classes=2, seed=1, spread=5.0, counts=[100, 100])
    cfg = dict(epochs=15, patience=0, dropout=0.0)
    _, plain = train_head(x, y, xv, yv, 2, TrainConfig(class_weighting=False, **cfg))
    _, weighted = train_head(x, y, xv, yv, 2, TrainConfig(class_weighting=True, **cfg))
    recall = lambda p: (p.argmax(1)[yv == 1] == 1).mean()  # noqa: E731
    assert recall(weighted) >= recall(plain)
    assert weighted[yv == 1, 1].mean() > plain[yv == 1, 1].mean()
    w = class_weights(np.array([0] * 8 + [1] * 2), 3)
    assert w[1] == pytest.approx(4 * w[0]) and w[2] == 1.0


def test_no_validation_trains_all_epochs_and_cancel_stops():
    x, y = blobs(20)
    history = []
    _, probs = train_head(x, y, x[:0], y[:0], 4, TrainConfig(epochs=4), history=history)
    assert len(history) == 4 and probs.shape == (0, 4)
    token = CancelToken()
    seen = []

    def progress(p):
        seen.append(p.done)
        if p.done == 2:
            token.cancel()
    with pytest.raises(Cancelled):
        train_head(x, y, x, y, 4, TrainConfig(epochs=50), progress=progress, cancel=token)
    assert seen == [1, 2]


def test_tensorboard_logs_are_written(tmp_path):
    x, y = blobs(10)
    train_head(x, y, x, y, 4, TrainConfig(epochs=2, tensorboard_dir=str(tmp_path)))
    assert list((tmp_path / "head").glob("events.out.tfevents.*"))


def test_tensorboard_event_holds_the_curves(tmp_path):
    import tensorflow as tf  # noqa: PLC0415 - loads TensorFlow/Keras (3 s): only when this runs

    x, y = blobs(10)
    train_head(x, y, x, y, 4, TrainConfig(epochs=3, tensorboard_dir=str(tmp_path)))
    tags = set()
    for f in (tmp_path / "head").glob("events.out.tfevents.*"):
        for event in tf.compat.v1.train.summary_iterator(str(f)):
            tags.update(v.tag for v in event.summary.value)
    assert {"loss", "accuracy", "val_loss", "val_accuracy"} <= tags
