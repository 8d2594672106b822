"""Datasets: classes made of folders (and loose files) of audio, their report, and the train/val/test split.

The split is by SOURCE FILE, decided by a stable hash of the file's path relative to its class folder:
windows of one recording never straddle splits, and adding files never moves the ones already there.
A class with too few files to split that way (say one 30-second enrolment) is split inside each
recording by time instead: the first 70 % trains, the next 15 % validates, the last 15 % tests, and a
window that would straddle two parts is dropped, so no audio is in two splits.
An explicit test folder overrides the hash: its files are the test split, the rest is train/val.
"""

from __future__ import annotations

import hashlib
import os
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from audionet_gui.core.audio.files import SUPPORTED_EXTENSIONS, audio_info, is_audio_file
from audionet_gui.core.audio.windows import WindowConfig
from audionet_gui.core.base.errors import AudioFileError, DatasetError
from audionet_gui.core.base.fsutil import file_sha256, is_regular_file
from audionet_gui.core.base.jobs import CancelToken, ProgressCallback, ProgressTracker, ensure_token
from audionet_gui.core.base.words import count

SPLITS = ("train", "val", "test")
# The class of "nobody speaking" (Speech Commands' and Teachable Machine's folder name). Its recordings are
# also the background noise that augmentation mixes under the other classes.
BACKGROUND_CLASS = "_background_noise_"


@dataclass
class ClassSpec:
    name: str
    folders: list[Path] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)  # loose files dropped in one by one
    excluded: list[Path] = field(default_factory=list)  # files of its folders left out (a project setting)

    def to_dict(self) -> dict:
        return {"name": self.name, "folders": [str(p) for p in self.folders], "files": [str(p) for p in self.files],
                "excluded": [str(p) for p in self.excluded]}

    @classmethod
    def from_dict(cls, data: dict) -> ClassSpec:
        return cls(data["name"], [Path(p) for p in data.get("folders", [])], [Path(p) for p in data.get("files", [])],
                   [Path(p) for p in data.get("excluded", [])])


@dataclass
class SplitConfig:
    val_fraction: float = 0.15
    test_fraction: float = 0.15
    min_files_for_file_split: int = 5   # fewer files than this: split each recording by time
    salt: str = ""                      # change to draw a different (still stable) split

    def to_dict(self) -> dict:
        return dict(vars(self))

    @classmethod
    def from_dict(cls, data: dict) -> SplitConfig:
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})


@dataclass
class DatasetSpec:
    classes: list[ClassSpec]
    test_dir: Path | None = None  # root whose subfolders (named like the classes) hold the test files
    hidden: list[Path] = field(default_factory=list)  # hidden folders with audio under the root: left out, reported

    @classmethod
    def from_root(cls, root: Path | str, test_dir: Path | str | None = None) -> DatasetSpec:
        """Every subfolder of ``root`` that holds audio (at any depth) is a class named after it."""
        root = Path(root)
        if not root.is_dir():
            raise DatasetError(f"{root}: not a folder")
        folders = [d for d in sorted(root.iterdir(), key=lambda p: p.name.lower()) if d.is_dir() and _has_audio(d)]
        classes = [ClassSpec(d.name, [d]) for d in folders if not d.name.startswith(".")]
        hidden = [d for d in folders if d.name.startswith(".")]
        if not classes:
            raise DatasetError(f"{root}: no class folders with audio in it (expected one subfolder per class)"
                               + (f"; hidden folders are left out: {', '.join(d.name for d in hidden)}"
                                  if hidden else ""))
        return cls(classes, Path(test_dir) if test_dir else None, hidden)

    @property
    def labels(self) -> list[str]:
        return [c.name for c in self.classes]

    def to_dict(self) -> dict:
        return {"classes": [c.to_dict() for c in self.classes],
                "test_dir": str(self.test_dir) if self.test_dir else None}

    @classmethod
    def from_dict(cls, data: dict) -> DatasetSpec:
        test = data.get("test_dir")
        return cls([ClassSpec.from_dict(c) for c in data.get("classes", [])], Path(test) if test else None)


@dataclass(frozen=True)
class SourceFile:
    path: Path           # absolute
    label: str
    relpath: str         # relative to its class folder (posix), the key of the hash split
    fixed_split: str | None = None  # "test" for files of an explicit test folder


