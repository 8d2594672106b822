"""Dataset -> workspace of window images (PNG) and a manifest, cached by content, on every core.

Workspace layout::

    WORKSPACE/workspace.json          configs, classes, split settings (what the manifest was made with)
    WORKSPACE/manifest.csv            image,label,split,source,start_s,end_s  (image relative to WORKSPACE)
    WORKSPACE/cache/<config>/<hh>/<sha256>/w0000.png ...   one folder of window images per source content
    WORKSPACE/cache/<config>/<hh>/<sha256>.json            its record, written last: marks it complete
    WORKSPACE/cache/<config>/<hh>/<sha256>.aug-<key>/...   augmented copies of its windows (and their record)
    WORKSPACE/hashes.json             path, size, mtime -> content hash, so unchanged files are not re-read

A source is keyed by its content and by the window + spectrogram configuration, so re-running skips unchanged
sources, a renamed file is not converted twice, and a settings change converts again next to the old images.
Source files are only ever read. A cancelled run keeps what it finished; the manifest is replaced only by a
completed run.

Augmentation (``AugmentPlan``) makes robust models: each training window also gets ``copies`` variants heard in
a simulated room (reverberation), with background noise mixed in at a random SNR (the noise recordings shipped
with the app, the user's own, the dataset's ``_background_noise_`` class, or coloured noise), with other
classes' training audio as babble behind it, through a random microphone (band limits, tilt), at another
level, shifted in time and with SpecAugment masks. It happens here, on audio, because noise cannot be added to
a finished image; the copies are cached like any image and made and listed for training windows only
(``augmented`` > 0), so validation and test measure real recordings. Which split a file falls in is planned
before converting (the same plan the manifest uses), so babble never comes from validation or test audio.
The copies' cache key covers everything they are made from, the babble recordings included: adding a training
file to one class makes new copies for all (babble is then drawn from it too).

The activity gate (``WindowConfig.gate``): unless it is "energy", the workers also measure each window's share of
speech (Silero VAD, core/audio/vad.py, about 16 ms a window) and keep it in the source's record, next to the images
and cached with them (the gate and the speech threshold are not part of the image key: switching the gate costs no
reconversion). "auto" is then resolved once from the training windows (``resolved_gate``); with the speech gate a
class's training and validation windows without speech are left out of the manifest (the background class keeps
all of its windows) and counted (``ConvertSummary.no_speech_windows``); test windows stay, marked ``speech``.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import multiprocessing
import os
import time
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

from audionet_gui.core.audio.augment import AugmentConfig, augment_audio, simulate_rooms, spec_augment
from audionet_gui.core.audio.files import audio_info, iter_audio_blocks, load_audio
from audionet_gui.core.audio.spectrogram import SpectrogramConfig, encode_indexed_png, spectrogram_indices
from audionet_gui.core.audio.vad import SPEECH_RULE, has_speech, resolve_gate, window_speech
from audionet_gui.core.audio.windows import WindowConfig, iter_windows
from audionet_gui.core.base.errors import AudioFileError, DatasetError
from audionet_gui.core.base.fields import setting
from audionet_gui.core.base.fsutil import (
    NotRegularFileError,
    atomic_write_bytes,
    atomic_write_json,
    atomic_write_text,
    file_sha256,
)
from audionet_gui.core.base.jobs import Cancelled, CancelToken, ProgressCallback, ProgressTracker, ensure_token
from audionet_gui.core.base.lifeline import stop_now, worker_lifeline
from audionet_gui.core.data.dataset import (
    BACKGROUND_CLASS,
    HIDDEN_REASON,
    DatasetSpec,
    SplitConfig,
    dataset_sources,
    hash_fraction,
    hidden_entries,
    plan_splits,
    time_split,
)
from audionet_gui.resources import resources_dir

WORKSPACE_FORMAT = 1
MANIFEST_FIELDS = ("image", "label", "split", "source", "start_s", "end_s", "augmented", "speech")
NOISE_BANK_SECONDS = 600.0  # of noise kept in each worker's memory (about 40 MB at 16 kHz)
ROOM_COUNT = 8              # simulated rooms per seed
BABBLE_FILES_PER_CLASS = 24  # training recordings of each class that babble may draw on
BABBLE_SECONDS_PER_CLASS = 20.0
BABBLE_SECONDS = 240.0       # in each worker's memory at most (15 MB at 16 kHz), shared by the classes


@dataclass(frozen=True)
class ManifestRow:
    image: str      # relative to the workspace
    label: str
    split: str
    source: str     # absolute path of the source audio
    start_s: float
    end_s: float
    augmented: int = 0  # 0 = the recording itself, k = its k-th augmented copy (training only)
    speech: bool = True  # the speech detector heard speech in the window (True when it was not run)


# Two augmented copies per training window (robustness bench, inception stand-in, PCEN: one copy -> two: 10 dB
# 66 -> 76 %, 5 dB 57 -> 68 %, room + microphone 39 -> 52 %, clean 97 -> 98 %; training time x1.34; DEVELOPERS.md)
DEFAULT_COPIES = 2


@dataclass(frozen=True)
class AugmentPlan:
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


@dataclass
class ConvertSummary:
    files: int = 0
    windows: int = 0
    seconds_of_audio: float = 0.0
    wall_seconds: float = 0.0
    failed: list[dict] = field(default_factory=list)  # {path, reason}
    skipped: list[dict] = field(default_factory=list)  # {path, reason}: left out on purpose (hidden names)
    cached: int = 0
    workspace: str = ""
    splits: dict = field(default_factory=dict)        # split -> windows
    classes: dict = field(default_factory=dict)       # label -> {files, windows}
    augmented_windows: int = 0                        # extra training images from augmentation
    gate: str = "energy"                              # the activity gate resolved for this data
    no_speech_windows: int = 0                        # class windows without speech left out of train/val

    def to_dict(self) -> dict:
        return {"gate": self.gate, "no_speech_windows": self.no_speech_windows,
                "files": self.files, "windows": self.windows, "seconds_of_audio": round(self.seconds_of_audio, 3),
                "wall_seconds": round(self.wall_seconds, 3), "failed": self.failed, "cached": self.cached,
                "workspace": self.workspace, "splits": self.splits, "classes": self.classes,
                "augmented_windows": self.augmented_windows, "skipped": self.skipped}


def config_key(spectrogram_cfg: SpectrogramConfig, window_cfg: WindowConfig) -> str:
    text = json.dumps({"spectrogram": spectrogram_cfg.to_dict(), "window": window_cfg.images_dict()}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


class _HashCache:
    """path -> content hash, trusted while size and mtime are unchanged."""

    def __init__(self, path: Path):
        self.path = path
        try:
            self.entries = json.loads(path.read_text())
        except (OSError, ValueError):
            self.entries = {}

    def digest(self, source: Path) -> str:
        st = source.stat()
        key = str(source)
        hit = self.entries.get(key)
        if hit and hit[0] == st.st_size and hit[1] == st.st_mtime_ns:
            return hit[2]
        digest = file_sha256(source)
        self.entries[key] = [st.st_size, st.st_mtime_ns, digest]
        return digest

    def save(self) -> None:
        atomic_write_json(self.path, self.entries, durable=False)


def _write_images(out: Path, images, colormap: str) -> None:
    """Write a source's window images into ``out``. No temporary names here: the folder counts only once its
    record (written atomically after the images) exists, so a crash half way leaves nothing that is used."""
    out.mkdir(parents=True, exist_ok=True)
    for fname, idx in images:
        with open(out / fname, "wb") as fh:
            fh.write(encode_indexed_png(idx, colormap))


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


def convert_source(source: str, out_dir: str | None, spectrogram: dict, window: dict,
                   augment: dict | None = None) -> dict:
    """Convert one audio file: window PNGs into ``out_dir`` (None: originals are cached already) and, with
    ``augment`` ({copies, seed, noise_files, digest, out_dir, label, rooms, babble, mic}), augmented copies into
    ``augment["out_dir"]``.
    Runs in worker processes: plain arguments only. Returns the record(s)."""

    spec_cfg = SpectrogramConfig.from_dict(spectrogram)
    win_cfg = WindowConfig.from_dict(window)
    sr = spec_cfg.sample_rate
    originals: list[tuple[str, np.ndarray]] = []
    copies: list[tuple[str, np.ndarray]] = []
    windows = []
    samples_read = 0

    def counted(blocks):
        nonlocal samples_read
        for block in blocks:
            samples_read += block.size
            yield block

    if augment:
        aug_cfg = AugmentConfig()
        bank = _noise_bank(tuple(augment["noise_files"]), sr)
        source_seed = int(augment["digest"][:12], 16)
        rooms = _room_bank(augment["rooms"]) if augment.get("rooms") else ()
        voices = _babble_bank(tuple(tuple(b) for b in augment.get("babble", ())), sr)
        pool = tuple(v for label, vs in sorted(voices.items()) if label != augment.get("label") for v in vs)
    vad = win_cfg.gate != "energy"  # the share of speech per window: the gate is decided and applied later
    for i, w in enumerate(iter_windows(counted(iter_audio_blocks(source, sr)), sr, win_cfg, source=source)):
        name = f"w{i:05d}"
        windows.append({"image": f"{name}.png", "start_s": round(w.start_s, 4), "end_s": round(w.end_s, 4)})
        if vad:
            windows[-1]["speech"] = window_speech(w.samples, sr, win_cfg.speech_threshold)
        if out_dir is not None:
            originals.append((f"{name}.png", spectrogram_indices(w.samples, spec_cfg)))
        for k in range(1, augment["copies"] + 1 if augment else 1):
            rng = np.random.default_rng([augment["seed"], source_seed, i, k])
            noisy = augment_audio(w.samples, sr, rng, aug_cfg, bank, rooms=rooms, babble_pool=pool,
                                  mic=bool(augment.get("mic")))
            idx = spectrogram_indices(noisy, spec_cfg)
            # masks painted with index 0: the colour of silence at the bottom of the dB range
            idx = spec_augment(idx[..., None], rng, aug_cfg.time_masks, aug_cfg.freq_masks, aug_cfg.max_time_mask,
                               aug_cfg.max_freq_mask, fill=np.zeros(1, np.uint8))[..., 0]
            copies.append((f"{name}_a{k}.png", idx))

    # Each folder's record is written after its images, by the worker: it marks the folder complete.
    record = {"windows": windows, "duration_s": samples_read / sr}
    if vad:
        record["speech_threshold"] = win_cfg.speech_threshold
        record["speech_rule"] = SPEECH_RULE
    if out_dir is not None:
        _write_images(Path(out_dir), originals, spec_cfg.colormap)
        atomic_write_json(f"{out_dir}.json", record, durable=False)
    if augment:
        aug_record = {"copies": augment["copies"],
                      "images": [[f"{Path(w['image']).stem}_a{k}.png" for k in range(1, augment["copies"] + 1)]
                                 for w in windows]}
        _write_images(Path(augment["out_dir"]), copies, spec_cfg.colormap)
        atomic_write_json(f"{augment['out_dir']}.json", aug_record, durable=False)
        record = dict(record, augmented=aug_record)
    return record


def _convert_or_error(source: str, out_dir: str | None, spectrogram: dict, window: dict,
                      augment: dict | None = None) -> tuple[str, dict]:
    try:
        return "ok", convert_source(source, out_dir, spectrogram, window, augment)
    except AudioFileError as exc:
        return "error", {"path": exc.path, "reason": exc.reason}
    except Exception as exc:
        return "error", {"path": source, "reason": f"could not be converted ({type(exc).__name__}: {exc})"}


def _record_complete(record_path: Path, images_dir: Path, kind: str, speech_threshold: float | None = None
                     ) -> dict | None:
    """The record of a cached conversion when it and all its images exist (and, with ``speech_threshold``, its
    windows' speech shares measured at that threshold), else None (convert again)."""
    try:
        record = json.loads(record_path.read_text())
        if speech_threshold is not None and (record.get("speech_threshold") != speech_threshold
                                             or record.get("speech_rule") != SPEECH_RULE):
            return None
        if kind == "windows":
            names = [w["image"] for w in record["windows"]]
        else:
            names = [n for per_window in record["images"] for n in per_window]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return record if all((images_dir / n).exists() for n in names) else None


def default_workers() -> int:
    return max(1, min(os.cpu_count() or 1, 8))


def convert_dataset(spec: DatasetSpec, workspace: Path | str, spectrogram_cfg: SpectrogramConfig = SpectrogramConfig(),
                    window_cfg: WindowConfig = WindowConfig(), progress: ProgressCallback | None = None,
                    cancel: CancelToken | None = None, workers: int | None = None,
                    split_cfg: SplitConfig = SplitConfig(), augment: AugmentPlan | None = None) -> ConvertSummary:
    """Convert every source of ``spec`` into ``workspace``; bad files are listed in ``failed`` and skipped."""
    cancel = ensure_token(cancel)
    started = time.monotonic()
    workspace = Path(workspace).absolute()
    workspace.mkdir(parents=True, exist_ok=True)
    sources = dataset_sources(spec)
    if not sources:
        raise DatasetError("no audio files found in the dataset's folders")
    if augment is not None and augment.copies < 1:
        augment = None
    key = config_key(spectrogram_cfg, window_cfg)
    cache_root = workspace / "cache" / key
    hashes = _HashCache(workspace / "hashes.json")
    summary = ConvertSummary(workspace=str(workspace))
    summary.skipped = [{"path": str(p), "reason": HIDDEN_REASON} for p in hidden_entries(spec)]
    tracker = ProgressTracker(progress, "converting", len(sources))

    digests: dict[Path, str] = {}
    for s in sources:
        cancel.raise_if_cancelled()
        try:
            digests[s.path] = hashes.digest(s.path)
        except NotRegularFileError as exc:  # a pipe would block and /dev/zero never end: a bad file, not a hang
            summary.failed.append({"path": str(s.path), "reason": exc.reason})
            tracker.advance(message=s.path.name)
        except OSError as exc:
            summary.failed.append({"path": str(s.path), "reason": f"cannot read file ({exc.strerror or exc})"})
            tracker.advance(message=s.path.name)
    aug_key, noise_files, rooms_file, babble, split_plan = None, (), None, [], {}
    if augment is not None:
        noise_files = tuple(str(Path(f).absolute()) for f in augment.noise_files)
        if augment.bundled_noise:
            noise_files += bundled_noise_files()
        if augment.use_background_class:
            noise_files += tuple(str(s.path) for s in sources if s.label == BACKGROUND_CLASS and s.path in digests)
        noise_ids = sorted(hashes.digest(Path(f)) if Path(f).is_file() else f for f in noise_files)
        split_plan = _planned_splits(sources, digests, cache_root, window_cfg, split_cfg, spec.test_dir is not None)
        if augment.babble:
            babble = _babble_segments(sources, split_plan, split_cfg, spec.test_dir is not None, augment.seed)
        if augment.room:
            rooms_file = _rooms_file(workspace, augment.seed, spectrogram_cfg.sample_rate)
        flags = {k: v for k, v in augment.to_dict().items() if k not in ("copies", "seed", "noise_files")}
        babble_ids = [[digests[Path(p)], label, fraction] for p, label, fraction in babble]
        aug_key = hashlib.sha256(json.dumps([augment.copies, augment.seed, noise_ids, _augment_params(), flags,
                                             babble_ids, ROOM_COUNT], sort_keys=True).encode()).hexdigest()[:12]
    hashes.save()

    vad_threshold = window_cfg.speech_threshold if window_cfg.gate != "energy" else None
    # source -> (originals dir, original record, augmented dir, augmented record), dirs relative to workspace
    records: dict[Path, tuple[str, dict, str | None, dict | None]] = {}
    todo: list[tuple[Path, Path | None, dict | None]] = []
    jobs: dict[Path, tuple[Path, Path | None]] = {}
    for s in sources:
        if s.path not in digests:
            continue
        digest = digests[s.path]
        images_dir = cache_root / digest[:2] / digest
        # copies only where they are used: files (or parts of files, "time") that train
        trains = split_plan.get(s.path, "train") in ("train", "time")
        aug_dir = images_dir.with_name(f"{digest}.aug-{aug_key}") if aug_key and trains else None
        record = _record_complete(images_dir.with_name(f"{digest}.json"), images_dir, "windows", vad_threshold)
        aug_record = _record_complete(aug_dir.with_name(aug_dir.name + ".json"), aug_dir, "augmented") \
            if aug_dir else None
        jobs[s.path] = (images_dir, aug_dir)
        if record is not None and (aug_dir is None or aug_record is not None):
            records[s.path] = (_rel(images_dir, workspace), record, _rel(aug_dir, workspace), aug_record)
            summary.cached += 1
            tracker.advance(message=s.path.name)
            continue
        aug_job = None
        if aug_dir is not None and aug_record is None:
            aug_job = {"copies": augment.copies, "seed": augment.seed, "noise_files": list(noise_files),
                       "digest": digest, "out_dir": str(aug_dir), "label": s.label, "mic": augment.mic,
                       "rooms": str(rooms_file) if rooms_file else None,
                       "babble": babble}  # all classes: one bank per worker; its own label is left out there
        todo.append((s.path, images_dir if record is None else None, aug_job))

    def finish(source: Path, images_dir: Path | None, aug_job: dict | None, status: str, payload: dict) -> None:
        tracker.advance(message=source.name)
        if status != "ok":
            summary.failed.append(payload)
            return
        base_dir, aug_dir = jobs[source]
        record = {k: payload[k] for k in ("windows", "duration_s", "speech_threshold", "speech_rule") if k in payload}
        aug_record = None
        if aug_dir is not None:  # made just now, or cached from an earlier run
            aug_record = payload.get("augmented") or _record_complete(
                aug_dir.with_name(aug_dir.name + ".json"), aug_dir, "augmented")
        records[source] = (_rel(base_dir, workspace), record, _rel(aug_dir, workspace), aug_record)

    spec_dict, win_dict = spectrogram_cfg.to_dict(), window_cfg.to_dict()
    args = lambda src, d, aug: (str(src), str(d) if d else None, spec_dict, win_dict, aug)  # noqa: E731
    n_workers = min(workers or default_workers(), len(todo))
    if n_workers <= 1 or len(todo) < 4:
        for src, d, aug in todo:
            cancel.raise_if_cancelled()
            finish(src, d, aug, *_convert_or_error(*args(src, d, aug)))
    else:
        _convert_parallel(todo, args, finish, n_workers, cancel)

    plan = plan_splits(sources, {src: r[1]["duration_s"] for src, r in records.items()}, window_cfg.window_s,
                       split_cfg, spec.test_dir is not None)
    summary.gate = resolved_gate(window_cfg.gate, sources, records, plan, split_cfg, spec.test_dir is not None)
    rows = _manifest_rows(sources, records, plan, split_cfg, spec.test_dir is not None, summary)
    write_manifest(workspace, rows)
    atomic_write_json(workspace / "workspace.json", {
        "format_version": WORKSPACE_FORMAT, "labels": spec.labels, "spectrogram": spectrogram_cfg.to_dict(),
        "window": window_cfg.to_dict(), "split": split_cfg.to_dict(), "dataset": spec.to_dict(),
        "augment": augment.to_dict() if augment else None, "config_key": key, "failed": summary.failed,
        "gate": summary.gate, "no_speech_windows": summary.no_speech_windows})
    summary.wall_seconds = time.monotonic() - started
    tracker.emit(force=True, message="done")
    return summary


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


def _rel(path: Path | None, workspace: Path) -> str | None:
    return path.relative_to(workspace).as_posix() if path is not None else None


def _window_splits(record: dict, file_split: str, split_cfg: SplitConfig, has_test_dir: bool):
    """(index, window, split) of a record's windows that fall in a split."""
    for i, w in enumerate(record["windows"]):
        split = file_split if file_split != "time" else time_split(
            w["start_s"], w["end_s"], record["duration_s"], split_cfg, has_test_dir)
        if split is not None:
            yield i, w, split


def resolved_gate(gate: str, sources, records, plan, split_cfg: SplitConfig, has_test_dir: bool) -> str:
    """"speech" or "energy": ``gate`` itself, or for "auto" what the training windows of the classes (not the
    background class) say (``vad.resolve_gate``)."""
    if gate != "auto":
        return gate
    counts: dict[str, list[int]] = {}
    for s in sources:
        if s.path not in records or s.label == BACKGROUND_CLASS:
            continue
        for _, w, split in _window_splits(records[s.path][1], plan[s.path], split_cfg, has_test_dir):
            if split == "train":
                c = counts.setdefault(s.label, [0, 0])
                c[0] += has_speech(w.get("speech"))
                c[1] += 1
    return resolve_gate({label: (c[0], c[1]) for label, c in counts.items()})


def _manifest_rows(sources, records, plan, split_cfg: SplitConfig, has_test_dir: bool,
                   summary: ConvertSummary) -> list[ManifestRow]:
    """Splits are decided here, not cached with the images, so split settings cost no reconversion. With the
    speech gate (``summary.gate``), a class's training and validation windows without speech are left out (the
    background class keeps all of its windows); test windows stay, marked, so the test measures "no speech"."""
    rows: list[ManifestRow] = []
    speech_gate = summary.gate == "speech"
    for s in sources:
        if s.path not in records:
            continue
        rel_dir, record, aug_dir, aug_record = records[s.path]
        file_split = plan[s.path]
        label_stats = summary.classes.setdefault(s.label, {"files": 0, "windows": 0})
        label_stats["files"] += 1
        summary.files += 1
        summary.seconds_of_audio += record["duration_s"]
        for i, w, split in _window_splits(record, file_split, split_cfg, has_test_dir):
            speech = has_speech(w.get("speech"))
            if speech_gate and not speech and s.label != BACKGROUND_CLASS and split in ("train", "val"):
                summary.no_speech_windows += 1
                label_stats["no_speech_windows"] = label_stats.get("no_speech_windows", 0) + 1
                continue
            rows.append(ManifestRow(f"{rel_dir}/{w['image']}", s.label, split, str(s.path), w["start_s"], w["end_s"],
                                    speech=speech))
            label_stats["windows"] += 1
            summary.windows += 1
            summary.splits[split] = summary.splits.get(split, 0) + 1
            if split == "train" and aug_record:
                for k, name in enumerate(aug_record["images"][i], start=1):
                    rows.append(ManifestRow(f"{aug_dir}/{name}", s.label, split, str(s.path), w["start_s"],
                                            w["end_s"], k))
                    summary.augmented_windows += 1
    return rows


def _convert_batch(jobs: list[tuple]) -> list[tuple[str, dict]]:
    return [_convert_or_error(*job) for job in jobs]


BATCH_BYTES = 4 << 20  # short clips travel to the workers in batches: one round trip per few MB of audio


def _batches(todo: list[tuple], n_workers: int) -> list[list[tuple]]:
    # small enough that every worker gets several batches (even load, prompt progress and cancel)
    limit = min(BATCH_BYTES, max(1, sum(_size(item[0]) for item in todo) // (n_workers * 8)))
    batches, current, size = [], [], 0
    for item in todo:
        current.append(item)
        size += _size(item[0])
        if size >= limit or len(current) >= 64:
            batches.append(current)
            current, size = [], 0
    if current:
        batches.append(current)
    return batches


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _convert_parallel(todo, args, finish, n_workers: int, cancel: CancelToken) -> None:
    # spawn, not fork: the GUI calls this from a thread of a Qt process, where fork is unsafe.
    ctx = multiprocessing.get_context("spawn")
    pending: dict[Future, list[tuple]] = {}
    queue = list(reversed(_batches(todo, n_workers)))
    try:
        # workers end with this process, even when it is killed with SIGKILL
        with ProcessPoolExecutor(max_workers=n_workers, mp_context=ctx, **worker_lifeline()) as pool:
            try:
                while queue or pending:
                    while queue and len(pending) < n_workers * 2:
                        batch = queue.pop()
                        pending[pool.submit(_convert_batch, [args(*item) for item in batch])] = batch
                    done, _ = wait(list(pending), timeout=0.2, return_when=FIRST_COMPLETED)
                    for fut in done:
                        batch = pending[fut]
                        results = fut.result()  # BrokenProcessPool if a worker died: the batch stays pending
                        del pending[fut]
                        for item, result in zip(batch, results):
                            finish(*item, *result)
                    cancel.raise_if_cancelled()
            except KeyboardInterrupt:  # Ctrl-C or SIGTERM: stop the workers now, not after their batches
                stop_now(pool)
                raise
            except BaseException:
                for fut in pending:
                    fut.cancel()
                pool.shutdown(wait=True, cancel_futures=True)
                raise
    except BrokenProcessPool:
        # A worker process died (out of memory, killed, no way to start one): finish here, one file at a time,
        # so the job still completes and a file that crashes a decoder is the only one reported.
        for batch in list(pending.values()) + list(reversed(queue)):
            for item in batch:
                cancel.raise_if_cancelled()
                finish(*item, *_convert_or_error(*args(*item)))


def write_manifest(workspace: Path, rows: list[ManifestRow]) -> None:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(MANIFEST_FIELDS)
    for r in rows:
        writer.writerow([r.image, r.label, r.split, r.source, f"{r.start_s:.4f}", f"{r.end_s:.4f}", r.augmented,
                         int(r.speech)])
    atomic_write_text(Path(workspace) / "manifest.csv", buf.getvalue())


def load_manifest(workspace: Path | str) -> list[ManifestRow]:
    path = Path(workspace) / "manifest.csv"
    try:
        with open(path, newline="", encoding="utf-8") as fh:
            return [ManifestRow(r["image"], r["label"], r["split"], r["source"], float(r["start_s"]), float(r["end_s"]),
                                int(r.get("augmented") or 0), (r.get("speech") or "1") != "0")
                    for r in csv.DictReader(fh)]
    except FileNotFoundError as exc:
        raise DatasetError(f"{path}: no manifest; convert the dataset first") from exc
    except (KeyError, ValueError) as exc:
        raise DatasetError(f"{path}: damaged manifest ({exc})") from exc


def load_workspace_info(workspace: Path | str) -> dict:
    path = Path(workspace) / "workspace.json"
    try:
        return json.loads(path.read_text())
    except FileNotFoundError as exc:
        raise DatasetError(f"{path}: not a workspace; convert the dataset first") from exc
    except ValueError as exc:
        raise DatasetError(f"{path}: damaged workspace file ({exc})") from exc


__all__ = ["AugmentPlan", "ConvertSummary", "ManifestRow", "convert_dataset", "convert_source", "load_manifest",
           "load_workspace_info", "write_manifest", "config_key", "Cancelled"]
