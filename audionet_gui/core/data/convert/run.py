"""``convert_dataset``: a dataset -> a workspace of window images (PNG) and its manifest, cached by content."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from audionet_gui.core.audio.spectrogram import SpectrogramConfig
from audionet_gui.core.audio.vad import has_speech, resolve_gate
from audionet_gui.core.audio.windows import WindowConfig
from audionet_gui.core.base.errors import DatasetError
from audionet_gui.core.base.fsutil import NotRegularFileError, atomic_write_json
from audionet_gui.core.base.jobs import CancelToken, ProgressCallback, ProgressTracker, ensure_token
from audionet_gui.core.data.convert.augmentation import AugmentPlan, plan_copies
from audionet_gui.core.data.convert.cache import _HashCache, _record_complete, config_key
from audionet_gui.core.data.convert.manifest import WORKSPACE_FORMAT, ManifestRow, write_manifest
from audionet_gui.core.data.convert.workers import convert_all
from audionet_gui.core.data.dataset import (
    BACKGROUND_CLASS,
    HIDDEN_REASON,
    DatasetSpec,
    SplitConfig,
    dataset_sources,
    hidden_entries,
    plan_splits,
    time_split,
)


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


def convert_dataset(spec: DatasetSpec, workspace: Path | str, spectrogram_cfg: SpectrogramConfig = SpectrogramConfig(),
                    window_cfg: WindowConfig = WindowConfig(), progress: ProgressCallback | None = None,
                    cancel: CancelToken | None = None, workers: int | None = None,
                    split_cfg: SplitConfig = SplitConfig(), augment: AugmentPlan | None = None) -> ConvertSummary:
    """Convert every source of ``spec`` into ``workspace``; bad files are listed in ``failed`` and skipped.

    Workspace layout::

        WORKSPACE/workspace.json          configs, classes, split settings (what the manifest was made with)
        WORKSPACE/manifest.csv            image,label,split,source,start_s,end_s  (image relative to WORKSPACE)
        WORKSPACE/cache/<config>/<hh>/<sha256>/w0000.png ...   one folder of window images per source content
        WORKSPACE/cache/<config>/<hh>/<sha256>.json            its record, written last: marks it complete
        WORKSPACE/cache/<config>/<hh>/<sha256>.aug-<key>/...   augmented copies of its windows (and their record)
        WORKSPACE/hashes.json             path, size, mtime -> content hash, so unchanged files are not re-read

    A source is keyed by its content and by the window + spectrogram configuration, so re-running skips
    unchanged sources, a renamed file is not converted twice, and a settings change converts again next to the
    old images. Source files are only ever read. A cancelled run keeps what it finished; the manifest is
    replaced only by a completed run. Augmentation: ``AugmentPlan``; the activity gate: ``resolved_gate``."""
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
    copy_plan = None if augment is None else plan_copies(
        augment, sources, digests, hashes, workspace, cache_root, spectrogram_cfg.sample_rate, window_cfg,
        split_cfg, spec.test_dir is not None)
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
        aug_dir = copy_plan.copies_dir(s.path, images_dir, digest) if copy_plan is not None else None
        record = _record_complete(images_dir.with_name(f"{digest}.json"), images_dir, "windows", vad_threshold)
        aug_record = _record_complete(aug_dir.with_name(aug_dir.name + ".json"), aug_dir, "augmented") \
            if aug_dir else None
        jobs[s.path] = (images_dir, aug_dir)
        if record is not None and (aug_dir is None or aug_record is not None):
            records[s.path] = (_rel(images_dir, workspace), record, _rel(aug_dir, workspace), aug_record)
            summary.cached += 1
            tracker.advance(message=s.path.name)
            continue
        aug_job = copy_plan.job(digest, aug_dir, s.label) if aug_dir is not None and aug_record is None else None
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
    convert_all(todo, args, finish, workers, cancel)

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
    background class) say (``vad.resolve_gate``).

    The activity gate (``WindowConfig.gate``): unless it is "energy", the workers also measure each window's
    share of speech (Silero VAD, core/audio/vad.py, about 16 ms a window) and keep it in the source's record, next
    to the images and cached with them (the gate and the speech threshold are not part of the image key:
    switching the gate costs no reconversion). "auto" is then resolved once from the training windows (here);
    with the speech gate a class's training and validation windows without speech are left out of the manifest
    (the background class keeps all of its windows) and counted (``ConvertSummary.no_speech_windows``); test
    windows stay, marked ``speech``."""
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
