"""The classification head on backbone features: standardise, dropout, dense softmax.

It is trained here with a few lines of numpy (mini-batch Adam, label smoothing, class weights, early stopping
on validation loss, best epoch restored) instead of ``keras.Model.fit``: a head step is a tiny matrix product,
and Keras's per-step overhead made 60 epochs on FSDD-sized data (~5000 vectors) take 20-40 s on 2 shared
cores; here it takes a second or two. The result is a regular Keras model with the learnt values, so it is
saved, loaded (safe mode) and stacked on the feature extractor like any other.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from audionet_gui.core.base.jobs import CancelToken, Progress, ProgressCallback, ensure_token, no_progress

ADAM = dict(beta_1=0.9, beta_2=0.999, epsilon=1e-7)  # Keras's defaults
NORM_EPSILON = 1e-7  # keras.layers.Normalization divides by max(sqrt(variance), epsilon)


def class_weights(labels: np.ndarray, n_classes: int) -> dict[int, float]:
    """Balanced weights n / (C * count): a rare class counts as much as a common one. Absent classes get 1."""
    counts = np.bincount(np.asarray(labels, dtype=np.int64), minlength=n_classes).astype(np.float64)
    n = counts.sum()
    return {c: (float(n / (n_classes * counts[c])) if counts[c] else 1.0) for c in range(n_classes)}


def build_head(feature_dim: int, n_classes: int, dropout: float, train_features: np.ndarray | None = None,
               seed: int = 0):
    """Features -> probabilities: standardisation (when training features are given, fitted on them), dropout,
    dense softmax. Only built-in layers, so the model loads in safe mode."""
    import keras  # noqa: PLC0415 - loads TensorFlow/Keras (3 s): only when this runs
    from keras import layers  # noqa: PLC0415 - loads TensorFlow/Keras (3 s): only when this runs

    inputs = keras.Input((feature_dim,), name="features_in")
    x = inputs
    if train_features is not None and len(train_features):
        # Pooled activations differ in scale by orders of magnitude between channels: standardise them.
        norm = layers.Normalization(name="feature_norm")
        norm.adapt(train_features)
        x = norm(x)
    x = layers.Dropout(dropout, seed=seed, name="head_dropout")(x)
    outputs = layers.Dense(n_classes, activation="softmax", name="classes",
                           kernel_initializer=keras.initializers.GlorotUniform(seed=seed))(x)
    return keras.Model(inputs, outputs, name="head")


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def _losses(probs: np.ndarray, targets: np.ndarray) -> np.ndarray:
    return -(targets * np.log(np.clip(probs, 1e-7, 1.0))).sum(axis=1)


def _epoch_row(epoch: int, loss: float, acc: float, val_loss: float, val_acc: float) -> dict:
    return {"epoch": epoch, "stage": "training", "loss": loss, "accuracy": acc, "val_loss": val_loss,
            "val_accuracy": val_acc}


def train_head(x_train: np.ndarray, y_train: np.ndarray, x_val: np.ndarray, y_val: np.ndarray, n_classes: int,
               cfg: Any, progress: ProgressCallback | None = None, cancel: CancelToken | None = None,
               history: list[dict] | None = None):
    """Train the head on feature vectors; returns (Keras head model, validation probabilities (N_val, C)).

    ``cfg`` has the head settings of ``TrainConfig`` (epochs, batch_size, learning_rate, dropout,
    label_smoothing, class_weighting, patience, seed, tensorboard_dir). Reports one "training" progress per
    epoch with the loss/accuracy curves in ``extra``; cancel is checked between batches.
    """
    progress = progress or no_progress
    cancel = ensure_token(cancel)
    history = history if history is not None else []
    x_train = np.asarray(x_train, np.float32)
    x_val = np.asarray(x_val, np.float32)
    y_train = np.asarray(y_train, np.int64)
    y_val = np.asarray(y_val, np.int64)
    n, dim = x_train.shape
    head = build_head(dim, n_classes, cfg.dropout, x_train, seed=cfg.seed)
    norm = head.get_layer("feature_norm")
    mean = np.asarray(norm.mean, np.float32).reshape(-1)
    scale = 1.0 / np.maximum(np.sqrt(np.asarray(norm.variance, np.float32).reshape(-1)), NORM_EPSILON)
    xs = (x_train - mean) * scale
    xv = (x_val - mean) * scale
    dense = head.get_layer("classes")
    w, b = (np.array(v, np.float32) for v in dense.get_weights())  # Glorot init from the seed

    eye = np.eye(n_classes, dtype=np.float32)
    smooth = float(cfg.label_smoothing)
    t_train = eye[y_train] * (1 - smooth) + smooth / n_classes
    t_val = eye[y_val] * (1 - smooth) + smooth / n_classes if len(y_val) else np.zeros((0, n_classes), np.float32)
    cw = class_weights(y_train, n_classes) if cfg.class_weighting else None
    sample_w = (np.array([cw[int(c)] for c in y_train], np.float32) if cw else np.ones(n, np.float32))

    rng = np.random.default_rng([int(cfg.seed), 1])
    keep = 1.0 - float(cfg.dropout)
    lr = float(cfg.learning_rate)
    m_w, v_w, m_b, v_b = np.zeros_like(w), np.zeros_like(w), np.zeros_like(b), np.zeros_like(b)
    step = 0
    has_val = len(y_val) > 0
    best = (np.inf, w.copy(), b.copy(), 0)
    waited = 0
    writer = tensorboard_writer(cfg)
    bs = max(1, int(cfg.batch_size))
    for epoch in range(int(cfg.epochs)):
        order = rng.permutation(n)
        loss_sum, correct = 0.0, 0
        for start in range(0, n, bs):
            if start // bs % 16 == 0:
                cancel.raise_if_cancelled()
            idx = order[start:start + bs]
            xb = xs[idx]
            if keep < 1.0:  # inverted dropout, as keras.layers.Dropout
                xb = xb * (rng.random(xb.shape, dtype=np.float32) < keep) / keep
            p = _softmax(xb @ w + b)
            sw = sample_w[idx]
            loss_sum += float((_losses(p, t_train[idx]) * sw).sum())
            correct += int((p.argmax(1) == y_train[idx]).sum())
            g = (p - t_train[idx]) * (sw / len(idx))[:, None]  # d(mean weighted loss)/d(logits)
            gw, gb = xb.T @ g, g.sum(axis=0)
            step += 1
            corr = np.sqrt(1 - ADAM["beta_2"] ** step) / (1 - ADAM["beta_1"] ** step)
            for param, grad, m, v in ((w, gw, m_w, v_w), (b, gb, m_b, v_b)):
                m *= ADAM["beta_1"]
                m += (1 - ADAM["beta_1"]) * grad
                v *= ADAM["beta_2"]
                v += (1 - ADAM["beta_2"]) * grad * grad
                param -= lr * corr * m / (np.sqrt(v) + ADAM["epsilon"])
        val_loss, val_acc = float("nan"), float("nan")
        if has_val:
            pv = _softmax(xv @ w + b)
            val_loss = float(_losses(pv, t_val).mean())
            val_acc = float((pv.argmax(1) == y_val).mean())
        row = _epoch_row(epoch + 1, loss_sum / n, correct / n, val_loss, val_acc)
        history.append(row)
        if writer is not None:
            log_scalars(writer, row)
        progress(Progress("training", epoch + 1, int(cfg.epochs),
                          f"epoch {epoch + 1}/{cfg.epochs}: loss {row['loss']:.3f}, accuracy {row['accuracy']:.3f}"
                          + (f", val accuracy {val_acc:.3f}" if has_val else ""), extra=dict(row)))
        cancel.raise_if_cancelled()
        if has_val:
            if val_loss < best[0] - 1e-6:
                best, waited = (val_loss, w.copy(), b.copy(), epoch + 1), 0
            else:
                waited += 1
                if cfg.patience > 0 and waited >= cfg.patience:
                    break
    if has_val and np.isfinite(best[0]):
        w, b = best[1], best[2]  # the epoch with the lowest validation loss
    dense.set_weights([w, b])
    val_probs = _softmax(xv @ w + b).astype(np.float32) if has_val else np.zeros((0, n_classes), np.float32)
    return head, val_probs


def tensorboard_writer(cfg: Any, stage: str = "head"):
    if not getattr(cfg, "tensorboard_dir", None):
        return None
    import tensorflow as tf  # noqa: PLC0415 - loads TensorFlow/Keras (3 s): only when this runs

    return tf.summary.create_file_writer(str(Path(cfg.tensorboard_dir) / stage))


def log_scalars(writer, row: dict) -> None:
    """Scalar summaries TensorBoard plots, written with TF alone (the tensorboard package is not a
    dependency, and tf.summary.scalar needs it)."""
    import tensorflow as tf  # noqa: PLC0415 - loads TensorFlow/Keras (3 s): only when this runs
    from tensorflow.core.framework import summary_pb2  # noqa: PLC0415 - loads TensorFlow/Keras (3 s): only when this runs

    meta = summary_pb2.SummaryMetadata()
    meta.plugin_data.plugin_name = "scalars"
    with writer.as_default():
        for name in ("loss", "accuracy", "val_loss", "val_accuracy"):
            if np.isfinite(row[name]):
                tf.summary.write(name, tf.constant(row[name], tf.float32), step=int(row["epoch"]),
                                 metadata=meta.SerializeToString())
        writer.flush()
