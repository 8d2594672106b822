from concurrent.futures import Future
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

import numpy as np
import pytest

from audionet_gui.core.audio.files import load_audio
from audionet_gui.core.audio.spectrogram import SpectrogramConfig, load_png, spectrogram_image
from audionet_gui.core.audio.windows import WindowConfig, cut_windows
from audionet_gui.core.base.jobs import Cancelled, CancelToken
from audionet_gui.core.data import convert
from audionet_gui.core.data.convert import AugmentPlan, convert_dataset, load_manifest, load_workspace_info
from audionet_gui.core.data.dataset import DatasetSpec
from tests.audio_factory import SR, fan_hum, make_class_tree, noise, speech_like, voice, write
from tests.tone_dataset import make_tone_dataset

SMALL = SpectrogramConfig(image_width=64, image_height=48)


@pytest.fixture
def data(tmp_path):
    root = make_class_tree(tmp_path / "data", {
        "low": [voice(120, 3.0, seed=i) for i in range(6)],
        "high": [voice(240, 3.0, seed=i + 10) for i in range(6)],
    })
    return root


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


def test_parallel_conversion_equals_serial(data, tmp_path):
    spec = DatasetSpec.from_root(data)
    a = convert_dataset(spec, tmp_path / "a", SMALL, workers=1)
    b = convert_dataset(spec, tmp_path / "b", SMALL, workers=2)
    rows_a, rows_b = load_manifest(tmp_path / "a"), load_manifest(tmp_path / "b")
    assert [(r.image, r.split) for r in rows_a] == [(r.image, r.split) for r in rows_b]
    for r in rows_a[:4]:
        assert (tmp_path / "a" / r.image).read_bytes() == (tmp_path / "b" / r.image).read_bytes()
    assert a.windows == b.windows


def test_cancel_stops_and_keeps_a_consistent_workspace(data, tmp_path, monkeypatch):
    spec = DatasetSpec.from_root(data)
    token = CancelToken()
    real = convert._convert_or_error
    calls = []

    def convert_then_cancel(*args):
        calls.append(args[0])
        if len(calls) == 3:
            token.cancel()  # the user presses Cancel while the third file converts
        return real(*args)

    monkeypatch.setattr(convert, "_convert_or_error", convert_then_cancel)
    with pytest.raises(Cancelled):
        convert_dataset(spec, tmp_path / "ws", SMALL, cancel=token, workers=1)
    assert len(calls) == 3  # stopped promptly
    assert not (tmp_path / "ws" / "manifest.csv").exists()
    assert not list((tmp_path / "ws").rglob("*.partial"))
    monkeypatch.setattr(convert, "_convert_or_error", real)
    resumed = convert_dataset(spec, tmp_path / "ws", SMALL, workers=1)
    assert resumed.cached == 3 and resumed.files == 12


def test_progress_reports_every_file(data, tmp_path):
    seen = []
    convert_dataset(DatasetSpec.from_root(data), tmp_path / "ws", SMALL, progress=seen.append, workers=1)
    assert seen[-1].done == seen[-1].total == 12
    assert all(p.stage == "converting" for p in seen)


def test_augmented_copies_are_training_only_noisy_and_cached(data, tmp_path):
    noise_dir = tmp_path / "noise"
    write(noise_dir / "fan.wav", noise(5.0, amp=0.3, seed=9))
    plan = AugmentPlan(copies=2, seed=1, noise_files=(str(noise_dir / "fan.wav"),))
    spec = DatasetSpec.from_root(data)
    summary = convert_dataset(spec, tmp_path / "ws", SMALL, workers=1, augment=plan)
    rows = load_manifest(tmp_path / "ws")
    originals = [r for r in rows if r.augmented == 0]
    copies = [r for r in rows if r.augmented > 0]
    train = [r for r in originals if r.split == "train"]
    assert summary.windows == len(originals) == 24
    assert len(copies) == summary.augmented_windows == 2 * len(train) > 0
    assert {r.split for r in copies} == {"train"}  # validation and test measure real recordings only
    # a copy shows the same window, but not the same image
    first = train[0]
    twin = [r for r in copies if r.source == first.source and r.start_s == first.start_s]
    assert len(twin) == 2
    a, b = load_png(tmp_path / "ws" / first.image), load_png(tmp_path / "ws" / twin[0].image)
    assert a.shape == b.shape and not np.array_equal(a, b)
    # re-running converts nothing; changing the plan converts only the copies
    again = convert_dataset(spec, tmp_path / "ws", SMALL, workers=1, augment=plan)
    assert again.cached == 12 and again.augmented_windows == summary.augmented_windows
    third = convert_dataset(spec, tmp_path / "ws", SMALL, workers=1, augment=AugmentPlan(copies=1, seed=1))
    # only training files need new copies: validation and test files are up to date already
    assert third.cached == 12 - len({r.source for r in train}) and third.augmented_windows == len(train)
    assert load_png(tmp_path / "ws" / first.image).tobytes() == a.tobytes()


