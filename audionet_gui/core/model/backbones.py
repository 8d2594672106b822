"""Image backbones: which CNNs the app can retrain, their weights, and a fast inference path.

A feature extractor takes RGB images with values 0..255 (uint8 or float32), shape (N, H, W, 3), and returns
(N, D) float32 features: the backbone's pixel scaling is a built-in ``Rescaling`` layer inside the model (so a
saved ``.keras`` file loads in safe mode and nobody has to remember the scaling), the network is cut at its
feature layer(s) (later blocks are not computed), and each layer is global-average pooled; several layers are
concatenated.
"""

from __future__ import annotations

import os
import threading
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from audionet_gui.core.base.errors import UnreadableFileError, WeightsUnavailableError
from audionet_gui.core.base.fsutil import file_sha256
from audionet_gui.core.model.tflite_engine import ENGINES, default_engine, tflite_predictor

PREPROCESSING_SCALES = {
    # name: (scale, offset) of keras.layers.Rescaling; "none" = the application scales by itself
    "minus1_1": (1.0 / 127.5, -1.0),
    "zero_1": (1.0 / 255.0, 0.0),
    "none": None,
}

# A feature-layer name that means "the application's own final output" (its layer names are not stable).
OUTPUT_LAYER = "output"


@dataclass(frozen=True)
class BackboneSpec:
    name: str
    default_image_size: tuple[int, int]  # (width, height)
    min_image_size: int
    preprocessing: str  # a key of PREPROCESSING_SCALES
    feature_layers: tuple[str, ...]  # pooled (and concatenated when several) by default
    pretrained: bool  # ImageNet weights exist for it
    keras_app: str | None  # attribute of keras.applications, None for our own networks
    description: str = ""


BACKBONES: dict[str, BackboneSpec] = {
    # InceptionV3 features: measured on FSDD speakers (bench/train.py --layer-study, stand-in weights), pooled
    # mixed4+mixed5 gave the best test accuracy (100 %; mixed5 99.0, mixed7 98.3, mixed10 84.7) at the cost
    # of a network cut after mixed5, which also runs 1.7x faster than the full one (26.7 vs 15.5 images/s).
    "inception_v3": BackboneSpec(
        "inception_v3", (299, 299), 75, "minus1_1", ("mixed4", "mixed5"), True, "InceptionV3",
        "Inception v3 (the 2018 project's network), cut after mixed5: accurate, about 25 images/s on 2 cores"),
    "mobilenet_v2": BackboneSpec(
        "mobilenet_v2", (224, 224), 32, "minus1_1", ("out_relu",), True, "MobileNetV2",
        "MobileNet v2; about 5x faster than Inception v3"),
    "mobilenet_v3_small": BackboneSpec(
        "mobilenet_v3_small", (224, 224), 32, "none", (OUTPUT_LAYER,), True, "MobileNetV3Small",
        "MobileNet v3 small; the fastest pretrained choice"),
    "efficientnet_b0": BackboneSpec(
        "efficientnet_b0", (224, 224), 32, "none", ("top_activation",), True, "EfficientNetB0",
        "EfficientNet B0"),
    "small_cnn": BackboneSpec(
        "small_cnn", (128, 128), 32, "minus1_1", ("trunk_out",), False, None,
        "a compact spectrogram CNN trained from scratch; needs no pretrained weights"),
}

DEFAULT_BACKBONE = "inception_v3"


def get_spec(name: str) -> BackboneSpec:
    try:
        return BACKBONES[name]
    except KeyError:
        raise ValueError(f"unknown backbone {name!r}; choose one of: {', '.join(BACKBONES)}") from None


def resolve_image_size(name: str, image_size: int | Sequence[int] | None = None) -> tuple[int, int]:
    """(width, height) for a backbone: the default, or the given size checked against the backbone's minimum."""
    spec = get_spec(name)
    if image_size is None:
        return spec.default_image_size
    if isinstance(image_size, int):
        size = (image_size, image_size)
    else:
        size = tuple(int(v) for v in image_size)
    if len(size) != 2 or min(size) < spec.min_image_size:
        raise ValueError(f"{name} needs an image size of at least {spec.min_image_size}x{spec.min_image_size} "
                         f"pixels, got {image_size!r}")
    return size  # type: ignore[return-value]


