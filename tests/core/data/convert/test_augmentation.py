import numpy as np

from audionet_gui.core.audio.files import load_audio
from audionet_gui.core.audio.spectrogram import SpectrogramConfig, load_png
from audionet_gui.core.data.convert import source
from audionet_gui.core.data.convert.augmentation import ROOM_COUNT, AugmentPlan, bundled_noise_files
from audionet_gui.core.data.convert.manifest import load_manifest, load_workspace_info
from audionet_gui.core.data.convert.run import convert_dataset
from audionet_gui.core.data.dataset import DatasetSpec
from tests.audio_factory import SR, noise, write

SMALL = SpectrogramConfig(image_width=64, image_height=48)


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


def _augmented_rows(data, workspace, seed: int, workers: int = 1) -> list:
    """The manifest rows of the augmented copies of one conversion with one copy per window."""
    convert_dataset(DatasetSpec.from_root(data), workspace, SMALL, workers=workers,
                    augment=AugmentPlan(copies=1, seed=seed))
    return [r for r in load_manifest(workspace) if r.augmented]


def test_augmentation_is_repeatable(data, tmp_path):
    ra = _augmented_rows(data, tmp_path / "a", seed=3, workers=1)
    rb = _augmented_rows(data, tmp_path / "b", seed=3, workers=2)
    assert [r.image for r in ra] == [r.image for r in rb]
    assert (tmp_path / "a" / ra[0].image).read_bytes() == (tmp_path / "b" / rb[0].image).read_bytes()


def test_augment_plan_round_trips_and_old_records_get_the_new_levers_on():
    plan = AugmentPlan(copies=3, seed=2, noise_files=("a.wav",), room=False, mic=True, babble=False,
                       bundled_noise=False)
    assert AugmentPlan.from_dict(plan.to_dict()) == plan
    old = AugmentPlan.from_dict({"copies": 1, "seed": 0, "noise_files": [], "use_background_class": True})
    assert old.room and old.mic and old.babble and old.bundled_noise
    assert len(bundled_noise_files()) == 6  # resources/noise, credited in its CREDITS.md


def test_full_augmentation_differs_by_seed_and_is_recorded(data, tmp_path):
    ra = _augmented_rows(data, tmp_path / "a", seed=3)
    rb = _augmented_rows(data, tmp_path / "b", seed=4)
    assert [(r.source, r.start_s) for r in ra] == [(r.source, r.start_s) for r in rb]
    assert all((tmp_path / "a" / x.image).read_bytes() != (tmp_path / "b" / y.image).read_bytes()
               for x, y in zip(ra, rb))
    info = load_workspace_info(tmp_path / "a")
    assert info["augment"] == AugmentPlan(copies=1, seed=3).to_dict()
    assert info["augment"]["room"] and info["augment"]["babble"] and info["augment"]["mic"]
    assert list((tmp_path / "a" / "rooms").glob("rooms-s3-*.npz"))


def test_babble_is_other_classes_training_audio_and_rooms_and_mic_reach_the_worker(data, tmp_path, monkeypatch):
    seen = []
    real = source.augment_audio

    def spy(samples, sr, rng, cfg, bank, rooms=(), babble_pool=(), mic=False):
        seen.append((len(rooms), babble_pool, mic))
        return real(samples, sr, rng, cfg, bank, rooms=rooms, babble_pool=babble_pool, mic=mic)

    monkeypatch.setattr(source, "augment_audio", spy)
    spec = DatasetSpec.from_root(data)
    convert_dataset(spec, tmp_path / "ws", SMALL, workers=1, augment=AugmentPlan(copies=1, seed=5))
    rows = load_manifest(tmp_path / "ws")
    train_audio = {label: [load_audio(src, SR) for src in sorted({r.source for r in rows
                                                                   if r.label == label and r.split == "train"})]
                   for label in ("low", "high")}
    other_audio = {src: load_audio(src, SR) for src in {r.source for r in rows if r.split != "train"}}
    assert seen and all(n_rooms == ROOM_COUNT and mic for n_rooms, _, mic in seen)
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