def test_augmentation_is_repeatable(data, tmp_path):
    spec = DatasetSpec.from_root(data)
    convert_dataset(spec, tmp_path / "a", SMALL, workers=1, augment=AugmentPlan(copies=1, seed=3))
    convert_dataset(spec, tmp_path / "b", SMALL, workers=2, augment=AugmentPlan(copies=1, seed=3))
    ra = [r for r in load_manifest(tmp_path / "a") if r.augmented]
    rb = [r for r in load_manifest(tmp_path / "b") if r.augmented]
    assert [r.image for r in ra] == [r.image for r in rb]
    assert (tmp_path / "a" / ra[0].image).read_bytes() == (tmp_path / "b" / rb[0].image).read_bytes()


def test_a_dead_worker_process_does_not_lose_the_job(data, tmp_path, monkeypatch):
    class DyingPool:
        def __init__(self, *a, **k):
            pass

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def submit(self, fn, *args):
            fut = Future()
            fut.set_exception(BrokenProcessPool("a worker was killed"))
            return fut

        def shutdown(self, *a, **k):
            pass

    monkeypatch.setattr(convert, "ProcessPoolExecutor", DyingPool)
    summary = convert_dataset(DatasetSpec.from_root(data), tmp_path / "ws", SMALL, workers=2)
    assert summary.files == 12 and summary.failed == [] and summary.windows == 24


def test_augment_plan_round_trips_and_old_records_get_the_new_levers_on():
    plan = AugmentPlan(copies=3, seed=2, noise_files=("a.wav",), room=False, mic=True, babble=False,
                       bundled_noise=False)
    assert AugmentPlan.from_dict(plan.to_dict()) == plan
    old = AugmentPlan.from_dict({"copies": 1, "seed": 0, "noise_files": [], "use_background_class": True})
    assert old.room and old.mic and old.babble and old.bundled_noise
    assert len(convert.bundled_noise_files()) == 6  # resources/noise, credited in its CREDITS.md


def test_full_augmentation_differs_by_seed_and_is_recorded(data, tmp_path):
    spec = DatasetSpec.from_root(data)
    convert_dataset(spec, tmp_path / "a", SMALL, workers=1, augment=AugmentPlan(copies=1, seed=3))
    convert_dataset(spec, tmp_path / "b", SMALL, workers=1, augment=AugmentPlan(copies=1, seed=4))
    ra = [r for r in load_manifest(tmp_path / "a") if r.augmented]
    rb = [r for r in load_manifest(tmp_path / "b") if r.augmented]
    assert [(r.source, r.start_s) for r in ra] == [(r.source, r.start_s) for r in rb]
    assert all((tmp_path / "a" / x.image).read_bytes() != (tmp_path / "b" / y.image).read_bytes()
               for x, y in zip(ra, rb))
    info = load_workspace_info(tmp_path / "a")
    assert info["augment"] == AugmentPlan(copies=1, seed=3).to_dict()
    assert info["augment"]["room"] and info["augment"]["babble"] and info["augment"]["mic"]
    assert list((tmp_path / "a" / "rooms").glob("rooms-s3-*.npz"))


def test_babble_is_other_classes_training_audio_and_rooms_and_mic_reach_the_worker(data, tmp_path, monkeypatch):
    seen = []
    real = convert.augment_audio

    def spy(samples, sr, rng, cfg, bank, rooms=(), babble_pool=(), mic=False):
        seen.append((len(rooms), babble_pool, mic))
        return real(samples, sr, rng, cfg, bank, rooms=rooms, babble_pool=babble_pool, mic=mic)

    monkeypatch.setattr(convert, "augment_audio", spy)
    spec = DatasetSpec.from_root(data)
    convert_dataset(spec, tmp_path / "ws", SMALL, workers=1, augment=AugmentPlan(copies=1, seed=5))
    rows = load_manifest(tmp_path / "ws")
    train_audio = {label: [load_audio(src, SR) for src in sorted({r.source for r in rows
                                                                   if r.label == label and r.split == "train"})]
                   for label in ("low", "high")}
    other_audio = {src: load_audio(src, SR) for src in {r.source for r in rows if r.split != "train"}}
    assert seen and all(n_rooms == convert.ROOM_COUNT and mic for n_rooms, _, mic in seen)
    pools = [pool for _, pool, _ in seen]
    assert all(pool for pool in pools)
    for pool in pools:
        for voice_ in pool:
            assert not any(voice_.size == a.size and np.array_equal(voice_, a) for a in other_audio.values())
    # each copy's talkers are all of one other class's training files (two classes here)
    pool_labels = []
    for pool in pools:
        labels = {label for label, files in train_audio.items() for voice_ in pool
                  if any(voice_.size == a.size and np.array_equal(voice_, a) for a in files)}
        assert len(labels) == 1
        pool_labels += labels
    assert set(pool_labels) == {"low", "high"}
    off = AugmentPlan(copies=1, seed=5, room=False, mic=False, babble=False)
    seen.clear()
    convert_dataset(spec, tmp_path / "ws2", SMALL, workers=1, augment=off)
    assert seen and all(n_rooms == 0 and not pool and not mic for n_rooms, pool, mic in seen)
    assert not (tmp_path / "ws2" / "rooms").exists()


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
    split = convert.SplitConfig(val_fraction=0.0, test_fraction=0.0)
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