def resolve_feature_layers(name: str, feature_layer: str | Sequence[str] | None = None) -> tuple[str, ...]:
    """The layer(s) to pool. A string may name several layers joined by '+' (e.g. "mixed5+mixed7")."""
    if feature_layer is None or feature_layer == "":
        return get_spec(name).feature_layers
    if isinstance(feature_layer, str):
        layers = tuple(part.strip() for part in feature_layer.split("+") if part.strip())
    else:
        layers = tuple(feature_layer)
    if not layers:
        raise ValueError("feature_layer names no layer")
    return layers


# ---------------------------------------------------------------------------------------------- weights

_WEIGHTS_HELP = ("Either give a weights file with --weights PATH (a Keras .h5 / .weights.h5 file for the "
                 "backbone without its top), or choose the small_cnn backbone (trained from scratch, needs no "
                 "download), or pass --weights none to start from random weights (much less accurate).")


def _imagenet_file(name: str, image_size: tuple[int, int]) -> tuple[str, str, str | None]:
    """(file name, URL, md5) of Keras's own ImageNet 'notop' weights for a backbone; the same files Keras uses."""
    if name == "inception_v3":
        from keras.src.applications import inception_v3 as mod  # noqa: PLC0415 - loads TensorFlow/Keras (3 s): only when this runs
        return ("inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5", mod.WEIGHTS_PATH_NO_TOP,
                "bcbd6486424b2319ff4ef7d526e38f63")
    if name == "mobilenet_v2":
        from keras.src.applications import mobilenet_v2 as mod  # noqa: PLC0415 - loads TensorFlow/Keras (3 s): only when this runs
        rows = image_size[1] if image_size[1] in (96, 128, 160, 192, 224) else 224
        fname = f"mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_{rows}_no_top.h5"
        return fname, mod.BASE_WEIGHT_PATH + fname, None
    if name == "mobilenet_v3_small":
        from keras.src.applications import mobilenet_v3 as mod  # noqa: PLC0415 - loads TensorFlow/Keras (3 s): only when this runs
        fname = "weights_mobilenet_v3_small_224_1.0_float_no_top_v2.h5"
        return fname, mod.BASE_WEIGHT_PATH + fname, mod.WEIGHTS_HASHES["small_224_1.0_float"][1]
    if name == "efficientnet_b0":
        from keras.src.applications import efficientnet as mod  # noqa: PLC0415 - loads TensorFlow/Keras (3 s): only when this runs
        fname = "efficientnetb0_notop.h5"
        return fname, mod.BASE_WEIGHTS_PATH + fname, mod.WEIGHTS_HASHES["b0"][1]
    raise WeightsUnavailableError(f"{name} has no ImageNet weights. {_WEIGHTS_HELP}")


def _download(fname: str, url: str, file_hash: str | None) -> str:
    """Keras's own download-and-cache (``~/.keras/models``); a separate function so tests can mock it."""
    import keras  # noqa: PLC0415 - loads TensorFlow/Keras (3 s): only when this runs

    return keras.utils.get_file(fname, url, cache_subdir="models", file_hash=file_hash)


def resolve_weights(name: str, weights: str | None, image_size: tuple[int, int] | None = None) -> str | None:
    """The weights file to load for ``name``, or None for random initialisation.

    ``weights`` is "imagenet", "none" (explicit random init) or a path; an explicit file always wins. ImageNet
    weights are downloaded once and cached by Keras; when that fails (offline) this raises
    ``WeightsUnavailableError`` saying what to do. It never falls back to random weights by itself. A backbone
    without pretrained weights (small_cnn) treats "imagenet" as "none": random init is its definition.
    """
    spec = get_spec(name)
    if weights is None or str(weights).lower() == "none":
        return None
    if str(weights).lower() == "imagenet":
        if not spec.pretrained:
            return None
        fname, url, file_hash = _imagenet_file(name, image_size or spec.default_image_size)
        try:
            return _download(fname, url, file_hash)
        except Exception as exc:  # URL errors, DNS failures, hash mismatch, disk full...
            raise WeightsUnavailableError(
                f"Could not download the ImageNet weights for {name} ({fname}): {exc}. "
                f"This needs an internet connection once. {_WEIGHTS_HELP}") from exc
    path = Path(weights).expanduser()
    if not path.exists():
        raise WeightsUnavailableError(f"{path}: weights file not found. {_WEIGHTS_HELP}")
    if not path.is_file() or not os.access(path, os.R_OK):
        raise WeightsUnavailableError(f"{path}: not a readable file (check its permissions). {_WEIGHTS_HELP}")
    return str(path.resolve())


