import json
import shutil

import numpy as np
import pytest

from audionet_gui.core.base.errors import BundleError
from audionet_gui.core.base.jobs import Cancelled, CancelToken
from audionet_gui.core.model.bundle import (
    CONFIG_FILE,
    FORMAT_VERSION,
    LABELS_FILE,
    METRICS_FILE,
    MODEL_FILE,
    REQUIRED_FILES,
    VERSION_FILE,
    export_tflite,
    load_bundle,
    make_config,
    save_bundle,
)
from audionet_gui.core.settings import ImageSettings
from tests.tiny_models import HEIGHT, WIDTH, small_spec, tiny_classifier, write_bundle


@pytest.fixture(scope="module")
def good_bundle(tmp_path_factory):
    return write_bundle(tmp_path_factory.mktemp("b") / "model", threshold=0.42)


@pytest.fixture
def bundle_copy(good_bundle, tmp_path):
    dst = tmp_path / "copy"
    shutil.copytree(good_bundle, dst)
    return dst


def _images(n=5, seed=1):
    return np.random.default_rng(seed).integers(0, 256, (n, HEIGHT, WIDTH, 3), dtype=np.uint8)


def test_round_trip_gives_identical_predictions(tmp_path):
    model = tiny_classifier(3)
    images = _images()
    before = model.predict(images, verbose=0)
    path = write_bundle(tmp_path / "m", model=model, threshold=0.42)
    assert sorted(p.name for p in path.iterdir()) == sorted(REQUIRED_FILES)
    bundle = load_bundle(path)
    np.testing.assert_array_equal(bundle.model.predict(images, verbose=0), before)
    assert bundle.labels == ["a", "b", "c"]
    assert bundle.unknown_threshold == pytest.approx(0.42)
    assert bundle.image_size == (WIDTH, HEIGHT)
    assert bundle.spectrogram_config == small_spec()
    assert bundle.window_config.window_s == 2.0
    assert bundle.metrics == {"test": {"accuracy": 1.0}}
    assert (path / VERSION_FILE).read_text().strip() == str(FORMAT_VERSION)


def test_load_without_model_reads_only_json(good_bundle):
    bundle = load_bundle(good_bundle, load_model=False)
    assert bundle.model is None and bundle.labels == ["a", "b", "c"]


@pytest.mark.parametrize("name", REQUIRED_FILES)
def test_missing_file_is_refused_and_named(bundle_copy, name):
    (bundle_copy / name).unlink()
    with pytest.raises(BundleError, match=name.replace(".", r"\.") + ": missing"):
        load_bundle(bundle_copy)


def test_not_a_folder_is_refused(tmp_path):
    with pytest.raises(BundleError, match="does not exist"):
        load_bundle(tmp_path / "nothing")
    (tmp_path / "file.keras").write_bytes(b"x")
    with pytest.raises(BundleError, match="not a model folder"):
        load_bundle(tmp_path / "file.keras")


@pytest.mark.parametrize("text,match", [("2", "newer"), ("0", "older"), ("one", "not a format version")])
def test_wrong_format_version_is_refused(bundle_copy, text, match):
    (bundle_copy / VERSION_FILE).write_text(text)
    with pytest.raises(BundleError, match=match):
        load_bundle(bundle_copy, load_model=False)


def test_label_count_must_match_model_outputs(bundle_copy):
    (bundle_copy / LABELS_FILE).write_text(json.dumps(["a", "b"]))
    with pytest.raises(BundleError, match=r"3 outputs.*2 classes"):
        load_bundle(bundle_copy)


@pytest.mark.parametrize("labels", [[], ["a", "a", "b"], ["a", "", "c"], {"a": 1}, "abc"])
def test_bad_labels_are_refused(bundle_copy, labels):
    (bundle_copy / LABELS_FILE).write_text(json.dumps(labels))
    with pytest.raises(BundleError, match=LABELS_FILE):
        load_bundle(bundle_copy, load_model=False)


def test_image_size_must_match_model_input(bundle_copy):
    config = json.loads((bundle_copy / CONFIG_FILE).read_text())
    config["settings"]["image_size"] = [WIDTH * 2, HEIGHT]
    (bundle_copy / CONFIG_FILE).write_text(json.dumps(config))
    with pytest.raises(BundleError, match=rf"model takes {WIDTH}x{HEIGHT} images"):
        load_bundle(bundle_copy)


def test_config_stores_the_settings_once(good_bundle):
    config = json.loads((good_bundle / CONFIG_FILE).read_text())
    assert not {"spectrogram", "window", "image_size"} & set(config)
    assert config["settings"]["image_size"] == [WIDTH, HEIGHT]
    assert not {"image_width", "image_height"} & set(config["settings"]["spectrogram"])
    assert "image_size" not in (config["train"] or {})
    bundle = load_bundle(good_bundle, load_model=False)
    assert bundle.settings == ImageSettings.from_parts(small_spec())
    assert bundle.spectrogram_config == small_spec() and bundle.image_size == (WIDTH, HEIGHT)


def test_an_old_bundle_with_spectrogram_window_and_image_size_still_loads(bundle_copy):
    config = json.loads((bundle_copy / CONFIG_FILE).read_text())
    settings = config.pop("settings")
    config["spectrogram"] = {**settings["spectrogram"], "image_width": WIDTH, "image_height": HEIGHT}
    config["window"] = {**settings["window"], "hop_s": 0.25}
    config["image_size"] = [WIDTH, HEIGHT]
    (bundle_copy / CONFIG_FILE).write_text(json.dumps(config))
    bundle = load_bundle(bundle_copy)  # the model check sees the old image size
    assert bundle.spectrogram_config == small_spec() and bundle.window_config.hop_s == 0.25
    assert bundle.image_size == (WIDTH, HEIGHT)
    config["image_size"] = [WIDTH * 2, HEIGHT]  # the model's input size is what counts
    (bundle_copy / CONFIG_FILE).write_text(json.dumps(config))
    with pytest.raises(BundleError, match=rf"model takes {WIDTH}x{HEIGHT} images"):
        load_bundle(bundle_copy)


