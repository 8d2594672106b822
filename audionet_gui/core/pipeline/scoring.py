"""A trained model's probabilities for window images: batch by batch from disk, or through the feature cache when
the model is a head on frozen, cached backbone features (then the backbone never runs on the test set again)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from audionet_gui.core.base.jobs import (
    CancelToken,
    ProgressCallback,
    ProgressTracker,
)
from audionet_gui.core.model.backbones import (
    get_spec,
    prepare_image,
)
from audionet_gui.core.model.bundle import ModelBundle
from audionet_gui.core.model.features import extract_features, feature_key
from audionet_gui.core.model.openset import OpenSet, head_parts
from audionet_gui.core.model.predict import predict_images

EVAL_BATCH = 32


def load_images(paths: Sequence[Path], size: tuple[int, int]) -> np.ndarray:
    width, height = size
    if not paths:
        return np.zeros((0, height, width, 3), np.uint8)
    return np.stack([prepare_image(p, size) for p in paths])


def predict_paths(bundle: ModelBundle, paths: Sequence[Path], progress: ProgressCallback,
                   cancel: CancelToken) -> np.ndarray:
    """Probabilities for image files, loaded a batch at a time (memory stays bounded on big test sets)."""

    tracker = ProgressTracker(progress, "evaluating", len(paths))
    out = []
    for i in range(0, len(paths), EVAL_BATCH):
        cancel.raise_if_cancelled()
        chunk = paths[i:i + EVAL_BATCH]
        out.append(predict_images(bundle, load_images(chunk, bundle.image_size)))
        tracker.advance(len(chunk))
    return np.concatenate(out) if out else np.zeros((0, len(bundle.labels)), np.float32)


def frozen_parts(model, train_cfg, feature_cache: Path | None):
    """(extractor, head) of a head trained on frozen, cached backbone features, or None for any other model
    (fine-tuned, end-to-end, small_cnn, another shape): only then are the cached features the model's own."""
    import keras  # noqa: PLC0415 - loads TensorFlow/Keras (3 s): only when this runs

    spec = get_spec(train_cfg.backbone)
    if train_cfg.fine_tune or not spec.pretrained or train_cfg.backbone == "small_cnn" or feature_cache is None:
        return None
    parts = [layer for layer in model.layers if not isinstance(layer, keras.layers.InputLayer)]
    if len(parts) != 2 or not all(isinstance(part, keras.Model) for part in parts):
        return None
    return parts[0], parts[1]


def cached_feature_probabilities(model, train_cfg, paths: Sequence[Path], feature_cache: Path | None,
                                  progress: ProgressCallback, cancel: CancelToken,
                                  config: dict | None = None) -> np.ndarray | None:
    """Test probabilities through the feature cache, when that is exactly the model's own computation.

    A head trained on frozen backbone features is stacked as image -> extractor -> head. The extractor is then
    the very network that filled the feature cache, so test features can come from (and go to) that cache and
    retraining with other head settings does not run the backbone on the test set again. Returns None (the
    caller runs the whole model) for fine-tuned or end-to-end models, whose backbone is no longer the cached one,
    and for any model of another shape.
    """
    parts = frozen_parts(model, train_cfg, feature_cache)
    if parts is None:
        return None
    extractor, head = parts
    key = feature_key(train_cfg.backbone, train_cfg.weights, train_cfg.image_size, train_cfg.feature_layer)
    features = extract_features(list(paths), key, extractor, feature_cache, progress=progress, cancel=cancel,
                                stage="evaluating")
    if features.shape[1] != int(head.input_shape[-1]):
        return None
    open_set = OpenSet.from_config(config or {})
    numpy_head = head_parts(model) if open_set is not None else None
    if numpy_head is not None:  # answered as predict answers: the open-set posterior
        return numpy_head.outputs(features, open_set)[0]
    return np.asarray(head.predict(features, verbose=0, batch_size=256), dtype=np.float32)
