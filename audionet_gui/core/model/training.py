"""Train a classifier: a softmax head on cached backbone features, optionally fine-tuned end to end.

Pretrained backbones: features are extracted once (and cached, see ``features.py``) for the training images and,
with ``augment``, for ``augment_copies`` augmented variants of each (time shift, SpecAugment masks; cached too),
so the head learns to ignore what augmentation changes. The head (feature normalisation, dropout, softmax) then
trains in seconds. ``fine_tune`` then unfreezes the top of the backbone and trains everything on augmented images
with a small learning rate. ``small_cnn`` has no pretrained weights: it always trains end to end.

The result is ONE Keras model, uint8 images (N, H, W, 3) -> class probabilities, made only of built-in layers
so it loads with ``keras.models.load_model(path, safe_mode=True)``. The head itself lives in ``head.py``.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from audionet_gui.core.audio.augment import AugmentConfig, augment_image
from audionet_gui.core.base.jobs import CancelToken, Progress, ProgressCallback, ensure_token, no_progress
from audionet_gui.core.model.backbones import (
    build_feature_extractor,
    configure_threads,
    forget_fast_predictor,
    get_spec,
    resolve_image_size,
    xla_helps,
)
from audionet_gui.core.model.features import DerivedImage, extract_features, feature_key, load_image
from audionet_gui.core.model.head import build_head, class_weights, log_scalars, tensorboard_writer, train_head


@dataclass
class TrainConfig:
    backbone: str = "inception_v3"
    weights: str = "imagenet"  # "imagenet" | "none" | path to a weights file
    feature_layer: str | None = None  # None = the backbone's default; "a+b" concatenates layers
    image_size: tuple[int, int] | None = None  # (width, height); None = the backbone's default
    epochs: int = 60
    batch_size: int = 32
    learning_rate: float = 1e-3
    dropout: float = 0.3
    label_smoothing: float = 0.1
    class_weighting: bool = True
    patience: int = 8  # epochs without a better validation loss before stopping (best weights are restored)
    fine_tune: bool = False
    fine_tune_layers: int = 30  # trainable layers at the top of the (cut) backbone
    fine_tune_epochs: int = 10
    fine_tune_learning_rate: float = 1e-5
    augment: bool = True
    augment_copies: int = 1  # augmented variants per training image for head training on features
    seed: int = 0
    tensorboard_dir: str | None = None

    def to_dict(self) -> dict:
        d = dataclasses.asdict(self)
        if d["image_size"] is not None:
            d["image_size"] = list(d["image_size"])
        return d

    @classmethod
    def from_dict(cls, d: dict) -> TrainConfig:
        known = {f.name for f in dataclasses.fields(cls)}
        kwargs = {k: v for k, v in d.items() if k in known}
        if kwargs.get("image_size") is not None:
            kwargs["image_size"] = tuple(kwargs["image_size"])
        return cls(**kwargs)


@dataclass
class LabeledImages:
    """Images (PNG paths or RGB uint8 arrays) and their integer class indices."""

    images: Sequence[Any]
    labels: np.ndarray

    def __post_init__(self) -> None:
        self.labels = np.asarray(self.labels, dtype=np.int64).reshape(-1)
        if len(self.images) != len(self.labels):
            raise ValueError(f"{len(self.images)} images but {len(self.labels)} labels")

    def __len__(self) -> int:
        return len(self.images)


@dataclass
class TrainResult:
    model: Any  # keras.Model: uint8 images (N, H, W, 3) -> softmax probabilities (N, C)
    history: list[dict]
    val_probabilities: np.ndarray  # (N_val, C), from the returned model
    feature_dim: int
    config: TrainConfig
    labels: list[str] = field(default_factory=list)
    timings: dict = field(default_factory=dict)  # seconds per stage, feature images/s


# ---------------------------------------------------------------------------------------------- helpers

def _one_hot(labels: np.ndarray, n_classes: int) -> np.ndarray:
    return np.eye(n_classes, dtype=np.float32)[labels]


def _keras_callbacks(cfg: TrainConfig, stage: str, epochs: int, progress: ProgressCallback, cancel: CancelToken,
                     history: list[dict], has_val: bool, epoch_offset: int = 0):
    """Per-epoch progress (with curves for the GUI), cancel between batches, early stopping, TensorBoard."""
    import keras  # noqa: PLC0415 - loads TensorFlow/Keras (3 s): only when this runs

    class _Report(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            cancel.raise_if_cancelled()

        def on_epoch_end(self, epoch, logs=None):
            logs = logs or {}
            row = {"epoch": epoch_offset + epoch + 1, "stage": stage,
                   "loss": float(logs.get("loss", float("nan"))),
                   "accuracy": float(logs.get("accuracy", float("nan"))),
                   "val_loss": float(logs.get("val_loss", float("nan"))),
                   "val_accuracy": float(logs.get("val_accuracy", float("nan")))}
            history.append(row)
            progress(Progress(stage, epoch + 1, epochs,
                              f"epoch {epoch + 1}/{epochs}: loss {row['loss']:.3f}, accuracy {row['accuracy']:.3f}"
                              + (f", val accuracy {row['val_accuracy']:.3f}" if has_val else ""),
                              extra=dict(row)))
            cancel.raise_if_cancelled()

    cbs = [_Report()]
    if has_val and cfg.patience > 0:
        cbs.append(keras.callbacks.EarlyStopping(monitor="val_loss", patience=cfg.patience,
                                                 restore_best_weights=True))
    writer = tensorboard_writer(cfg, stage)
    if writer is not None:
        class _Scalars(keras.callbacks.Callback):  # keras's TensorBoard callback needs the tensorboard package
            def on_epoch_end(self, epoch, logs=None):
                log_scalars(writer, history[-1])

        cbs.append(_Scalars())
    return cbs


def _compile(model, learning_rate: float, label_smoothing: float) -> None:
    import keras  # noqa: PLC0415 - loads TensorFlow/Keras (3 s): only when this runs

    # Keras's "auto" turns XLA on, which halves small_cnn's training speed on CPU: decide as for inference.
    model.compile(optimizer=keras.optimizers.Adam(learning_rate),
                  loss=keras.losses.CategoricalCrossentropy(label_smoothing=label_smoothing),
                  metrics=["accuracy"], jit_compile=xla_helps(model))


def _stack_model(extractor, head, name: str):
    import keras  # noqa: PLC0415 - loads TensorFlow/Keras (3 s): only when this runs

    inputs = keras.Input(extractor.input_shape[1:], name="image")
    return keras.Model(inputs, head(extractor(inputs)), name=name)


def augmented_items(images: Sequence[Any], cfg: TrainConfig, aug: AugmentConfig) -> list[DerivedImage]:
    """``augment_copies`` augmented variants of each image, generated on demand; each is seeded by
    (seed, copy, source content) so it is the same image (and the same cache entry) on every run."""
    items = []
    aug_id = json.dumps(aug.to_dict(), sort_keys=True)
    for copy in range(cfg.augment_copies):
        def transform(img: np.ndarray, source_hash: str, copy=copy) -> np.ndarray:
            rng = np.random.default_rng([cfg.seed, copy, int(source_hash[:15], 16)])
            return augment_image(img, rng, aug)
        for item in images:
            items.append(DerivedImage(item, transform, f"augment:{aug_id}:seed={cfg.seed}:copy={copy}"))
    return items


# ---------------------------------------------------------------------------------------------- training

def train_classifier(train: LabeledImages, val: LabeledImages, labels: list[str], cfg: TrainConfig,
                     cache_dir: str | Path | None, progress: ProgressCallback | None = None,
                     cancel: CancelToken | None = None) -> TrainResult:
    """Train on ``train``, early-stop and calibrate on ``val``; see the module notes for the stages.

    Progress stages: "features" (images), "training" (epochs, with loss/accuracy curves in ``extra``) and
    "fine_tuning". Cancel raises ``Cancelled`` between batches and epochs.
    """
    import keras  # noqa: PLC0415 - loads TensorFlow/Keras (3 s): only when this runs

    progress = progress or no_progress
    cancel = ensure_token(cancel)
    if len(train) == 0:
        raise ValueError("no training images")
    n_classes = len(labels)
    if int(train.labels.max()) >= n_classes or (len(val) and int(val.labels.max()) >= n_classes):
        raise ValueError("a class index is out of range of the labels")
    configure_threads()
    keras.utils.set_random_seed(cfg.seed)
    spec = get_spec(cfg.backbone)
    size = resolve_image_size(cfg.backbone, cfg.image_size)
    timings: dict[str, float] = {}
    t0 = time.monotonic()
    extractor = build_feature_extractor(cfg.backbone, cfg.weights, size, cfg.feature_layer, seed=cfg.seed)
    timings["build_s"] = time.monotonic() - t0
    if not spec.pretrained or cfg.backbone == "small_cnn":
        return _train_end_to_end(extractor, train, val, labels, cfg, size, progress, cancel, timings)

    key = feature_key(cfg.backbone, cfg.weights, size, cfg.feature_layer)
    aug = AugmentConfig()
    train_items = list(train.images)
    train_y = train.labels
    if cfg.augment and cfg.augment_copies > 0:
        train_items += augmented_items(train.images, cfg, aug)
        train_y = np.concatenate([train.labels] * (1 + cfg.augment_copies))
    stats: dict = {}
    t0 = time.monotonic()
    feats = extract_features(train_items + list(val.images), key, extractor, cache_dir, batch_size=32,
                             progress=progress, cancel=cancel, stats=stats)
    timings["features_s"] = time.monotonic() - t0
    timings["features_computed"] = stats.get("computed", 0)
    timings["features_cached"] = stats.get("cached", 0)
    if stats.get("computed") and stats.get("seconds"):
        timings["images_per_s"] = stats["computed"] / stats["seconds"]
    x_train, x_val = feats[:len(train_items)], feats[len(train_items):]

    history: list[dict] = []
    t0 = time.monotonic()
    head, val_probs = train_head(x_train, train_y, x_val, val.labels, n_classes, cfg, progress, cancel, history)
    timings["head_s"] = time.monotonic() - t0

    model = _stack_model(extractor, head, f"{cfg.backbone}_classifier")
    if cfg.fine_tune:
        t0 = time.monotonic()
        _unfreeze_top(extractor, cfg.fine_tune_layers)
        val_probs = _fit_images(model, train, val, n_classes, cfg, size, "fine_tuning", cfg.fine_tune_epochs,
                                cfg.fine_tune_learning_rate, progress, cancel, history,
                                epoch_offset=len(history))
        forget_fast_predictor(extractor)  # it made the features above with the weights before fine-tuning
        timings["fine_tune_s"] = time.monotonic() - t0
    return TrainResult(model, history, np.asarray(val_probs, np.float32), int(x_train.shape[1]), cfg,
                       list(labels), timings)


def _train_end_to_end(extractor, train: LabeledImages, val: LabeledImages, labels: list[str], cfg: TrainConfig,
                      size: tuple[int, int], progress: ProgressCallback, cancel: CancelToken,
                      timings: dict) -> TrainResult:
    """A network without pretrained weights (small_cnn): trunk and head learn together on augmented images."""
    n_classes = len(labels)
    feature_dim = int(extractor.output_shape[-1])
    head = build_head(feature_dim, n_classes, cfg.dropout, None, seed=cfg.seed)
    model = _stack_model(extractor, head, f"{cfg.backbone}_classifier")
    history: list[dict] = []
    t0 = time.monotonic()
    val_probs = _fit_images(model, train, val, n_classes, cfg, size, "training", cfg.epochs, cfg.learning_rate,
                            progress, cancel, history)
    forget_fast_predictor(extractor)
    timings["train_s"] = time.monotonic() - t0
    return TrainResult(model, history, np.asarray(val_probs, np.float32), feature_dim, cfg, list(labels), timings)


def _unfreeze_top(extractor, n_layers: int) -> None:
    """Make the last ``n_layers`` weighted layers of the backbone trainable; BatchNorm stays frozen (its
    statistics from pretraining are better than those of a small batch)."""
    import keras  # noqa: PLC0415 - loads TensorFlow/Keras (3 s): only when this runs

    trunk = next((layer for layer in extractor.layers if isinstance(layer, keras.Model)), extractor)
    extractor.trainable = True
    trunk.trainable = True
    weighted = [layer for layer in trunk.layers if layer.weights]
    for layer in weighted:
        layer.trainable = False
    for layer in weighted[-n_layers:] if n_layers > 0 else []:
        if not isinstance(layer, keras.layers.BatchNormalization):
            layer.trainable = True


def _fit_images(model, train: LabeledImages, val: LabeledImages, n_classes: int, cfg: TrainConfig,
                size: tuple[int, int], stage: str, epochs: int, learning_rate: float,
                progress: ProgressCallback, cancel: CancelToken, history: list[dict], epoch_offset: int = 0):
    """Train ``model`` on images with on-the-fly augmentation; returns its probabilities on ``val``."""
    import keras  # noqa: PLC0415 - loads TensorFlow/Keras (3 s): only when this runs

    progress(Progress(stage, 0, epochs, "loading images"))
    x_train = np.stack([load_image(item, size) for item in train.images])
    x_val = (np.stack([load_image(item, size) for item in val.images]) if len(val)
             else np.zeros((0, size[1], size[0], 3), np.uint8))
    y_train = _one_hot(train.labels, n_classes)
    weights = class_weights(train.labels, n_classes) if cfg.class_weighting else None
    data = _AugmentedImages(x_train, y_train, train.labels, weights, cfg.batch_size,
                            cfg.seed, AugmentConfig() if cfg.augment else None)
    keras.utils.set_random_seed(cfg.seed)
    _compile(model, learning_rate, cfg.label_smoothing)
    has_val = len(val) > 0
    model.fit(data, epochs=epochs, verbose=0,
              validation_data=(x_val, _one_hot(val.labels, n_classes)) if has_val else None,
              callbacks=_keras_callbacks(cfg, stage, epochs, progress, cancel, history, has_val, epoch_offset))
    if not has_val:
        return np.zeros((0, n_classes), np.float32)
    return model.predict(x_val, batch_size=cfg.batch_size, verbose=0)


def _make_dataset_class():
    import keras  # noqa: PLC0415 - loads TensorFlow/Keras (3 s): only when this runs

    class AugmentedImages(keras.utils.PyDataset):
        """Shuffled batches (images, one-hot, sample weights), each image freshly augmented per epoch."""

        def __init__(self, x, y, labels, weights, batch_size, seed, aug: AugmentConfig | None):
            super().__init__()
            self.x, self.y, self.batch_size, self.seed, self.aug = x, y, batch_size, seed, aug
            self.w = (np.array([weights[int(c)] for c in labels], np.float32) if weights
                      else np.ones(len(labels), np.float32))
            self.epoch = 0
            self.order = np.random.default_rng([seed, 0]).permutation(len(x))

        def __len__(self):
            return int(np.ceil(len(self.x) / self.batch_size))

        def __getitem__(self, i):
            idx = self.order[i * self.batch_size:(i + 1) * self.batch_size]
            xb = self.x[idx]
            if self.aug is not None:
                rng = np.random.default_rng([self.seed, self.epoch, i])
                xb = np.stack([augment_image(img, rng, self.aug) for img in xb])
            return xb.astype(np.float32), self.y[idx], self.w[idx]

        def on_epoch_end(self):
            self.epoch += 1
            self.order = np.random.default_rng([self.seed, self.epoch]).permutation(len(self.x))

    return AugmentedImages


def _AugmentedImages(*args, **kwargs):
    return _make_dataset_class()(*args, **kwargs)
