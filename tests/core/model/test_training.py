"""Training: accuracy on small synthetic classes, repeatability, cache reuse, progress, cancel, safe-mode save."""

from __future__ import annotations

import json

import numpy as np
import pytest

from audionet_gui.core.base.jobs import Cancelled, CancelToken
from audionet_gui.core.model.openset import head_parts
from audionet_gui.core.model.training import LabeledImages, TrainConfig, train_classifier

LABELS = ["low", "mid", "high"]


def stripe_images(n_per_class: int, size: tuple[int, int], seed: int) -> LabeledImages:
    """Spectrogram-like images: each class is a bright horizontal band at its own height (frequency), at a
    random time position, over noise."""
    rng = np.random.default_rng(seed)
    w, h = size
    images, labels = [], []
    for c in range(len(LABELS)):
        for _ in range(n_per_class):
            img = rng.integers(0, 70, (h, w, 3)).astype(np.uint8)
            row = int(h * (0.75 - 0.3 * c)) + int(rng.integers(-2, 3))
            x0 = int(rng.integers(0, w // 2))
            img[row:row + max(2, h // 10), x0:x0 + w // 2] = (230, 200, 60)
            images.append(img)
            labels.append(c)
    return LabeledImages(images, np.array(labels))


@pytest.fixture(scope="module")
def data75():
    return stripe_images(20, (75, 75), 0), stripe_images(8, (75, 75), 1)


def _accuracy(result, val):
    return float((result.val_probabilities.argmax(1) == val.labels).mean())


@pytest.mark.slow
def test_inception_head_learns_repeatably_and_reuses_the_cache(tmp_path, data75):
    train, val = data75
    cfg = TrainConfig(backbone="inception_v3", weights="none", image_size=(75, 75), feature_layer="mixed2",
                      epochs=25, patience=6, augment=True, augment_copies=1)
    reports = []
    first = train_classifier(train, val, LABELS, cfg, tmp_path / "cache", progress=reports.append)
    assert _accuracy(first, val) >= 0.8  # chance is 0.33
    assert first.val_probabilities.shape == (len(val), 3)
    np.testing.assert_allclose(first.val_probabilities.sum(1), 1.0, atol=1e-5)
    assert first.feature_dim == 288
    assert first.timings["features_computed"] == 2 * len(train) + len(val)  # originals + one augmented copy each

    epochs = [r for r in reports if r.stage == "training"]
    assert epochs and set(epochs[-1].extra) >= {"epoch", "loss", "accuracy", "val_loss", "val_accuracy"}
    assert [h["epoch"] for h in first.history] == list(range(1, len(first.history) + 1))
    assert set(first.history[0]) >= {"epoch", "loss", "accuracy", "val_loss", "val_accuracy"}

    second = train_classifier(train, val, LABELS, cfg, tmp_path / "cache")
    assert second.timings["features_computed"] == 0  # every vector came from the cache
    np.testing.assert_allclose(second.val_probabilities, first.val_probabilities, atol=1e-6)  # same seed

    # ONE model from images to probabilities that agrees with the training-time validation output
    probs = first.model.predict(np.stack(val.images), verbose=0)
    np.testing.assert_allclose(probs, first.val_probabilities, atol=1e-4)


@pytest.mark.slow
def test_model_saves_and_loads_in_safe_mode(tmp_path, data75):
    import keras  # noqa: PLC0415 - loads TensorFlow/Keras (3 s): only when this runs

    train, val = data75
    cfg = TrainConfig(backbone="inception_v3", weights="none", image_size=(75, 75), feature_layer="mixed1",
                      epochs=3, augment=False)
    result = train_classifier(train, val, LABELS, cfg, None)
    path = tmp_path / "model.keras"
    result.model.save(path)
    loaded = keras.models.load_model(path, safe_mode=True)
    x = np.stack(val.images[:5])
    np.testing.assert_allclose(loaded.predict(x, verbose=0), result.model.predict(x, verbose=0), atol=1e-5)


@pytest.mark.slow
def test_small_cnn_trains_end_to_end(tmp_path):
    train, val = stripe_images(20, (64, 64), 2), stripe_images(8, (64, 64), 3)
    cfg = TrainConfig(backbone="small_cnn", weights="imagenet", image_size=(64, 64), epochs=25, patience=25,
                      seed=1, tensorboard_dir=str(tmp_path / "tb"))
    # ("imagenet" means random init for a network that has no pretrained weights)
    result = train_classifier(train, val, LABELS, cfg, tmp_path)
    assert _accuracy(result, val) >= 0.8
    assert len(result.history) == 25
    assert list((tmp_path / "tb" / "training").glob("events.out.tfevents.*"))
    np.testing.assert_allclose(result.model.predict(np.stack(val.images), verbose=0), result.val_probabilities,
                               atol=1e-4)


@pytest.mark.slow
def test_cancel_stops_training_promptly(data75):
    train, val = data75
    token = CancelToken()
    seen = []

    def progress(p):
        if p.stage == "training":
            seen.append(p.done)
            if p.done == 2:
                token.cancel()

    cfg = TrainConfig(backbone="small_cnn", weights="none", image_size=(75, 75), epochs=50, augment=False)
    with pytest.raises(Cancelled):
        train_classifier(train, val, LABELS, cfg, None, progress=progress, cancel=token)
    assert max(seen) == 2


@pytest.mark.slow
def test_fine_tuning_runs_end_to_end(data75):
    train, val = data75
    cfg = TrainConfig(backbone="inception_v3", weights="none", image_size=(75, 75), feature_layer="mixed1",
                      epochs=10, augment=False, fine_tune=True, fine_tune_layers=6, fine_tune_epochs=2,
                      fine_tune_learning_rate=1e-4)
    reports = []
    result = train_classifier(train, val, LABELS, cfg, None, progress=reports.append)
    stages = [h["stage"] for h in result.history]
    assert stages.count("fine_tuning") == 2 and stages[0] == "training"
    assert any(r.stage == "fine_tuning" for r in reports)
    probs = result.model.predict(np.stack(val.images), verbose=0)
    np.testing.assert_allclose(probs, result.val_probabilities, atol=1e-4)
    # the backbone's fast predictor made the features before fine-tuning: the model's two-part path (what
    # predict and calibration use) runs the fine-tuned weights, not that one
    parts = head_parts(result.model)
    np.testing.assert_allclose(parts.outputs(parts.extract(np.stack(val.images)), None)[0], probs, atol=1e-4)


def test_config_json_round_trip():
    cfg = TrainConfig(backbone="mobilenet_v2", image_size=(224, 160), feature_layer="mixed5+mixed7", epochs=5)
    again = TrainConfig.from_dict(json.loads(json.dumps(cfg.to_dict())))
    assert again == cfg
    assert TrainConfig.from_dict({"epochs": 3, "from_the_future": 1}).epochs == 3


def test_bad_inputs_are_refused():
    imgs = [np.zeros((75, 75, 3), np.uint8)]
    with pytest.raises(ValueError, match="labels"):
        LabeledImages(imgs, np.array([0, 1]))
    with pytest.raises(ValueError, match="out of range"):
        train_classifier(LabeledImages(imgs, np.array([5])), LabeledImages([], np.array([])), LABELS,
                         TrainConfig(backbone="small_cnn", image_size=(75, 75)), None)
