"""Backbone registry, weights resolution (never silently random), cut feature extractors, fast predictor."""

from __future__ import annotations

import gc
import weakref

import numpy as np
import pytest
from PIL import Image

from audionet_gui.core.base.errors import WeightsUnavailableError
from audionet_gui.core.model import backbones
from audionet_gui.core.model.backbones import (
    BACKBONES,
    build_feature_extractor,
    make_fast_predictor,
    prepare_image,
    resolve_feature_layers,
    resolve_image_size,
    resolve_weights,
)


def _says_what_to_do(message: str) -> None:
    assert "--weights PATH" in message
    assert "small_cnn" in message
    assert "--weights none" in message


def test_registry_has_the_promised_backbones():
    assert {"inception_v3", "mobilenet_v2", "mobilenet_v3_small", "efficientnet_b0", "small_cnn"} <= set(BACKBONES)
    assert BACKBONES["inception_v3"].default_image_size == (299, 299)
    assert not BACKBONES["small_cnn"].pretrained
    for spec in BACKBONES.values():
        assert spec.preprocessing in backbones.PREPROCESSING_SCALES
        assert spec.feature_layers


def test_image_size_and_layers_are_checked():
    assert resolve_image_size("inception_v3") == (299, 299)
    assert resolve_image_size("inception_v3", 96) == (96, 96)
    with pytest.raises(ValueError, match="at least 75"):
        resolve_image_size("inception_v3", (64, 64))
    assert resolve_feature_layers("inception_v3", "mixed5+mixed7") == ("mixed5", "mixed7")
    with pytest.raises(ValueError, match="unknown backbone"):
        resolve_image_size("resnet9000")


def test_missing_weights_file_is_a_clear_error(tmp_path):
    with pytest.raises(WeightsUnavailableError) as err:
        resolve_weights("inception_v3", str(tmp_path / "nope.weights.h5"))
    assert "nope.weights.h5" in str(err.value) and "not found" in str(err.value)
    _says_what_to_do(str(err.value))
    with pytest.raises(WeightsUnavailableError, match="not a readable file"):
        resolve_weights("inception_v3", str(tmp_path))  # a folder


def test_explicit_file_wins_and_none_is_random(tmp_path):
    f = tmp_path / "w.weights.h5"
    f.write_bytes(b"x")
    assert resolve_weights("inception_v3", str(f)) == str(f.resolve())
    assert resolve_weights("inception_v3", "none") is None
    assert resolve_weights("small_cnn", "imagenet") is None  # no pretrained weights exist: random is its design


def test_imagenet_offline_raises_with_advice(monkeypatch):
    calls = []

    def offline(fname, url, file_hash):
        calls.append(url)
        raise Exception(f"URL fetch failure on {url}: [Errno -2] Name or service not known")

    monkeypatch.setattr(backbones, "_download", offline)
    with pytest.raises(WeightsUnavailableError) as err:
        resolve_weights("inception_v3", "imagenet")
    assert calls and calls[0].endswith("inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5")
    assert "internet" in str(err.value)
    _says_what_to_do(str(err.value))
    with pytest.raises(WeightsUnavailableError):
        build_feature_extractor("mobilenet_v2", "imagenet", 64)  # never a silent random fallback


def test_imagenet_uses_keras_download_cache(monkeypatch, tmp_path):
    seen = {}

    def fake_get_file(fname, url, cache_subdir, file_hash):
        seen.update(fname=fname, url=url, cache_subdir=cache_subdir, file_hash=file_hash)
        return str(tmp_path / fname)

    import keras  # noqa: PLC0415 - loads TensorFlow/Keras (3 s): only when this runs
    monkeypatch.setattr(keras.utils, "get_file", fake_get_file)
    path = resolve_weights("efficientnet_b0", "imagenet")
    assert path.endswith("efficientnetb0_notop.h5")
    assert seen["cache_subdir"] == "models" and seen["file_hash"]


def test_small_cnn_extractor_is_compact_and_pools():
    model = build_feature_extractor("small_cnn", "none", (64, 48))
    assert model.input_shape == (None, 48, 64, 3)
    assert 100_000 <= model.count_params() <= 300_000
    feats = model.predict(np.zeros((2, 48, 64, 3), np.uint8), verbose=0)
    assert feats.shape == (2, model.output_shape[-1])


def test_inception_is_cut_at_the_feature_layer_and_concatenates():
    one = build_feature_extractor("inception_v3", "none", 75, "mixed2")
    assert one.output_shape == (None, 288)
    trunk = one.get_layer("inception_v3_trunk")
    names = {layer.name for layer in trunk.layers}
    assert "mixed2" in names and "mixed3" not in names and "mixed10" not in names
    two = build_feature_extractor("inception_v3", "none", 75, "mixed1+mixed2")
    assert two.output_shape == (None, 288 + 288)
    assert any(layer.__class__.__name__ == "Rescaling" for layer in one.layers)
    assert not any(layer.__class__.__name__ == "Lambda" for layer in one.layers)
    with pytest.raises(ValueError, match="no layer named"):
        build_feature_extractor("inception_v3", "none", 75, "mixed99")


