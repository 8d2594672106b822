"""Saliency: a model that tells two tones apart looks at the tone's frequency, at the time it sounds; the
deletion test ranks a faithful map above a random one."""

from __future__ import annotations

import numpy as np
import pytest

from audionet_gui.core.audio.windows import WindowConfig
from audionet_gui.core.model.backbones import build_feature_extractor
from audionet_gui.core.model.bundle import load_bundle
from audionet_gui.core.model.explain import (
    DEFAULT_METHOD,
    deletion_score,
    explain_file,
    faithfulness,
    save_overlay_png,
    silence_colour,
)
from audionet_gui.core.model.predict import predict_images
from tests.audio_factory import SR, noise, tone, write
from tests.tiny_models import pitch_classifier, small_spec, write_bundle

TONES = {"low": 300.0, "high": 2000.0}


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    spec = small_spec(64, 48)
    path = write_bundle(tmp_path_factory.mktemp("explain") / "tones", model=pitch_classifier(TONES, spec),
                        labels=list(TONES), spec=spec, window=WindowConfig(window_s=1.0, hop_s=1.0))
    return load_bundle(path)


def two_part_file(tmp_path, first_hz, second_hz):
    """One second of quiet then one second of a tone per window: 0-0.5 s quiet, 0.5-1.0 s ``first_hz``,
    1.0-1.5 s quiet, 1.5-2.0 s ``second_hz``."""
    quiet = noise(0.5, amp=0.002)
    parts = [quiet, tone(first_hz, 0.5, amp=0.4), quiet, tone(second_hz, 0.5, amp=0.4)]
    return write(tmp_path / "two_tones.wav", np.concatenate(parts) + noise(2.0, amp=0.002, seed=1))


@pytest.mark.parametrize("window_index, label, hz, t0", [(0, "high", 2000.0, 0.5), (1, "low", 300.0, 1.5)])
def test_saliency_peaks_at_the_tone_and_its_time(bundle, tmp_path, window_index, label, hz, t0):
    path = two_part_file(tmp_path, 2000.0, 300.0)
    e = explain_file(bundle, path, window_index=window_index)
    assert e.label == label and e.p > 0.9
    assert (e.start, e.end) == (pytest.approx(window_index * 1.0), pytest.approx(window_index + 1.0))
    values = np.asarray(e.values)
    assert values.shape == (len(e.freqs_hz), len(e.times_s))
    row, col = np.unravel_index(np.argmax(values), values.shape)
    assert abs(np.log2(e.freqs_hz[row] / hz)) < 0.5  # within half an octave of the tone
    assert t0 <= e.times_s[col] <= t0 + 0.5
    # the quiet half counts far less (its faint noise in the tone's band still adds a little to this model)
    sounding, quiet = values[row, e.times_s >= t0].mean(), values[row, e.times_s < t0 - 0.1].mean()
    assert sounding > 2 * quiet
    d = e.to_dict()
    assert set(d) >= {"label", "p", "start", "end", "saliency"}
    assert set(d["saliency"]) == {"times_s", "freqs_hz", "values"}
    assert len(d["saliency"]["values"]) == len(d["saliency"]["freqs_hz"])
    out = save_overlay_png(e, tmp_path / "e.png")
    assert out.stat().st_size > 0


def test_deletion_test_scores_the_map_above_a_random_one(bundle, tmp_path):
    e = explain_file(bundle, two_part_file(tmp_path, 2000.0, 300.0), window_index=0)
    predict = lambda x: predict_images(bundle, x)  # noqa: E731
    fill = silence_colour(bundle.spectrogram_config)
    index = bundle.labels.index(e.label)
    saliency = e.values[::-1]  # back to image orientation (top row = highest frequencies)
    most_first = deletion_score(predict, e.image, index, saliency, fill)
    assert most_first < e.p - 0.3  # covering the salient cells first sinks the answer
    faithful = faithfulness(predict, e.image, index, saliency, fill)
    rng = np.random.default_rng(0)
    random = [faithfulness(predict, e.image, index, rng.random(saliency.shape), fill) for _ in range(3)]
    assert faithful > 0.2 and faithful > max(random) + 0.1


def test_a_window_index_out_of_range_is_refused(bundle, tmp_path):
    with pytest.raises(ValueError, match="out of range"):
        explain_file(bundle, two_part_file(tmp_path, 2000.0, 300.0), window_index=7)
    assert SR == bundle.sample_rate


def test_the_default_falls_back_to_occlusion_when_maps_span_all_frequencies(bundle, tmp_path):
    # the pitch model's last block is one row tall: Grad-CAM could not place a frequency
    e = explain_file(bundle, two_part_file(tmp_path, 2000.0, 300.0), window_index=0)
    assert DEFAULT_METHOD == "gradcam" and e.method == "occlusion"


def test_gradcam_runs_through_a_stacked_bundle(tmp_path):
    import keras  # noqa: PLC0415 - loads TensorFlow/Keras (3 s): only this test builds a network

    spec = small_spec(64, 64)
    extractor = build_feature_extractor("small_cnn", "none", (64, 64), seed=0)
    features = keras.Input((int(extractor.output_shape[-1]),))
    head = keras.Model(features, keras.layers.Dense(2, activation="softmax")(features), name="head")
    images = keras.Input((64, 64, 3), name="image")
    model = keras.Model(images, head(extractor(images)))
    stacked = load_bundle(write_bundle(tmp_path / "stacked", model=model, labels=["low", "high"], spec=spec,
                                       window=WindowConfig(window_s=1.0, hop_s=1.0)))
    e = explain_file(stacked, two_part_file(tmp_path, 2000.0, 300.0), window_index=0, method="gradcam")
    assert e.method == "gradcam" and e.values.shape == (len(e.freqs_hz), len(e.times_s))
    assert np.isfinite(e.values).all() and e.values.max() <= 1.0