_hash_cache: dict[tuple[str, int, int], str] = {}


def weights_identity(weights: str | None) -> str:
    """A short string that changes when the weights change: "none", "imagenet" or "file:<sha256 prefix>"."""
    if weights is None or str(weights).lower() == "none":
        return "none"
    if str(weights).lower() == "imagenet":
        return "imagenet"
    path = Path(weights)
    st = path.stat()
    key = (str(path.resolve()), st.st_size, st.st_mtime_ns)
    if key not in _hash_cache:
        _hash_cache[key] = "file:" + file_sha256(path)[:16]
    return _hash_cache[key]


# ---------------------------------------------------------------------------------------------- models

def _application(spec: BackboneSpec, image_size: tuple[int, int], weights_path: str | None):
    import keras  # noqa: PLC0415 - loads TensorFlow/Keras (3 s): only when this runs

    width, height = image_size
    app = getattr(keras.applications, spec.keras_app)
    kwargs = dict(weights=None, include_top=False, input_shape=(height, width, 3))
    model = app(**kwargs)
    if weights_path is not None:
        try:
            # The weight files are for the FULL notop application: load them, then cut the network.
            with warnings.catch_warnings():
                # Keras 3.15 notes layer-less containers it skips; harmless, and confusing in a user's terminal
                warnings.filterwarnings("ignore", message="Skipping nested container")
                model.load_weights(weights_path)
        except Exception as exc:
            raise WeightsUnavailableError(
                f"{weights_path}: cannot load these weights into {spec.name} without its top ({exc}). "
                f"{_WEIGHTS_HELP}") from exc
    return model


def build_small_cnn_trunk(image_size: tuple[int, int], seed: int | None = None):
    """Conv trunk of small_cnn, about 220k weights: a strided stem (halves the image at once: most of a
    CNN's cost is in its first, full-size layer), three conv-BN-ReLU-pool blocks widening 48->160 channels,
    and a 1x1 mix to 192 channels. Square kernels and pools treat time and frequency alike."""
    import keras  # noqa: PLC0415 - loads TensorFlow/Keras (3 s): only when this runs
    from keras import layers  # noqa: PLC0415 - loads TensorFlow/Keras (3 s): only when this runs

    width, height = image_size
    init = keras.initializers.HeNormal(seed=seed)

    def conv_bn_relu(x, channels, kernel, name, strides=1):
        x = layers.Conv2D(channels, kernel, strides=strides, padding="same", use_bias=False,
                          kernel_initializer=init, name=f"{name}_conv")(x)
        # momentum 0.9: the running statistics settle within a few epochs of a small dataset
        x = layers.BatchNormalization(momentum=0.9, name=f"{name}_bn")(x)
        return layers.Activation("relu", name=f"{name}_relu" if name != "trunk" else "trunk_out")(x)

    inputs = keras.Input((height, width, 3), name="trunk_in")
    x = conv_bn_relu(inputs, 24, 3, "stem", strides=2)
    for i, channels in enumerate((48, 96, 160)):
        x = conv_bn_relu(x, channels, 3, f"block{i + 1}")
        x = layers.MaxPooling2D(2, name=f"block{i + 1}_pool")(x)
    x = conv_bn_relu(x, 192, 1, "trunk")
    return keras.Model(inputs, x, name="small_cnn_trunk")