def test_weights_file_loads_into_full_model_then_cut(tmp_path):
    """Stand-in weight files are for the full notop application: loaded there, they give the cut model's values."""
    import keras  # noqa: PLC0415 - loads TensorFlow/Keras (3 s): only when this runs

    keras.utils.set_random_seed(3)
    full = keras.applications.MobileNetV2(weights=None, include_top=False, input_shape=(64, 64, 3))
    path = tmp_path / "mnv2_notop.weights.h5"
    full.save_weights(path)
    cut = build_feature_extractor("mobilenet_v2", str(path), 64, "block_3_expand_relu")
    x = np.random.default_rng(0).integers(0, 256, (3, 64, 64, 3)).astype(np.float32)
    ref_model = keras.Model(full.input, full.get_layer("block_3_expand_relu").output)
    expected = ref_model.predict(x / 127.5 - 1.0, verbose=0).mean(axis=(1, 2))
    np.testing.assert_allclose(cut.predict(x, verbose=0), expected, rtol=1e-4, atol=1e-4)
    with pytest.raises(WeightsUnavailableError, match="cannot load"):
        build_feature_extractor("inception_v3", str(path), 75)  # weights of another network


def test_extractor_saves_and_loads_in_safe_mode(tmp_path):
    import keras  # noqa: PLC0415 - loads TensorFlow/Keras (3 s): only when this runs

    model = build_feature_extractor("inception_v3", "none", 75, "mixed0+mixed1")
    path = tmp_path / "extractor.keras"
    model.save(path)
    loaded = keras.models.load_model(path, safe_mode=True)
    x = np.random.default_rng(1).integers(0, 256, (2, 75, 75, 3)).astype(np.uint8)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-5, atol=1e-5)


def test_fast_predictor_matches_predict_for_any_batch_size():
    model = build_feature_extractor("small_cnn", "none", 32, seed=1)
    x = np.random.default_rng(2).integers(0, 256, (21, 32, 32, 3)).astype(np.uint8)
    expected = model.predict(x.astype(np.float32), verbose=0)
    for jit in (False, True):
        fast = make_fast_predictor(model, batch_size=8, jit_compile=jit)
        np.testing.assert_allclose(fast(x), expected, rtol=1e-4, atol=1e-4)
        np.testing.assert_allclose(fast(x[0]), expected[:1], rtol=1e-4, atol=1e-4)  # a single (H, W, 3) image
        assert fast(x[:0]).shape == (0, expected.shape[1])


def test_one_fast_predictor_per_network_until_its_weights_change():
    model = build_feature_extractor("small_cnn", "none", 32, seed=1)
    x = np.random.default_rng(2).integers(0, 256, (3, 32, 32, 3)).astype(np.uint8)
    first = backbones.fast_predictor(model)
    assert backbones.fast_predictor(model) is first  # feature extraction and the model's two parts share it
    before = first(x)
    model.set_weights([w * 0.5 for w in model.get_weights()])
    backbones.forget_fast_predictor(model)
    again = backbones.fast_predictor(model)
    assert again is not first
    expected = model.predict(x.astype(np.float32), verbose=0)
    np.testing.assert_allclose(again(x), expected, rtol=1e-4, atol=1e-4)
    assert not np.allclose(before, expected, atol=1e-4)  # the first one had the old weights frozen in


@pytest.mark.parametrize("engine", ["tf", "tflite"])
def test_a_network_with_a_fast_predictor_can_still_be_freed(monkeypatch, engine):
    # a TensorFlow predictor holds its network: kept in a table beside it, the network would live for good
    monkeypatch.setenv("AUDIONET_INFERENCE", engine)
    model = build_feature_extractor("small_cnn", "none", 32, seed=1)
    backbones.fast_predictor(model)(np.zeros((1, 32, 32, 3), np.uint8))
    alive = weakref.ref(model)
    del model
    gc.collect()
    assert alive() is None


def test_xla_is_only_used_where_it_helps():
    assert not backbones.xla_helps(build_feature_extractor("mobilenet_v2", "none", 32))  # depthwise: slower
    assert not backbones.xla_helps(build_feature_extractor("small_cnn", "none", 32))  # too small to gain
    assert backbones.xla_helps(build_feature_extractor("inception_v3", "none", 75, "mixed3"))


def test_prepare_image_gives_rgb_uint8_of_the_input_size(tmp_path):
    grey = np.tile(np.arange(40, dtype=np.uint8), (30, 1))
    p = tmp_path / "g.png"
    Image.fromarray(grey).save(p)
    out = prepare_image(p, (20, 15))
    assert out.shape == (15, 20, 3) and out.dtype == np.uint8
    rgba = np.zeros((15, 20, 4), np.uint8)
    assert prepare_image(rgba, (20, 15)).shape == (15, 20, 3)
    same = np.random.default_rng(0).integers(0, 256, (15, 20, 3)).astype(np.uint8)
    assert prepare_image(same, (20, 15)) is not None
    np.testing.assert_array_equal(prepare_image(same, (20, 15)), same)
