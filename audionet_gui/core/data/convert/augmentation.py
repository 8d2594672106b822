"""Augmented training copies: the plan, what each run and file makes them from, and the banks workers keep."""

from __future__ import annotations

import hashlib
import io
import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from audionet_gui.core.audio.augment import AugmentConfig, simulate_rooms
from audionet_gui.core.audio.files import audio_info, load_audio
from audionet_gui.core.audio.windows import WindowConfig
from audionet_gui.core.base.errors import AudioFileError
from audionet_gui.core.base.fields import setting
from audionet_gui.core.base.fsutil import atomic_write_bytes
from audionet_gui.core.data.convert.cache import _HashCache
from audionet_gui.core.data.dataset import BACKGROUND_CLASS, SplitConfig, hash_fraction, plan_splits
from audionet_gui.resources import resources_dir

NOISE_BANK_SECONDS = 600.0  # of noise kept in each worker's memory (about 40 MB at 16 kHz)
ROOM_COUNT = 8              # simulated rooms per seed
BABBLE_FILES_PER_CLASS = 24  # training recordings of each class that babble may draw on
BABBLE_SECONDS_PER_CLASS = 20.0
BABBLE_SECONDS = 240.0       # in each worker's memory at most (15 MB at 16 kHz), shared by the classes

# Two augmented copies per training window (robustness bench, inception stand-in, PCEN: one copy -> two: 10 dB
# 66 -> 76 %, 5 dB 57 -> 68 %, room + microphone 39 -> 52 %, clean 97 -> 98 %; training time x1.34; DEVELOPERS.md)
DEFAULT_COPIES = 2


@dataclass(frozen=True)
class AugmentPlan:
    """Augmentation makes robust models: each training window also gets ``copies`` variants heard in a simulated
    room (reverberation), with background noise mixed in at a random SNR (the noise recordings shipped with the
    app, the user's own, the dataset's ``_background_noise_`` class, or coloured noise), with other classes'
    training audio as babble behind it, through a random microphone (band limits, tilt), at another level, shifted
    in time and with SpecAugment masks. It happens while converting, on audio, because noise cannot be added to a
    finished image; the copies are cached like any image and made and listed for training windows only
    (``augmented`` > 0), so validation and test measure real recordings. Which split a file falls in is planned
    before converting (the same plan the manifest uses), so babble never comes from validation or test audio.
    The copies' cache key covers everything they are made from, the babble recordings included: adding a
    training file to one class makes new copies for all (babble is then drawn from it too)."""

    copies: int = DEFAULT_COPIES
    seed: int = 0
    noise_files: tuple[str, ...] = ()   # background recordings to mix in (fan, traffic, rain, an empty room...)
    use_background_class: bool = True   # the dataset's _background_noise_ files are noise sources too
    room: bool = setting(True, "Rooms", "Training copies heard in simulated rooms (reverberation)")
    mic: bool = setting(True, "Microphones", "Training copies through random microphones (band limits, tilt)")
    babble: bool = setting(True, "Babble", "Other classes' training audio as talkers in the background (for "
                           "speaker projects)")
    bundled_noise: bool = setting(True, "Bundled noise", "Mix in the background noise recordings shipped with "
                                  "the app (kitchen, exercise bike, running tap, ...; CC BY 4.0)")

    def to_dict(self) -> dict:
        return {"copies": self.copies, "seed": self.seed, "noise_files": list(self.noise_files),
                "use_background_class": self.use_background_class, "room": self.room, "mic": self.mic,
                "babble": self.babble, "bundled_noise": self.bundled_noise}

    @classmethod
    def from_dict(cls, d: dict) -> AugmentPlan:
        return cls(int(d.get("copies", 1)), int(d.get("seed", 0)), tuple(d.get("noise_files", ())),
                   bool(d.get("use_background_class", True)), bool(d.get("room", True)), bool(d.get("mic", True)),
                   bool(d.get("babble", True)), bool(d.get("bundled_noise", True)))


