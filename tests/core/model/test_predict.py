import json

import numpy as np
import pytest
import soundfile as sf

from audionet_gui.core.answers import NO_SPEECH, UNKNOWN
from audionet_gui.core.audio.windows import Window, WindowConfig
from audionet_gui.core.base.errors import AudioFileError
from audionet_gui.core.model import predict as predict_mod
from audionet_gui.core.model.bundle import load_bundle
from audionet_gui.core.model.predict import predict_file, predict_images, predict_samples
from tests.audio_factory import fan_hum, speech_like
from tests.tiny_models import constant_classifier, pitch_classifier, small_spec, write_bundle

SR = 16000
TONES = {"low": 300.0, "high": 2500.0}


def tone(hz, seconds, amp=0.3):
    t = np.arange(int(seconds * SR)) / SR
    return (amp * np.sin(2 * np.pi * hz * t)).astype(np.float32)


@pytest.fixture(scope="module")
def pitch_bundle(tmp_path_factory):
    spec = small_spec()
    path = write_bundle(tmp_path_factory.mktemp("p") / "pitch", model=pitch_classifier(TONES, spec),
                        labels=list(TONES), spec=spec, threshold=0.6)
    return load_bundle(path)


def test_predict_file_names_the_tone(pitch_bundle, tmp_path):
    for label, hz in TONES.items():
        path = tmp_path / f"{label}.wav"
        sf.write(path, tone(hz, 3.0), SR)
        result = predict_file(pitch_bundle, path, top_k=2)
        assert result.label == label
        assert result.windows == 2  # 3 s with 2 s windows, 1 s hop: 0-2 and 1-3
        assert [lab for lab, _ in result.top_k] == [label, *(lab for lab in TONES if lab != label)]
        assert result.probabilities.sum() == pytest.approx(1.0, abs=1e-5)
        d = result.to_dict()
        json.dumps(d)
        assert set(d) >= {"file", "label", "probabilities", "timeline", "top_k"}
        assert d["timeline"] == [{"start": 0.0, "end": 3.0, "label": label, "p": d["timeline"][0]["p"]}]


def test_timeline_of_a_two_part_file(pitch_bundle, tmp_path):
    path = tmp_path / "dialogue.wav"
    sf.write(path, np.concatenate([tone(TONES["low"], 6.0), tone(TONES["high"], 6.0)]), SR)
    result = predict_file(pitch_bundle, path)
    labels = [s.label for s in result.timeline]
    assert labels[0] == "low" and labels[-1] == "high"
    assert set(labels) <= {"low", "high", UNKNOWN} and len(labels) <= 3
    assert result.timeline[0].start_s == 0.0 and result.timeline[-1].end_s == pytest.approx(12.0)
    assert 5.0 <= result.timeline[0].end_s <= 7.0
    # segments tile the file without overlap
    for a, b in zip(result.timeline, result.timeline[1:]):
        assert a.end_s == pytest.approx(b.start_s)
    assert result.window_probabilities.shape == (11, 2)


def test_unknown_when_below_threshold(tmp_path):
    bundle = load_bundle(write_bundle(tmp_path / "unsure", model=constant_classifier([0.55, 0.45]),
                                      labels=["a", "b"], threshold=0.6))
    result = predict_samples(bundle, tone(440.0, 3.0))
    assert result.p == pytest.approx(0.55, abs=1e-5)
    assert result.label == UNKNOWN
    assert result.top_k[0][0] == "a"  # the ranking is still reported
    assert [s.label for s in result.timeline] == [UNKNOWN]
    bundle.config["unknown_threshold"] = 0.5
    assert predict_samples(bundle, tone(440.0, 3.0)).label == "a"


def test_bad_file_raises_a_file_error(pitch_bundle, tmp_path):
    bad = tmp_path / "notes.wav"
    bad.write_text("this is not audio")
    with pytest.raises(AudioFileError) as info:
        predict_file(pitch_bundle, bad)
    assert "notes.wav" in str(info.value)


def test_predict_images_checks_the_size(pitch_bundle):
    with pytest.raises(ValueError, match="images must be"):
        predict_images(pitch_bundle, np.zeros((2, 10, 10, 3), np.uint8))
    w, h = pitch_bundle.image_size
    assert predict_images(pitch_bundle, np.zeros((h, w, 3), np.uint8)).shape == (1, 2)
    assert predict_images(pitch_bundle, np.zeros((0, h, w, 3), np.uint8)).shape == (0, 2)


def test_windows_are_streamed_not_collected(pitch_bundle, monkeypatch):
    drawn = {"n": 0}
    seen_at_predict = []

    def windows():
        for i in range(40):
            drawn["n"] += 1
            yield Window(float(i), float(i + 2), tone(TONES["low"], 2.0))

    real = predict_mod.predict_images

    def spy(bundle, images, batch_size=32):
        seen_at_predict.append(drawn["n"])
        return real(bundle, images, batch_size)

    monkeypatch.setattr(predict_mod, "predict_images", spy)
    starts, ends, probs = predict_mod.predict_windows(pitch_bundle, windows(), batch_size=8)
    assert probs.shape == (40, 2) and starts.tolist() == list(range(40))
    # at most two batches (the one predicted and the next being prepared) are ever drawn ahead
    assert all(n <= (k + 2) * 8 for k, n in enumerate(seen_at_predict))


def test_predict_file_reports_progress_in_windows(pitch_bundle, tmp_path):
    path = tmp_path / "long.wav"
    sf.write(path, tone(TONES["high"], 20.0), SR)
    reports = []
    result = predict_file(pitch_bundle, path, batch_size=4, progress=reports.append)
    assert result.windows == 19
    assert reports[-1].stage == "predicting" and reports[-1].total == 19 and reports[-1].done == 19


# --- the speech gate ------------------------------------------------------------------------------------------
def _constant_bundle(path, gate):
    return load_bundle(write_bundle(path, model=constant_classifier([0.8, 0.2]), labels=["ann", "bob"],
                                    window=WindowConfig(gate=gate), threshold=0.5))


def test_speech_gated_bundle_answers_no_speech_for_noise_and_names_speech(tmp_path):
    gated = _constant_bundle(tmp_path / "gated", "speech")
    assert gated.window_config.gate == "speech"
    fan = tmp_path / "fan.wav"
    sf.write(fan, fan_hum(4.0, seed=1), SR)
    result = predict_file(gated, fan)
    assert result.label == NO_SPEECH and result.p == 0.0
    assert not result.window_probabilities.any()  # no window was classified
    assert [s.label for s in result.timeline] == [NO_SPEECH]
    d = result.to_dict()
    json.dumps(d)
    assert d["label"] == NO_SPEECH and set(d) >= {"file", "label", "p", "probabilities", "top_k", "timeline"}

    # speech then the fan: named from the speech windows only; the fan's tail is a "no speech" segment
    mixed = tmp_path / "mixed.wav"
    sf.write(mixed, np.concatenate([speech_like(4.0, seed=3, f0=120.0), fan_hum(4.0, seed=1)]), SR)
    result = predict_file(gated, mixed)
    assert result.label == "ann" and result.p == pytest.approx(0.8, abs=1e-4)  # zero rows do not vote
    labels = [s.label for s in result.timeline]
    assert labels[0] == "ann" and labels[-1] == NO_SPEECH
    assert result.timeline[-1].end_s == pytest.approx(8.0)

    # the energy gate (today's behaviour) classifies the fan and names it
    energy = _constant_bundle(tmp_path / "energy", "energy")
    assert predict_file(energy, fan).label == "ann"
    assert predict_samples(gated, fan_hum(3.0, seed=2)).label == NO_SPEECH