def class_subfolders(folder: Path | str) -> list[Path]:
    """The subfolders of ``folder`` that hold audio, when ``folder`` holds no audio file of its own: a folder of
    speaker folders, as ``audionet train DATA_DIR`` reads it (one class per subfolder). Else []."""
    folder = Path(folder)
    if not folder.is_dir() or any(is_audio_file(f) for f in folder.iterdir() if f.is_file()):
        return []
    return [d for d in sorted(folder.iterdir(), key=lambda p: p.name.lower())
            if d.is_dir() and not d.name.startswith(".") and _has_audio(d)]


def _has_audio(folder: Path) -> bool:
    return any(is_audio_file(Path(dp) / f) for dp, _, fs in os.walk(folder) for f in fs)


HIDDEN_REASON = "hidden (its name starts with '.'), left out; rename it to use it"


def hidden_entries(spec: DatasetSpec) -> list[Path]:
    """What the dataset leaves out because it is hidden, so it can be said: hidden class folders of the root, and
    inside each class folder hidden folders holding audio and hidden files with an audio name."""
    out = list(spec.hidden)
    for c in spec.classes:
        for folder in c.folders:
            for dirpath, dirnames, filenames in os.walk(folder):
                here = Path(dirpath)
                out.extend(here / d for d in sorted(dirnames) if d.startswith(".") and _has_audio(here / d))
                dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
                out.extend(here / f for f in sorted(filenames)
                           if f.startswith(".") and Path(f).suffix.lower() in SUPPORTED_EXTENSIONS)
    return out


def _walk_audio(folder: Path) -> list[Path]:
    found = []
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        found.extend(Path(dirpath) / f for f in sorted(filenames) if is_audio_file(f))
    return found


def class_sources(spec: ClassSpec) -> list[SourceFile]:
    """The audio files of one class, each once, in a stable order; its excluded files are left out."""
    seen: set[Path] = {Path(p).absolute() for p in spec.excluded}
    out: list[SourceFile] = []
    for folder in spec.folders:
        folder = Path(folder).absolute()
        for path in _walk_audio(folder):
            if path not in seen:
                seen.add(path)
                out.append(SourceFile(path, spec.name, path.relative_to(folder).as_posix()))
    for path in spec.files:
        path = Path(path).absolute()
        if path not in seen:
            seen.add(path)
            out.append(SourceFile(path, spec.name, path.name))
    return out


def dataset_sources(spec: DatasetSpec) -> list[SourceFile]:
    sources = [s for c in spec.classes for s in class_sources(c)]
    if spec.test_dir is not None:
        labels = set(spec.labels)
        excluded = {Path(p).absolute() for c in spec.classes for p in c.excluded}
        test_root = Path(spec.test_dir)
        if not test_root.is_dir():
            raise DatasetError(f"{test_root}: test folder does not exist")
        for sub in sorted(test_root.iterdir()):
            if sub.is_dir() and not sub.name.startswith(".") and _has_audio(sub):
                if sub.name not in labels:
                    raise DatasetError(f"{sub}: test class '{sub.name}' is not one of the classes "
                                       f"({', '.join(sorted(labels))})")
                for s in class_sources(ClassSpec(sub.name, [sub], excluded=sorted(excluded))):
                    sources.append(SourceFile(s.path, s.label, s.relpath, fixed_split="test"))
    return sources