def bundled_noise_files() -> tuple[str, ...]:
    """The background recordings shipped with the app (resources/noise, Speech Commands, CC BY 4.0)."""
    folder = resources_dir() / "noise"
    return tuple(str(p) for p in sorted(folder.glob("*.flac"))) if folder.is_dir() else ()


# --- one run: what its copies are made from, and which files get them -------------------------------------------
@dataclass(frozen=True)
class CopiesPlan:
    """A run's augmented copies: their cache key, what they are made from, and the split plan that says which
    files train (only those get copies)."""

    augment: AugmentPlan
    key: str
    noise_files: tuple[str, ...]
    rooms_file: Path | None
    babble: list  # (path, label, fraction of the file that trains)
    split_plan: dict

    def copies_dir(self, source: Path, images_dir: Path, digest: str) -> Path | None:
        """Where ``source``'s copies are cached, or None when it has none."""
        # copies only where they are used: files (or parts of files, "time") that train
        trains = self.split_plan.get(source, "train") in ("train", "time")
        return images_dir.with_name(f"{digest}.aug-{self.key}") if trains else None

    def job(self, digest: str, out_dir: Path, label: str) -> dict:
        """The plain ``augment`` argument of ``convert_source`` for one file."""
        return {"copies": self.augment.copies, "seed": self.augment.seed, "noise_files": list(self.noise_files),
                "digest": digest, "out_dir": str(out_dir), "label": label, "mic": self.augment.mic,
                "rooms": str(self.rooms_file) if self.rooms_file else None,
                "babble": self.babble}  # all classes: one bank per worker; its own label is left out there


def plan_copies(augment: AugmentPlan, sources, digests: dict, hashes: _HashCache, workspace: Path,
                cache_root: Path, sample_rate: int, window_cfg: WindowConfig, split_cfg: SplitConfig,
                has_test_dir: bool) -> CopiesPlan:
    """Gather the noise files, babble recordings and rooms of a run's copies, and key them by all of it."""
    noise_files = tuple(str(Path(f).absolute()) for f in augment.noise_files)
    if augment.bundled_noise:
        noise_files += bundled_noise_files()
    if augment.use_background_class:
        noise_files += tuple(str(s.path) for s in sources if s.label == BACKGROUND_CLASS and s.path in digests)
    noise_ids = sorted(hashes.digest(Path(f)) if Path(f).is_file() else f for f in noise_files)
    split_plan = _planned_splits(sources, digests, cache_root, window_cfg, split_cfg, has_test_dir)
    babble, rooms_file = [], None
    if augment.babble:
        babble = _babble_segments(sources, split_plan, split_cfg, has_test_dir, augment.seed)
    if augment.room:
        rooms_file = _rooms_file(workspace, augment.seed, sample_rate)
    flags = {k: v for k, v in augment.to_dict().items() if k not in ("copies", "seed", "noise_files")}
    babble_ids = [[digests[Path(p)], label, fraction] for p, label, fraction in babble]
    key = hashlib.sha256(json.dumps([augment.copies, augment.seed, noise_ids, _augment_params(), flags,
                                     babble_ids, ROOM_COUNT], sort_keys=True).encode()).hexdigest()[:12]
    return CopiesPlan(augment, key, noise_files, rooms_file, babble, split_plan)


def _augment_params() -> dict:
    return AugmentConfig().to_dict()


def _planned_splits(sources, digests: dict, cache_root: Path, window_cfg: WindowConfig, split_cfg: SplitConfig,
                    has_test_dir: bool) -> dict[Path, str]:
    """The split plan the manifest will use, made before converting: durations from cached records, else from
    the file's header (needed only for classes split by time; others just need a number)."""
    counts: dict[str, int] = {}
    for s in sources:
        if s.path in digests:
            counts[s.label] = counts.get(s.label, 0) + 1
    durations: dict[Path, float] = {}
    for s in sources:
        if s.path not in digests:
            continue
        digest = digests[s.path]
        try:
            durations[s.path] = float(json.loads((cache_root / digest[:2] / f"{digest}.json").read_text())
                                      ["duration_s"])
            continue
        except (OSError, ValueError, KeyError, TypeError):
            pass
        if counts[s.label] >= split_cfg.min_files_for_file_split:
            durations[s.path] = 0.0
            continue
        try:
            durations[s.path] = audio_info(s.path).duration_s
        except AudioFileError:
            continue  # fails again, and is reported, when converted
    return plan_splits(sources, durations, window_cfg.window_s, split_cfg, has_test_dir)