def build_feature_extractor(name: str, weights: str | None = "imagenet",
                            image_size: int | Sequence[int] | None = None,
                            feature_layer: str | Sequence[str] | None = None,
                            seed: int | None = None):
    """Images 0..255 (N, H, W, 3) -> pooled features (N, D), with pixel scaling inside the model.

    ``weights`` is "imagenet", "none" or a path (see ``resolve_weights``). ``feature_layer`` overrides the
    backbone's default layer(s); "a+b" or a sequence pools several layers and concatenates them.
    """
    import keras  # noqa: PLC0415 - loads TensorFlow/Keras (3 s): only when this runs
    from keras import layers  # noqa: PLC0415 - loads TensorFlow/Keras (3 s): only when this runs

    spec = get_spec(name)
    size = resolve_image_size(name, image_size)
    layer_names = resolve_feature_layers(name, feature_layer)
    weights_path = resolve_weights(name, weights, size)

    if spec.keras_app is None:
        full = build_small_cnn_trunk(size, seed=seed)
        if weights_path is not None:
            full.load_weights(weights_path)
    else:
        full = _application(spec, size, weights_path)

    outputs = []
    for lname in layer_names:
        if lname == OUTPUT_LAYER:
            outputs.append(full.output)
            continue
        try:
            outputs.append(full.get_layer(lname).output)
        except ValueError:
            raise ValueError(f"{name} has no layer named {lname!r}") from None
    # Only the layers the chosen outputs depend on end up in the cut model.
    trunk = keras.Model(full.input, outputs if len(outputs) > 1 else outputs[0], name=f"{name}_trunk")

    width, height = size
    inputs = keras.Input((height, width, 3), name="image")
    x = inputs
    scale = PREPROCESSING_SCALES[spec.preprocessing]
    if scale is not None:
        x = layers.Rescaling(scale[0], offset=scale[1], name="pixel_scaling")(x)
    maps = trunk(x)
    if not isinstance(maps, (list, tuple)):
        maps = [maps]
    pooled = [layers.GlobalAveragePooling2D(name=f"pool_{i}")(m) for i, m in enumerate(maps)]
    features = pooled[0] if len(pooled) == 1 else layers.Concatenate(name="features")(pooled)
    return keras.Model(inputs, features, name=f"{name}_features")


def model_image_size(model) -> tuple[int, int]:
    """(width, height) a model's image input expects."""
    shape = model.input_shape
    if isinstance(shape, list):
        shape = shape[0]
    return int(shape[2]), int(shape[1])


def prepare_image(image, image_size: tuple[int, int]) -> np.ndarray:
    """An RGB uint8 (H, W, 3) array of exactly ``image_size`` (width, height) from a path or array.

    Resizes with bilinear filtering when the size differs (a spectrogram image made at another size);
    grey images get three channels and an alpha channel is dropped.
    """

    if isinstance(image, (str, os.PathLike)):
        try:
            with Image.open(image) as im:
                arr = np.asarray(im.convert("RGB"))
        except FileNotFoundError as exc:
            raise UnreadableFileError(image, "image file not found") from exc
        except OSError as exc:  # PIL's UnidentifiedImageError and truncated files are OSErrors too
            raise UnreadableFileError(image, f"cannot read this image ({exc})") from exc
    else:
        arr = np.asarray(image)
        if arr.ndim == 2:
            arr = np.repeat(arr[:, :, None], 3, axis=2)
        elif arr.shape[2] == 4:
            arr = arr[:, :, :3]
        elif arr.shape[2] == 1:
            arr = np.repeat(arr, 3, axis=2)
        if arr.dtype != np.uint8:
            arr = np.clip(np.rint(arr), 0, 255).astype(np.uint8)
    width, height = image_size
    if arr.shape[0] != height or arr.shape[1] != width:
        arr = np.asarray(Image.fromarray(arr).resize((width, height), Image.BILINEAR))
    return arr


# ---------------------------------------------------------------------------------------------- fast inference

_threads_configured = False


def configure_threads(n: int | None = None) -> None:
    """Let TensorFlow use all cores for one op and between ops. Must run before TF starts; later it is a no-op."""
    global _threads_configured
    if _threads_configured:
        return
    _threads_configured = True
    import tensorflow as tf  # noqa: PLC0415 - loads TensorFlow/Keras (3 s): only when this runs

    n = n or os.cpu_count() or 1
    try:
        tf.config.threading.set_intra_op_parallelism_threads(n)
        tf.config.threading.set_inter_op_parallelism_threads(min(n, 2))
    except RuntimeError:
        pass  # TF already initialised: it then uses its own defaults (all cores), which is fine


def _bucket_sizes(batch_size: int) -> list[int]:
    sizes, b = [], 1
    while b < batch_size:
        sizes.append(b)
        b *= 4
    sizes.append(batch_size)
    return sizes


def _iter_layers(model):
    for layer in model.layers:
        yield layer
        if hasattr(layer, "layers"):
            yield from _iter_layers(layer)


def xla_helps(model) -> bool:
    """Whether XLA compilation speeds this model up on CPU. Measured on 2 cores: InceptionV3 gains up to 2x;
    depthwise convolutions (MobileNet, EfficientNet) get 4-17x SLOWER under XLA; small nets pay more in
    overhead than they gain."""
    import keras  # noqa: PLC0415 - loads TensorFlow/Keras (3 s): only when this runs

    if any(isinstance(layer, keras.layers.DepthwiseConv2D) for layer in _iter_layers(model)):
        return False
    return model.count_params() > 1_000_000


