import pytest

from audionet_gui.core.audio.windows import WindowConfig
from audionet_gui.core.data.dataset import DatasetSpec
from audionet_gui.core.data.frontend_choice import resolved_frontend, sampled_gate
from tests.audio_factory import SR, fan_hum, make_class_tree, speech_like, tone


def _spec(root):
    return DatasetSpec.from_root(root)


def test_voices_sample_as_speech_and_tones_as_sounds(tmp_path):
    voices = make_class_tree(tmp_path / "voices", {
        "ann": [speech_like(2.0, seed=k, f0=110.0) for k in range(3)],
        "bob": [speech_like(2.0, seed=10 + k, f0=200.0) for k in range(3)],
        "_background_noise_": [fan_hum(2.0, seed=k) for k in range(2)]})  # left out of the vote
    sounds = make_class_tree(tmp_path / "sounds", {"low": [tone(220, 2.0)] * 3, "high": [tone(880, 2.0)] * 3})
    cfg = WindowConfig(window_s=1.0, hop_s=0.5)
    assert sampled_gate(_spec(voices), cfg, SR) == "speech"
    assert resolved_frontend("auto", _spec(voices), cfg, SR) == "pcen"
    assert sampled_gate(_spec(sounds), cfg, SR) == "energy"
    assert resolved_frontend("auto", _spec(sounds), cfg, SR) == "none"


@pytest.mark.parametrize(("frontend", "gate", "expected"), [
    ("auto", "speech", "pcen"), ("auto", "energy", "none"), ("floor", "speech", "floor"), ("none", "auto", "none")])
def test_an_explicit_gate_or_front_end_decides_without_reading_the_data(tmp_path, frontend, gate, expected):
    spec = _spec(make_class_tree(tmp_path / "d", {"a": [tone(300, 0.5)], "b": [tone(600, 0.5)]}))
    for path in (tmp_path / "d").rglob("*.wav"):
        path.write_bytes(b"not audio")  # reading them would find nothing to vote with
    assert resolved_frontend(frontend, spec, WindowConfig(gate=gate), SR) == expected
