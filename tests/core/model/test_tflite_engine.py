"""The default inference engine (TFLite with XNNPACK) answers as the model itself does, and steps aside when it
cannot."""

import os
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from audionet_gui.core.model import tflite_engine
from audionet_gui.core.model.backbones import make_fast_predictor
from audionet_gui.core.model.bundle import load_bundle
from audionet_gui.core.model.predict import get_predictor, predict_images
from tests.tiny_models import HEIGHT, WIDTH, tiny_classifier, write_bundle

ROOT = Path(__file__).resolve().parents[3]


def images(n, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (n, HEIGHT, WIDTH, 3)).astype(np.uint8)


def test_compiled_predictor_gives_the_plain_models_probabilities(tmp_path, monkeypatch):
    monkeypatch.delenv(tflite_engine.ENGINE_ENV, raising=False)
    bundle = load_bundle(write_bundle(tmp_path / "m"))
    x = images(7)
    plain = bundle.model.predict(x.astype(np.float32), verbose=0)
    assert get_predictor(bundle).engine == "tflite"  # the shared path of predict, evaluate and live
    np.testing.assert_allclose(predict_images(bundle, x), plain, atol=1e-4)
    np.testing.assert_allclose(predict_images(bundle, x[3]), plain[3:4], atol=1e-4)  # one (H, W, 3) image
    assert predict_images(bundle, x[:0]).shape == (0, 3)


def test_the_engine_can_be_chosen_and_gives_the_same_answers(monkeypatch):
    model = tiny_classifier(seed=3)
    x = images(5, seed=1)
    lite = make_fast_predictor(model)
    monkeypatch.setenv(tflite_engine.ENGINE_ENV, "tf")
    tf_path = make_fast_predictor(model)
    assert (lite.engine, tf_path.engine) == ("tflite", "tf")  # a small model: no XLA (xla_helps)
    assert make_fast_predictor(model, engine="tflite").engine == "tflite"  # an explicit choice beats the variable
    np.testing.assert_allclose(lite(x), tf_path(x), atol=1e-4)
    with pytest.raises(ValueError, match="engine"):
        make_fast_predictor(model, engine="onnx")


def test_a_model_tflite_cannot_take_runs_in_tensorflow():
    import keras  # noqa: PLC0415 - loads TensorFlow/Keras (3 s): only when this runs

    inputs = keras.Input((HEIGHT, WIDTH, 3))
    pooled = keras.layers.GlobalAveragePooling2D()(inputs)
    two_outputs = keras.Model(inputs, [keras.layers.Dense(2)(pooled), keras.layers.Dense(3)(pooled)])
    assert tflite_engine.tflite_predictor(two_outputs) is None
    fast = make_fast_predictor(two_outputs, engine="tflite")
    assert fast.engine == "tf"
    x = images(2)
    np.testing.assert_allclose(fast(x), two_outputs.predict(x.astype(np.float32), verbose=0)[0], atol=1e-5)


def test_a_copy_that_disagrees_with_the_model_is_not_used(monkeypatch):
    monkeypatch.setattr(tflite_engine, "PROBE_TOLERANCE", -1.0)  # any difference, even none, counts as wrong
    model = tiny_classifier(seed=4)
    assert tflite_engine.tflite_predictor(model) is None
    assert make_fast_predictor(model, engine="tflite").engine == "tf"


def test_concurrent_callers_get_their_own_answers():
    model = tiny_classifier(seed=5)
    fast = make_fast_predictor(model, engine="tflite")
    batches = [images(6, seed=s) for s in range(4)]
    expected = [fast(b) for b in batches]
    results = [None] * len(batches)

    def run(i):
        for _ in range(5):
            results[i] = fast(batches[i])

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(batches))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for got, want in zip(results, expected):
        np.testing.assert_array_equal(got, want)


def test_the_engine_writes_nothing_to_stderr():
    """TFLite's own 'Created ... XNNPACK delegate' line and the deprecation notices stay out of the CLI's output."""
    code = ("import numpy as np; from tests.tiny_models import tiny_classifier; "
            "from audionet_gui.core.model.backbones import make_fast_predictor; "
            "f = make_fast_predictor(tiny_classifier()); f(np.zeros((1, 32, 40, 3), np.uint8)); print(f.engine)")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "2"})
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "tflite"
    assert done.stderr == ""


def test_a_process_can_keep_tensorflow_unless_the_variable_says_otherwise(monkeypatch):
    """The GUI process keeps TensorFlow (the converter would hold the GIL while a window waits)."""
    monkeypatch.delenv(tflite_engine.ENGINE_ENV, raising=False)
    monkeypatch.setattr(tflite_engine, "_process_engine", None)
    model = tiny_classifier(seed=6)
    tflite_engine.prefer_engine("tf")
    assert make_fast_predictor(model).engine == "tf"
    monkeypatch.setenv(tflite_engine.ENGINE_ENV, "tflite")
    assert make_fast_predictor(model).engine == "tflite"
    monkeypatch.delenv(tflite_engine.ENGINE_ENV)
    tflite_engine.prefer_engine(None)
    assert make_fast_predictor(model).engine == "tflite"
    with pytest.raises(ValueError, match="engine"):
        tflite_engine.prefer_engine("onnx")
