"""A Keras model run by TensorFlow Lite's XNNPACK CPU kernels: the app's default way to run a network
(``backbones.make_fast_predictor``, so files, timelines, evaluation, feature extraction and live share it).

The model's inference graph is traced for one image, its weights frozen in as constants and converted to a TFLite
flatbuffer in memory (a few seconds for InceptionV3 cut at mixed5, about as long as one XLA compilation, and once
per model per process). Measured on the 2 shared cores (bench/timeline_stages.py; DEVELOPERS.md, the timeline's
speed): CPU per image InceptionV3 to mixed4+mixed5 80 ms (XLA 105 ms), MobileNetV2 10 ms (tf.function 30 ms),
small_cnn 3 ms (4 ms); one image per call runs as fast as batches of 16, so there is no padding and a live window
costs what a file's window costs. Outputs equal TensorFlow's to about 3e-6.

A model that does not convert, or whose converted outputs differ from TensorFlow's on a probe image, is not run
here (``tflite_predictor`` returns None and the caller keeps TensorFlow). ``AUDIONET_INFERENCE=tf`` turns the
engine off for the whole process (a comparison, or a TensorFlow without ``tf.lite``).

The converter holds Python's GIL for up to half a second at a time (measured 0.55 s, InceptionV3 to mixed5;
tf.function tracing and XLA compilation never held it over 40 ms), so the GUI process keeps TensorFlow
(``prefer_engine("tf")`` in the app's entry): live listening starts there, and a window must not freeze. Its
child processes (identify, timelines, training) start fresh and use TFLite.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import threading
import warnings
from collections.abc import Callable, Iterator

import numpy as np

log = logging.getLogger(__name__)

ENGINE_ENV = "AUDIONET_INFERENCE"
ENGINES = ("tflite", "tf")
PROBE_TOLERANCE = 1e-3  # of the output's scale: float32 kernels differ by about 1e-6; a broken conversion by far more


_process_engine: str | None = None


def prefer_engine(engine: str | None) -> None:
    """This process's default engine (None: "tflite"); ``AUDIONET_INFERENCE`` still decides when set."""
    global _process_engine
    if engine is not None and engine not in ENGINES:
        raise ValueError(f"inference engine must be one of {ENGINES}, got {engine!r}")
    _process_engine = engine


def default_engine() -> str:
    """``AUDIONET_INFERENCE`` when it names an engine, else this process's choice (``prefer_engine``), else
    "tflite"."""
    chosen = os.environ.get(ENGINE_ENV, "").strip().lower()
    return chosen if chosen in ENGINES else (_process_engine or "tflite")


@contextlib.contextmanager
def _quiet_native_stderr() -> Iterator[None]:
    """The first interpreter of a process logs "INFO: Created TensorFlow Lite XNNPACK delegate for CPU." from C++
    straight to file descriptor 2 (no setting turns it off), into the CLI's progress and messages."""
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError, AttributeError):
        yield  # no real stderr (a GUI without a console): nothing to keep clean
        return
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 2)
        os.close(devnull)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


@contextlib.contextmanager
def _quiet_absl() -> Iterator[None]:
    """The converter warns through absl that a frozen function without its Keras object takes its older path:
    that path is the one that freezes Keras 3 variables (the newer one leaves them as variables it cannot read)."""
    logger = logging.getLogger("absl")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def _probe(shape: tuple[int, ...]) -> np.ndarray:
    """One deterministic image of pixel values 0..255 with structure at every scale (not a flat field, which
    would leave most kernels unexercised)."""
    return np.random.default_rng(0).integers(0, 256, (1, *shape)).astype(np.float32)


def tflite_predictor(model, threads: int | None = None) -> Callable[[np.ndarray], np.ndarray] | None:
    """A callable images (N, ...) -> outputs (N, ...) float32 running ``model`` (single input, single output, one
    image's shape fixed) through TFLite, one image per interpreter call, thread-safe; or None when the model does
    not convert or its TFLite copy disagrees with it on a probe image."""
    try:
        return _build(model, threads or os.cpu_count() or 1)
    except Exception as exc:  # any converter failure: the caller runs the model in TensorFlow
        log.info("TFLite cannot run %s (%s: %s); running it in TensorFlow", getattr(model, "name", "model"),
                 type(exc).__name__, exc)
        return None


def _build(model, threads: int):
    import tensorflow as tf  # noqa: PLC0415 - loads TensorFlow/Keras (3 s): only when this runs
    from tensorflow.python.framework.convert_to_constants import (  # noqa: PLC0415 - as above
        convert_variables_to_constants_v2,
    )

    if isinstance(model.input_shape, list) or len(model.outputs) != 1:
        return None
    image_shape = tuple(model.input_shape[1:])
    out_shape = tuple(model.output_shape[1:])
    if None in image_shape or None in out_shape:
        return None
    traced = tf.function(lambda x: model(x, training=False)).get_concrete_function(
        tf.TensorSpec((1, *image_shape), tf.float32))
    frozen = convert_variables_to_constants_v2(traced)
    with _quiet_absl():
        flatbuffer = tf.lite.TFLiteConverter.from_concrete_functions([frozen]).convert()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tf.lite.Interpreter's notice that it moves to the ai_edge_litert package
        interpreter = tf.lite.Interpreter(model_content=flatbuffer, num_threads=threads)
    with _quiet_native_stderr():
        interpreter.allocate_tensors()
    source = interpreter.get_input_details()[0]["index"]
    target = interpreter.get_output_details()[0]["index"]
    lock = threading.Lock()  # an interpreter runs one call at a time; each call uses every core

    def predict(images: np.ndarray) -> np.ndarray:
        images = np.asarray(images)
        if images.ndim == len(image_shape):
            images = images[None]
        out = np.empty((images.shape[0], *out_shape), np.float32)
        for i in range(images.shape[0]):
            image = images[i:i + 1].astype(np.float32, copy=False)
            with lock:
                interpreter.set_tensor(source, image)
                interpreter.invoke()  # releases the GIL: the next images are made meanwhile
                out[i] = interpreter.get_tensor(target)[0]
        return out

    probe = _probe(image_shape)
    expected = traced(tf.constant(probe))
    expected = np.asarray(expected[0] if isinstance(expected, (list, tuple)) else expected, np.float32)
    got = predict(probe)
    scale = max(1.0, float(np.max(np.abs(expected))))
    if got.shape != expected.shape or not np.all(np.abs(got - expected) <= PROBE_TOLERANCE * scale):
        log.warning("TFLite's copy of %s differs from it (largest difference %s); running it in TensorFlow",
                    getattr(model, "name", "model"),
                    float(np.max(np.abs(got - expected))) if got.shape == expected.shape else "shape")
        return None
    predict.engine = "tflite"
    return predict
