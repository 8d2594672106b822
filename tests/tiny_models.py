"""Tiny Keras classifiers and bundles for tests of evaluation, bundles, prediction and the CLI (no training)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from audionet_gui.core.audio.spectrogram import SpectrogramConfig
from audionet_gui.core.audio.windows import WindowConfig
from audionet_gui.core.model.bundle import make_config, save_bundle
from audionet_gui.core.settings import ImageSettings

WIDTH, HEIGHT = 40, 32


def tiny_classifier(n_classes: int = 3, width: int = WIDTH, height: int = HEIGHT, seed: int = 0):
    """uint8 RGB (N, H, W, 3) -> softmax (N, C), the shape contract of a trained model, in a few weights."""
    import keras  # noqa: PLC0415 - loads TensorFlow/Keras (3 s): only when this runs

    keras.utils.set_random_seed(seed)
    inputs = keras.Input((height, width, 3), name="image")
    x = keras.layers.Rescaling(1 / 127.5, offset=-1.0)(inputs)
    x = keras.layers.Conv2D(4, 3, activation="relu")(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    outputs = keras.layers.Dense(n_classes, activation="softmax")(x)
    return keras.Model(inputs, outputs)


def pitch_classifier(labels_hz: dict, spec: SpectrogramConfig):
    """A hand-built 'trained' model for mel images: class i fires on the image rows where its tone lies.

    Each class's score is the mean brightness of a band of image rows around its tone's mel bin, so a file of
    pure tones is classified by pitch without any training.
    """
    import keras  # noqa: PLC0415 - loads TensorFlow/Keras (3 s): only when this runs
    import librosa  # noqa: PLC0415 - the reference implementation, slow to import (1.3 s)

    width, height = spec.image_width, spec.image_height
    top = spec.top_hz
    mel_lo, mel_hi = librosa.hz_to_mel(spec.fmin), librosa.hz_to_mel(top)
    kernel = np.zeros((height, 1, 3, len(labels_hz)), np.float32)
    for i, hz in enumerate(labels_hz.values()):
        frac = (librosa.hz_to_mel(hz) - mel_lo) / (mel_hi - mel_lo)
        row = int(round((1 - frac) * (height - 1)))  # low frequencies at the bottom of the image
        lo, hi = max(row - 1, 0), min(row + 2, height)
        kernel[lo:hi, 0, :, i] = 1.0 / ((hi - lo) * 3)
    inputs = keras.Input((height, width, 3), name="image")
    x = keras.layers.Rescaling(1 / 255.0)(inputs)
    x = keras.layers.Conv2D(len(labels_hz), (height, 1), use_bias=False, name="bands")(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    x = keras.layers.Rescaling(40.0)(x)  # sharpen: mean brightness differences are small
    outputs = keras.layers.Softmax()(x)
    model = keras.Model(inputs, outputs)
    model.get_layer("bands").set_weights([kernel])
    return model


def small_spec(width: int = WIDTH, height: int = HEIGHT) -> SpectrogramConfig:
    # plain dB images: the hand-built classifiers read a steady tone's brightness, which PCEN would fade
    return SpectrogramConfig(n_mels=64, image_width=width, image_height=height, frontend="none")


def write_bundle(path: Path, model=None, labels=("a", "b", "c"), spec: SpectrogramConfig | None = None,
                 window: WindowConfig | None = None, threshold: float = 0.5, metrics: dict | None = None) -> Path:
    spec = spec or small_spec()
    model = model if model is not None else tiny_classifier(len(labels), spec.image_width, spec.image_height)
    config = make_config(settings=ImageSettings.from_parts(spec, window, spec.image_size), backbone="small_cnn",
                         unknown_threshold=threshold, weights="none", preprocessing="minus1_1")
    return save_bundle(path, model, list(labels), config, metrics or {"test": {"accuracy": 1.0}})


def constant_classifier(probabilities, width: int = WIDTH, height: int = HEIGHT):
    """A model that answers the same probabilities for every image (zero kernel, log-probability bias)."""
    import keras  # noqa: PLC0415 - loads TensorFlow/Keras (3 s): only when this runs

    probabilities = np.asarray(probabilities, np.float32)
    inputs = keras.Input((height, width, 3), name="image")
    x = keras.layers.GlobalAveragePooling2D()(keras.layers.Rescaling(1 / 255.0)(inputs))
    dense = keras.layers.Dense(len(probabilities), activation="softmax", name="constant")
    model = keras.Model(inputs, dense(x))
    dense.set_weights([np.zeros((3, len(probabilities)), np.float32), np.log(probabilities)])
    return model


def voice_bundle(path: Path, voices: dict, enrolled: list[str], threshold: float = 0.75,
                 window: WindowConfig | None = None) -> Path:
    """A bundle shaped like a trained one (backbone model -> head model with a "classes" softmax) where each
    "voice" is a tone: the backbone's features are the brightness of each voice's mel band (one feature per voice
    in ``voices``, {name: hz}), and the head names the ``enrolled`` ones from their bands. A tone of any other
    voice leaves the enrolled bands dark: the probabilities are even (unknown), its features tell it apart."""
    import keras  # noqa: PLC0415 - loads TensorFlow/Keras (3 s): only when this runs

    spec = small_spec()
    bands = pitch_classifier(voices, spec)
    extractor = keras.Model(bands.input, bands.layers[-2].output, name="backbone")
    features = keras.Input((len(voices),), name="features_in")
    norm = keras.layers.Normalization(name="feature_norm")  # as a trained head: standardised features
    norm.adapt(np.array([[14.0] * len(voices), [18.0] * len(voices)], np.float32))  # mean 16, sd 2
    dense = keras.layers.Dense(len(enrolled), activation="softmax", name="classes")
    head = keras.Model(features, dense(norm(features)), name="head")
    names = list(voices)
    w = np.zeros((len(voices), len(enrolled)), np.float32)
    for j, name in enumerate(enrolled):
        w[names.index(name), j] = 2.0
    dense.set_weights([w, np.zeros(len(enrolled), np.float32)])
    image = keras.Input(extractor.input_shape[1:], name="image")
    model = keras.Model(image, head(extractor(image)), name="voices")
    return write_bundle(path, model=model, labels=enrolled, spec=spec,
                        window=window or WindowConfig(window_s=1.0, hop_s=0.5), threshold=threshold)


def voice_bundle_with_workspace(root: Path, voices: dict, enrolled: list[str], files: int = 4,
                                seconds: float = 2.0, seed: int = 0) -> Path:
    """``voice_bundle`` as ``train`` leaves it: a workspace of its training windows (manifest + images; ``files``
    tone recordings per enrolled voice: the last for testing, the one before for validation) named in
    metrics.json, and a head on a frozen backbone in config.json, so a speaker can be enrolled into it."""
    from audionet_gui.core.audio.spectrogram import save_png, spectrogram_image  # noqa: PLC0415 - test helper
    from audionet_gui.core.audio.windows import cut_windows  # noqa: PLC0415 - test helper
    from audionet_gui.core.data.convert.manifest import ManifestRow, write_manifest  # noqa: PLC0415 - test helper
    from audionet_gui.core.model.bundle import CONFIG_FILE, METRICS_FILE  # noqa: PLC0415 - test helper
    from tests.tone_dataset import SR, tone_clip  # noqa: PLC0415 - test helper

    root = Path(root)
    window = WindowConfig(window_s=1.0, hop_s=0.5)
    spec = small_spec()
    rng = np.random.default_rng(seed)
    rows = []
    for name in enrolled:
        for f in range(files):
            split = "test" if f == files - 1 else "val" if f == files - 2 else "train"
            clip = tone_clip(voices[name], seconds, rng, SR)
            for k, w in enumerate(cut_windows(clip, SR, window)):
                image = f"{name}/{name}_{f}_{k}.png"
                save_png(spectrogram_image(w.samples, spec), root / "ws" / image)
                rows.append(ManifestRow(image, name, split, f"{name}_{f}.wav", w.start_s, w.end_s))
    write_manifest(root / "ws", rows)
    model_dir = voice_bundle(root / "model", voices, enrolled, window=window)
    config = json.loads((model_dir / CONFIG_FILE).read_text())
    config["backbone"]["name"] = "mobilenet_v2"
    config["train"] = {"backbone": "mobilenet_v2", "weights": "none", "image_size": list(spec.image_size),
                       "epochs": 200, "learning_rate": 0.05, "dropout": 0.0, "patience": 20}  # few vectors: big steps
    (model_dir / CONFIG_FILE).write_text(json.dumps(config))
    metrics = {"test": {"accuracy": 1.0}, "data": {"workspace": str(root / "ws")}}
    (model_dir / METRICS_FILE).write_text(json.dumps(metrics))
    return model_dir