@pytest.mark.parametrize("edit,match", [
    (lambda c: c.pop("backbone"), "missing settings"),
    (lambda c: c.pop("settings"), r"missing settings \['settings'\]"),
    (lambda c: c.update(unknown_threshold=3), "bad settings"),
    (lambda c: c["settings"]["spectrogram"].update(kind="wavelet"), "bad audio settings"),
    (lambda c: c["settings"]["window"].update(hop_s=-1), "bad audio settings"),
    (lambda c: c["settings"].update(image_size=[4, 4]), "bad audio settings"),
    (lambda c: c["settings"].update(image_size=None), "no image size"),
])
def test_bad_config_is_refused(bundle_copy, edit, match):
    config = json.loads((bundle_copy / CONFIG_FILE).read_text())
    edit(config)
    (bundle_copy / CONFIG_FILE).write_text(json.dumps(config))
    with pytest.raises(BundleError, match=match):
        load_bundle(bundle_copy, load_model=False)


def test_invalid_json_is_refused(bundle_copy):
    (bundle_copy / METRICS_FILE).write_text("{not json")
    with pytest.raises(BundleError, match=r"metrics\.json: not valid JSON"):
        load_bundle(bundle_copy, load_model=False)


def test_corrupt_model_file_is_refused(bundle_copy):
    data = (bundle_copy / MODEL_FILE).read_bytes()
    (bundle_copy / MODEL_FILE).write_bytes(data[: len(data) // 2])
    with pytest.raises(BundleError, match=r"model\.keras: the model cannot be loaded"):
        load_bundle(bundle_copy)


def test_model_with_code_is_refused_by_safe_mode(tmp_path):
    import keras  # noqa: PLC0415 - loads TensorFlow/Keras (3 s): only when this runs

    inputs = keras.Input((HEIGHT, WIDTH, 3))
    x = keras.layers.Lambda(lambda t: t / 255.0)(inputs)
    x = keras.layers.GlobalAveragePooling2D()(x)
    model = keras.Model(inputs, keras.layers.Dense(3, activation="softmax")(x))
    path = write_bundle(tmp_path / "evil", model=model)
    with pytest.raises(BundleError, match="safe mode"):
        load_bundle(path)


def test_cancel_during_save_leaves_no_bundle(tmp_path):
    token = CancelToken()
    seen = []

    def progress(p):
        seen.append(p.stage)
        token.cancel()  # cancel right after the model file is written

    model = tiny_classifier(3)
    config = make_config(settings=ImageSettings.from_parts(small_spec()), backbone="x", unknown_threshold=0.5)
    with pytest.raises(Cancelled):
        save_bundle(tmp_path / "m", model, ["a", "b", "c"], config, progress=progress, cancel=token)
    assert seen == ["saving"]
    assert list(tmp_path.iterdir()) == []


def test_cancelled_resave_keeps_the_previous_bundle(good_bundle, bundle_copy):
    token = CancelToken()
    token.cancel()
    bundle = load_bundle(bundle_copy)
    with pytest.raises(Cancelled):
        save_bundle(bundle_copy, bundle.model, bundle.labels, bundle.config, cancel=token)
    assert load_bundle(bundle_copy, load_model=False).config == bundle.config
    assert [p.name for p in bundle_copy.parent.iterdir()] == ["copy"]


def test_save_refuses_to_replace_a_folder_that_is_not_a_bundle(tmp_path):
    precious = tmp_path / "Documents"
    precious.mkdir()
    (precious / "thesis.txt").write_text("years of work")
    with pytest.raises(BundleError, match="not a model folder"):
        write_bundle(precious)
    assert (precious / "thesis.txt").read_text() == "years of work"


def test_save_refuses_label_count_mismatch(tmp_path):
    with pytest.raises(BundleError, match="3 outputs"):
        write_bundle(tmp_path / "m", model=tiny_classifier(3), labels=["a", "b"])


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore:.*tf.lite.Interpreter is deprecated:UserWarning")
def test_tflite_export_predicts_like_keras(good_bundle, tmp_path):
    import tensorflow as tf  # noqa: PLC0415 - loads TensorFlow/Keras (3 s): only when this runs

    bundle = load_bundle(good_bundle)
    out = export_tflite(bundle, tmp_path / "model.tflite")
    assert [p.name for p in tmp_path.iterdir()] == ["model.tflite"]
    interpreter = tf.lite.Interpreter(model_path=str(out))
    images = _images(1, seed=3)
    inp = interpreter.get_input_details()[0]
    interpreter.resize_tensor_input(inp["index"], images.shape)
    interpreter.allocate_tensors()
    interpreter.set_tensor(inp["index"], images.astype(inp["dtype"]))
    interpreter.invoke()
    got = interpreter.get_tensor(interpreter.get_output_details()[0]["index"])
    np.testing.assert_allclose(got, bundle.model.predict(images, verbose=0), atol=1e-5)


def test_metrics_with_nan_and_numpy_values_are_written_as_strict_json(tmp_path):
    metrics = {"history": [{"val_loss": float("nan"), "loss": np.float32(0.5)}], "rates": np.array([0.25, np.inf])}
    path = write_bundle(tmp_path / "m", metrics=metrics)
    text = (path / METRICS_FILE).read_text()
    assert json.loads(text, parse_constant=lambda c: pytest.fail(f"{c} in metrics.json")) == {
        "history": [{"val_loss": None, "loss": 0.5}], "rates": [0.25, None]}