def make_fast_predictor(model, batch_size: int = 32, jit_compile: bool | None = None,
                        engine: str | None = None) -> Callable[[np.ndarray], np.ndarray]:
    """A callable images (N, H, W, 3) -> model outputs (N, ...) as float32 numpy, faster than ``predict``;
    thread-safe. Its ``engine`` attribute says what runs the model:

    - "tflite" (the default): TensorFlow Lite's XNNPACK kernels (core/model/tflite_engine.py), a quarter less CPU
      than XLA for InceptionV3 and a third of tf.function's for MobileNetV2; a model it cannot run exactly
      falls back to TensorFlow.
    - "xla" / "tf": the model in inference mode under ``tf.function``, compiled with XLA where that helps
      (``jit_compile=None`` decides by ``xla_helps``). Batches are padded to a few fixed sizes (1, 4, 16, ...,
      batch_size) so XLA compiles each shape once; the first call of a size pays compilation.

    ``engine="tf"`` or a ``jit_compile`` of its own asks for TensorFlow; without either, ``AUDIONET_INFERENCE``
    (tflite or tf) decides.
    """
    configure_threads()
    if engine is None:
        engine = "tf" if jit_compile is not None else default_engine()
    if engine not in ENGINES:
        raise ValueError(f"inference engine must be one of {ENGINES}, got {engine!r}")
    if engine == "tflite":
        fast = tflite_predictor(model, os.cpu_count() or 1)
        if fast is not None:
            return fast
    import tensorflow as tf  # noqa: PLC0415 - loads TensorFlow/Keras (3 s): only when this runs

    buckets = _bucket_sizes(batch_size)
    if jit_compile is None:
        jit_compile = xla_helps(model)
    call = tf.function(lambda x: model(x, training=False), jit_compile=jit_compile, reduce_retracing=False)
    lock = threading.Lock()

    def run_chunk(chunk: np.ndarray) -> np.ndarray:
        n = chunk.shape[0]
        size = next(b for b in buckets if b >= n)
        if size != n:
            pad = np.zeros((size - n,) + chunk.shape[1:], dtype=chunk.dtype)
            chunk = np.concatenate([chunk, pad])
        with lock:  # one compiled call at a time; each already uses every core
            out = call(tf.convert_to_tensor(chunk, dtype=tf.float32))
        if isinstance(out, (list, tuple)):
            out = out[0]
        return np.asarray(out, dtype=np.float32)[:n]

    def predict(images: np.ndarray) -> np.ndarray:
        images = np.asarray(images)
        if images.ndim == 3:
            images = images[None]
        outs = [run_chunk(images[i:i + batch_size]) for i in range(0, images.shape[0], batch_size)]
        if not outs:
            return np.zeros((0,) + tuple(int(d) for d in model.output_shape[1:]), np.float32)
        return np.concatenate(outs)

    predict.engine = "xla" if jit_compile else "tf"
    return predict


# One fast predictor per network object: feature extraction and the model's two-part path (openset.head_parts)
# share it, so a training run converts its backbone once, not once per stage. Whoever changes a network's weights
# in place (fine-tuning, end-to-end training) forgets it. It is kept on the network itself, not in a weak-keyed
# table: a TensorFlow predictor holds its network, so such a table would keep every network alive for good.
_FAST_ATTR = "_audionet_fast_predictor"


def fast_predictor(model, batch_size: int = 32) -> Callable[[np.ndarray], np.ndarray]:
    """``make_fast_predictor(model, batch_size)``, made once per network (and inference engine); a plain callable
    (no Keras model) is returned as it is."""
    if not hasattr(model, "input_shape"):
        return model
    key = (batch_size, default_engine())
    cached = getattr(model, _FAST_ATTR, None)
    if cached is None or cached[0] != key:
        cached = (key, make_fast_predictor(model, batch_size))
        object.__setattr__(model, _FAST_ATTR, cached)  # past Keras's attribute tracking: not part of the model
    return cached[1]


def forget_fast_predictor(model) -> None:
    """The network's weights changed: the next ``fast_predictor`` makes a new one."""
    if getattr(model, _FAST_ATTR, None) is not None:
        object.__setattr__(model, _FAST_ATTR, None)