def hash_fraction(key: str, salt: str = "") -> float:
    """A stable number in [0, 1) for a key: the same on every machine and Python version."""
    digest = hashlib.sha256(f"{salt}\x00{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2.0 ** 64


def assign_split(relpath: str, cfg: SplitConfig = SplitConfig(), has_test_dir: bool = False) -> str:
    """train / val / test for one source file from its path relative to the class folder."""
    u = hash_fraction(relpath, cfg.salt)
    if has_test_dir:  # the test folder is the test split; the rest is shared by train and val
        return "val" if u < cfg.val_fraction / max(1e-9, 1 - cfg.test_fraction) else "train"
    if u < cfg.test_fraction:
        return "test"
    if u < cfg.test_fraction + cfg.val_fraction:
        return "val"
    return "train"


def time_split(start_s: float, end_s: float, duration_s: float, cfg: SplitConfig = SplitConfig(),
               has_test_dir: bool = False) -> str | None:
    """The split of a window by its place in a recording (classes with few files); None = straddles, drop it."""
    test = 0.0 if has_test_dir else cfg.test_fraction
    b1 = (1.0 - cfg.val_fraction - test) * duration_s
    b2 = (1.0 - test) * duration_s
    if end_s <= b1 + 1e-6:
        return "train"
    if start_s >= b1 - 1e-6 and end_s <= b2 + 1e-6:
        return "val"
    if start_s >= b2 - 1e-6:
        return "test"
    return None


TIME_SPLIT_MIN_WINDOWS = 10  # a recording shorter than this many windows cannot be cut into three parts


def plan_splits(sources: Sequence[SourceFile], durations: dict[Path, float], window_s: float,
                cfg: SplitConfig = SplitConfig(), has_test_dir: bool = False) -> dict[Path, str]:
    """The split of every source: "train" / "val" / "test", or "time" to split its windows by time.

    Classes with at least ``min_files_for_file_split`` files are split by file hash; then, for classes of
    three or more files, a split left empty by chance takes the file whose hash lies nearest to it, so every
    class can be validated and tested. Classes with fewer files are split inside their long recordings.
    """
    by_class: dict[str, list[SourceFile]] = defaultdict(list)
    plan: dict[Path, str] = {}
    for s in sources:
        if s.fixed_split is not None:
            plan[s.path] = s.fixed_split
        elif s.path in durations:
            by_class[s.label].append(s)
    for files in by_class.values():
        if len(files) < cfg.min_files_for_file_split:
            for s in files:
                long_enough = durations[s.path] >= TIME_SPLIT_MIN_WINDOWS * window_s
                plan[s.path] = "time" if long_enough else assign_split(s.relpath, cfg, has_test_dir)
            continue
        ranked = sorted(files, key=lambda s: hash_fraction(s.relpath, cfg.salt))
        splits = {s.path: assign_split(s.relpath, cfg, has_test_dir) for s in ranked}
        wanted = ["train", "val"] if has_test_dir else ["train", "test", "val"]
        for split in wanted:
            if split in splits.values():
                continue
            # test takes from the low end of the hash order, val next, train from the high end
            order = reversed(ranked) if split == "train" else iter(ranked)
            donors = [s for s in order if list(splits.values()).count(splits[s.path]) > 1]
            if donors:
                splits[donors[0].path] = split
        plan.update(splits)
    return plan


# ---------------------------------------------------------------------------------------------- report

MIN_USEFUL_SECONDS = 20.0   # less audio than this per class rarely generalises
MIN_USEFUL_FILES = 1
# Clips shorter than a window under the "stream" rule are judged by how many there are, not by their seconds:
# each is one utterance seen at several places, and variety of utterances is what generalises. Ten short clips
# per class is the floor we advise (Teachable Machine's audio project asks for at least eight).
MIN_USEFUL_SHORT_CLIPS = 10
IMBALANCE_RATIO = 4.0       # largest class has this many times the audio of the smallest


@dataclass
class ClassReport:
    name: str
    files: int = 0
    duration_s: float = 0.0
    unreadable: list[tuple[str, str]] = field(default_factory=list)  # (path, reason)
    warnings: list[str] = field(default_factory=list)
    short_clips: int = 0  # readable files shorter than a window (only counted when the scan knows the window)

    def to_dict(self) -> dict:
        return {"name": self.name, "files": self.files, "duration_s": round(self.duration_s, 3),
                "unreadable": [{"path": p, "reason": r} for p, r in self.unreadable], "warnings": self.warnings,
                "short_clips": self.short_clips}

    @property
    def mostly_short(self) -> bool:
        return self.files > 0 and 2 * self.short_clips >= self.files


@dataclass
class DatasetReport:
    classes: list[ClassReport]
    warnings: list[str] = field(default_factory=list)
    test_files: int = 0

    @property
    def total_files(self) -> int:
        return sum(c.files for c in self.classes)

    @property
    def total_duration_s(self) -> float:
        return sum(c.duration_s for c in self.classes)

    def to_dict(self) -> dict:
        return {"classes": [c.to_dict() for c in self.classes], "warnings": self.warnings,
                "test_files": self.test_files, "files": self.total_files,
                "duration_s": round(self.total_duration_s, 3)}


def find_duplicates(sources: Iterable[SourceFile]) -> list[tuple[str, list[SourceFile]]]:
    """Groups of identical files (by content) that sit in more than one class.

    Only files whose sizes collide are hashed, so a large dataset costs one stat per file.
    """
    by_size: dict[int, list[SourceFile]] = defaultdict(list)
    for s in sources:
        if not is_regular_file(s.path):
            continue  # never hashed: a pipe blocks, a device never ends (the scan reports them as bad files)
        try:
            by_size[s.path.stat().st_size].append(s)
        except OSError:
            continue
    groups = []
    for same_size in by_size.values():
        if len({s.label for s in same_size}) < 2:
            continue
        by_digest: dict[str, list[SourceFile]] = defaultdict(list)
        for s in same_size:
            try:
                by_digest[file_sha256(s.path)].append(s)
            except OSError:
                continue
        groups.extend((d, g) for d, g in by_digest.items() if len({s.label for s in g}) > 1)
    return groups


def scan_dataset(spec: DatasetSpec, progress: ProgressCallback | None = None,
                 cancel: CancelToken | None = None, window: WindowConfig | None = None) -> DatasetReport:
    """Per class: files, total duration, unreadable files and warnings. Reads headers, not whole files.

    With ``window`` (how the audio will be cut), a class made mostly of clips shorter than a window under the
    "stream" rule is judged by its number of clips instead of its seconds of audio."""
    cancel = ensure_token(cancel)
    if not spec.classes:
        raise DatasetError("the dataset has no classes yet: add one folder per speaker or sound")
    names = [c.name for c in spec.classes]
    dupe_names = sorted({n for n in names if names.count(n) > 1})
    sources = dataset_sources(spec)
    reports = {c.name: ClassReport(c.name) for c in spec.classes}
    tracker = ProgressTracker(progress, "scanning", len(sources))
    test_files = 0
    for s in sources:
        cancel.raise_if_cancelled()
        if s.fixed_split == "test":
            test_files += 1
            tracker.advance(message=s.path.name)
            continue
        rep = reports[s.label]
        try:
            info = audio_info(s.path)
            if info.duration_s <= 0:
                raise AudioFileError(s.path, "contains no audio samples")
            rep.files += 1
            rep.duration_s += info.duration_s
            if window is not None and info.duration_s < window.window_s:
                rep.short_clips += 1
        except AudioFileError as exc:
            rep.unreadable.append((exc.path, exc.reason))
        tracker.advance(message=s.path.name)

    warnings: list[str] = [f"{path}: {HIDDEN_REASON}" for path in hidden_entries(spec)]
    if dupe_names:
        warnings.append(f"class names used twice: {', '.join(dupe_names)}")
    if len(spec.classes) < 2:
        warnings.append("a classifier needs at least two classes (add a 'background noise' class for one speaker)")
    by_clips = window is not None and window.short_clip == "stream"
    short = {name for name, r in reports.items() if by_clips and r.mostly_short}
    # classes are compared by clips when all of them are short-clip classes, else by seconds of audio
    amounts = {name: (r.files if short and len(short) == len(reports) else r.duration_s)
               for name, r in reports.items()}
    largest = max((a for a in amounts.values() if a > 0), default=0)
    for name, r in reports.items():
        if r.files < MIN_USEFUL_FILES:
            r.warnings.append("no readable audio")
        elif name in short:
            if r.files < MIN_USEFUL_SHORT_CLIPS:
                r.warnings.append(f"too little audio: {count(r.files, 'short clip')} ({MIN_USEFUL_SHORT_CLIPS} or "
                                  "more work better)")
        elif r.duration_s < MIN_USEFUL_SECONDS:
            r.warnings.append(f"too little audio ({r.duration_s:.1f} s; {MIN_USEFUL_SECONDS:.0f} s or more works "
                              "better)")
        if largest and amounts[name] > 0 and largest / amounts[name] >= IMBALANCE_RATIO:
            what = "fewer clips" if short and len(short) == len(reports) else "less audio"
            r.warnings.append(f"imbalanced: {largest / amounts[name]:.1f}x {what} than the largest class")
    for _, group in find_duplicates([s for s in sources if s.fixed_split is None]):
        labels = sorted({s.label for s in group})
        names_in = ", ".join(f"{s.label}/{s.relpath}" for s in group)
        for label in labels:
            reports[label].warnings.append(f"the same file is in classes {', '.join(labels)}: {names_in}")
    tracker.emit(force=True)
    return DatasetReport([reports[c.name] for c in spec.classes], warnings, test_files)