def _babble_segments(sources, split_plan: dict, split_cfg: SplitConfig, has_test_dir: bool,
                     seed: int) -> list[tuple[str, str, float]]:
    """(path, label, fraction of the file that trains) for up to BABBLE_FILES_PER_CLASS training recordings of
    each class, chosen by a seeded hash (the same files on every run)."""
    train_part = 1.0 - split_cfg.val_fraction - (0.0 if has_test_dir else split_cfg.test_fraction)
    by_label: dict[str, list] = {}
    for s in sources:
        split = split_plan.get(s.path)
        if s.label == BACKGROUND_CLASS or split not in ("train", "time"):
            continue
        by_label.setdefault(s.label, []).append((hash_fraction(s.relpath, f"babble-{seed}"), str(s.path),
                                                 1.0 if split == "train" else train_part))
    out = []
    for label in sorted(by_label):
        for _, path, fraction in sorted(by_label[label])[:BABBLE_FILES_PER_CLASS]:
            out.append((path, label, fraction))
    return out


@lru_cache(maxsize=4)
def _simulated_rooms(seed: int, sample_rate: int) -> list:
    return simulate_rooms(seed, sample_rate, ROOM_COUNT)  # seconds: once per process, then per workspace file


def _rooms_file(workspace: Path, seed: int, sample_rate: int) -> Path:
    """The seed's simulated room impulse responses, made once per workspace (seconds) and reused."""
    path = workspace / "rooms" / f"rooms-s{seed}-{sample_rate}hz-{ROOM_COUNT}.npz"
    if not path.is_file():
        rirs = _simulated_rooms(seed, sample_rate)
        buf = io.BytesIO()
        np.savez(buf, **{f"r{i}": h for i, h in enumerate(rirs)})
        atomic_write_bytes(path, buf.getvalue())
    return path


# --- in each worker: what the copies are made from, loaded once ---------------------------------------------------
@lru_cache(maxsize=2)
def _room_bank(path: str) -> tuple:
    with np.load(path, allow_pickle=False) as data:
        return tuple(data[k] for k in sorted(data.files))


@lru_cache(maxsize=2)
def _babble_bank(segments: tuple[tuple[str, str, float], ...], sample_rate: int) -> dict:
    """label -> recordings (the training part of each file), at most BABBLE_SECONDS_PER_CLASS per class and
    BABBLE_SECONDS in all."""
    bank: dict[str, list] = {}
    left: dict[str, float] = {}
    per_class = min(BABBLE_SECONDS_PER_CLASS, BABBLE_SECONDS / max(1, len({label for _, label, _ in segments})))
    for path, label, fraction in segments:
        budget = left.setdefault(label, per_class)
        if budget <= 0.1:
            continue
        try:
            audio = load_audio(path, sample_rate, max_seconds=budget / max(fraction, 1e-3))
        except AudioFileError:
            continue  # a bad file only means less babble
        audio = audio[: int(audio.size * fraction)] if fraction < 1.0 else audio
        if audio.size:
            bank.setdefault(label, []).append(audio)
            left[label] = budget - audio.size / sample_rate
    return {label: tuple(v) for label, v in bank.items()}


@lru_cache(maxsize=4)
def _noise_bank(files: tuple[str, ...], sample_rate: int) -> tuple:
    bank, left = [], NOISE_BANK_SECONDS
    for f in files:
        if left <= 1.0:
            break
        try:
            noise = load_audio(f, sample_rate, max_seconds=left)
        except AudioFileError:
            continue  # a bad noise file only means less variety
        bank.append(noise)
        left -= noise.size / sample_rate
    return tuple(bank)
