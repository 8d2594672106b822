from pathlib import Path

import numpy as np
import pytest

from audionet_gui.core.audio.files import load_audio
from audionet_gui.core.audio.spectrogram import SpectrogramConfig, load_png, spectrogram_image
from audionet_gui.core.audio.windows import WindowConfig, cut_windows
from audionet_gui.core.data.convert.manifest import load_manifest, load_workspace_info
from audionet_gui.core.data.convert.run import convert_dataset
from audionet_gui.core.data.dataset import DatasetSpec, SplitConfig
from tests.audio_factory import SR, fan_hum, make_class_tree, speech_like, voice, write
from tests.tone_dataset import make_tone_dataset

SMALL = SpectrogramConfig(image_width=64, image_height=48)


def snapshot(root: Path) -> dict:
    return {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in sorted(root.rglob("*")) if p.is_file()}


def test_convert_writes_images_and_manifest(data, tmp_path):
    before = snapshot(data)
    summary = convert_dataset(DatasetSpec.from_root(data), tmp_path / "ws", SMALL, WindowConfig(), workers=1)
    assert summary.files == 12 and summary.failed == []
    assert summary.windows == 12 * 2  # 3 s -> windows at 0-2 and 1-3
    assert summary.seconds_of_audio == pytest.approx(36.0, abs=0.01)
    rows = load_manifest(tmp_path / "ws")
    assert len(rows) == summary.windows
    assert {r.label for r in rows} == {"low", "high"}
    assert {r.split for r in rows} <= {"train", "val", "test"}
    # windows of one source never straddle splits
    by_source = {}
    for r in rows:
        by_source.setdefault(r.source, set()).add(r.split)
    assert all(len(s) == 1 for s in by_source.values())
    # every image is exactly what spectrogram_image gives for that window
    r = rows[3]
    x = load_audio(r.source, SMALL.sample_rate)
    w = [w for w in cut_windows(x, SR, WindowConfig()) if abs(w.start_s - r.start_s) < 1e-3][0]
    np.testing.assert_array_equal(load_png(tmp_path / "ws" / r.image), spectrogram_image(w.samples, SMALL))
    info = load_workspace_info(tmp_path / "ws")
    assert SpectrogramConfig.from_dict(info["spectrogram"]) == SMALL and info["labels"] == ["high", "low"]
    assert snapshot(data) == before  # sources untouched


def test_rerun_skips_unchanged_sources_and_converts_changed_ones(data, tmp_path):
    spec = DatasetSpec.from_root(data)
    first = convert_dataset(spec, tmp_path / "ws", SMALL, workers=1)
    assert first.cached == 0
    again = convert_dataset(spec, tmp_path / "ws", SMALL, workers=1)
    assert again.cached == 12 and again.windows == first.windows
    write(data / "low" / "low_00.wav", voice(130, 5.0, seed=77))  # changed content
    third = convert_dataset(spec, tmp_path / "ws", SMALL, workers=1)
    assert third.cached == 11 and third.windows == first.windows + 2
    other = convert_dataset(spec, tmp_path / "ws", SMALL.with_image_size(32, 32), workers=1)
    assert other.cached == 0  # new settings, new images


def test_bad_files_are_listed_and_the_rest_converts(data, tmp_path):
    (data / "low" / "broken.wav").write_text("garbage")
    write(data / "high" / "silent.wav", np.zeros(SR, np.float32))
    summary = convert_dataset(DatasetSpec.from_root(data), tmp_path / "ws", SMALL, workers=1)
    reasons = {Path(f["path"]).name: f["reason"] for f in summary.failed}
    assert set(reasons) == {"broken.wav", "silent.wav"}
    assert "silence" in reasons["silent.wav"]
    assert summary.files == 12


def test_progress_reports_every_file(data, tmp_path):
    seen = []
    convert_dataset(DatasetSpec.from_root(data), tmp_path / "ws", SMALL, progress=seen.append, workers=1)
    assert seen[-1].done == seen[-1].total == 12
    assert all(p.stage == "converting" for p in seen)


# --- the activity gate ----------------------------------------------------------------------------------------
def _speaker_tree(root):
    """Two speakers whose files are 4 s of speech then 2 s of a fan (the window 4-6 s holds no speech), and a
    background class of fan noise alone."""
    speaker = lambda seed, f0: np.concatenate([speech_like(4.0, seed=seed, f0=f0), fan_hum(2.0, seed=seed)])  # noqa: E731
    return make_class_tree(root, {
        "ann": [speaker(i, 120.0) for i in range(3)],
        "bob": [speaker(i + 10, 200.0) for i in range(3)],
        "_background_noise_": [fan_hum(6.0, seed=20 + i) for i in range(2)],
    })


def test_speech_gate_leaves_a_speakers_windows_without_speech_out_but_keeps_the_background(tmp_path):
    data = _speaker_tree(tmp_path / "data")
    spec = DatasetSpec.from_root(data)
    split = SplitConfig(val_fraction=0.0, test_fraction=0.0)
    gated = convert_dataset(spec, tmp_path / "ws", SMALL, WindowConfig(gate="speech"), workers=1, split_cfg=split)
    rows = load_manifest(tmp_path / "ws")
    assert gated.gate == "speech" and gated.no_speech_windows > 0
    speakers = [r for r in rows if r.label in ("ann", "bob")]
    assert speakers and all(r.speech for r in speakers)
    assert not any(r.start_s >= 3.99 for r in speakers)  # the fan-only tail (the window 4-6 s) is left out
    background = [r for r in rows if r.label == "_background_noise_"]
    assert len(background) == 2 * 5 and not any(r.speech for r in background)  # kept, all 5 windows each
    assert load_workspace_info(tmp_path / "ws")["gate"] == "speech"
    assert gated.to_dict()["no_speech_windows"] == gated.no_speech_windows

    # the energy gate trains on every window, from the same cached images (the gate is not in the image key)
    energy = convert_dataset(spec, tmp_path / "ws", SMALL, WindowConfig(gate="energy"), workers=1, split_cfg=split)
    assert energy.gate == "energy" and energy.no_speech_windows == 0 and energy.cached == energy.files
    assert energy.windows == gated.windows + gated.no_speech_windows
    # "auto" on speakers resolves to speech
    auto = convert_dataset(spec, tmp_path / "ws", SMALL, WindowConfig(), workers=1, split_cfg=split)
    assert auto.gate == "speech" and auto.cached == auto.files


def test_auto_gate_is_energy_for_tone_classes(tmp_path):
    data = make_tone_dataset(tmp_path / "tones", files_per_class=3)
    summary = convert_dataset(DatasetSpec.from_root(data), tmp_path / "ws", SMALL, WindowConfig(), workers=1)
    assert summary.gate == "energy" and summary.no_speech_windows == 0
