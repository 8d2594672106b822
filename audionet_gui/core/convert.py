"""Dataset -> workspace of window images (PNG) and a manifest, cached by content, on every core.

Workspace layout::

    WORKSPACE/workspace.json          configs, classes, split settings (what the manifest was made with)
    WORKSPACE/manifest.csv            image,label,split,source,start_s,end_s  (image relative to WORKSPACE)
    WORKSPACE/cache/<config>/<hh>/<sha256>/w0000.png ...   one folder of window images per source content
    WORKSPACE/cache/<config>/<hh>/<sha256>.json            its record, written last: marks it complete
    WORKSPACE/hashes.json             path, size, mtime -> content hash, so unchanged files are not re-read

A source is keyed by its content and by the window + spectrogram configuration, so re-running skips unchanged
sources, a renamed file is not converted twice, and a settings change converts again next to the old images.
Source files are only ever read. A cancelled run keeps what it finished; the manifest is replaced only by a
completed run.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import multiprocessing
import os
import shutil
import tempfile
import time
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from .dataset import DatasetSpec, SplitConfig, dataset_sources, plan_splits, time_split
from .errors import AudioFileError, DatasetError
from .fsutil import atomic_write_json, atomic_write_text
from .jobs import Cancelled, CancelToken, ProgressCallback, ProgressTracker, ensure_token
from .spectrogram import SpectrogramConfig, encode_indexed_png, spectrogram_indices
from .audio import iter_audio_blocks
from .windows import WindowConfig, iter_windows

WORKSPACE_FORMAT = 1
MANIFEST_FIELDS = ("image", "label", "split", "source", "start_s", "end_s")


@dataclass(frozen=True)
class ManifestRow:
    image: str      # relative to the workspace
    label: str
    split: str
    source: str     # absolute path of the source audio
    start_s: float
    end_s: float


@dataclass
class ConvertSummary:
    files: int = 0
    windows: int = 0
    seconds_of_audio: float = 0.0
    wall_seconds: float = 0.0
    failed: list[dict] = field(default_factory=list)  # {path, reason}
    cached: int = 0
    workspace: str = ""
    splits: dict = field(default_factory=dict)        # split -> windows
    classes: dict = field(default_factory=dict)       # label -> {files, windows}

    def to_dict(self) -> dict:
        return {"files": self.files, "windows": self.windows, "seconds_of_audio": round(self.seconds_of_audio, 3),
                "wall_seconds": round(self.wall_seconds, 3), "failed": self.failed, "cached": self.cached,
                "workspace": self.workspace, "splits": self.splits, "classes": self.classes}


def config_key(spectrogram_cfg: SpectrogramConfig, window_cfg: WindowConfig) -> str:
    text = json.dumps({"spectrogram": spectrogram_cfg.to_dict(), "window": window_cfg.to_dict()}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def file_digest(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


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
        digest = file_digest(source)
        self.entries[key] = [st.st_size, st.st_mtime_ns, digest]
        return digest

    def save(self) -> None:
        atomic_write_json(self.path, self.entries)


def convert_source(source: str, out_dir: str, spectrogram: dict, window: dict) -> dict:
    """Convert one audio file into ``out_dir`` (a folder of window PNGs made under a temporary name and
    renamed into place) and return its record. Runs in worker processes: plain arguments only."""
    spec_cfg = SpectrogramConfig.from_dict(spectrogram)
    win_cfg = WindowConfig.from_dict(window)
    out = Path(out_dir)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".partial", dir=out.parent))
    try:
        windows = []
        samples_read = 0

        def counted(blocks):
            nonlocal samples_read
            for block in blocks:
                samples_read += block.size
                yield block

        blocks = counted(iter_audio_blocks(source, spec_cfg.sample_rate))
        for w in iter_windows(blocks, spec_cfg.sample_rate, win_cfg, source=source):
            name = f"w{len(windows):05d}.png"
            (tmp / name).write_bytes(encode_indexed_png(spectrogram_indices(w.samples, spec_cfg), spec_cfg.colormap))
            windows.append({"image": name, "start_s": round(w.start_s, 4), "end_s": round(w.end_s, 4)})
        duration = samples_read / spec_cfg.sample_rate
        if out.exists():
            shutil.rmtree(out)
        os.replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return {"windows": windows, "duration_s": duration}


def _convert_or_error(source: str, out_dir: str, spectrogram: dict, window: dict) -> tuple[str, dict]:
    try:
        return "ok", convert_source(source, out_dir, spectrogram, window)
    except AudioFileError as exc:
        return "error", {"path": exc.path, "reason": exc.reason}
    except Exception as exc:  # noqa: BLE001 - one bad file must not stop the job
        return "error", {"path": source, "reason": f"could not be converted ({type(exc).__name__}: {exc})"}


def _record_complete(record_path: Path, images_dir: Path) -> Optional[dict]:
    try:
        record = json.loads(record_path.read_text())
    except (OSError, ValueError):
        return None
    if all((images_dir / w["image"]).exists() for w in record.get("windows", [])):
        return record
    return None


def default_workers() -> int:
    return max(1, min(os.cpu_count() or 1, 8))


def convert_dataset(spec: DatasetSpec, workspace: Path | str, spectrogram_cfg: SpectrogramConfig = SpectrogramConfig(),
                    window_cfg: WindowConfig = WindowConfig(), progress: Optional[ProgressCallback] = None,
                    cancel: Optional[CancelToken] = None, workers: Optional[int] = None,
                    split_cfg: SplitConfig = SplitConfig()) -> ConvertSummary:
    """Convert every source of ``spec`` into ``workspace``; bad files are listed in ``failed`` and skipped."""
    cancel = ensure_token(cancel)
    started = time.monotonic()
    workspace = Path(workspace).absolute()
    workspace.mkdir(parents=True, exist_ok=True)
    sources = dataset_sources(spec)
    if not sources:
        raise DatasetError("no audio files found in the dataset's folders")
    key = config_key(spectrogram_cfg, window_cfg)
    cache_root = workspace / "cache" / key
    hashes = _HashCache(workspace / "hashes.json")
    summary = ConvertSummary(workspace=str(workspace))
    tracker = ProgressTracker(progress, "converting", len(sources))

    records: dict[Path, tuple[str, dict]] = {}   # source -> (images dir relative to workspace, record)
    todo: list[tuple[Path, Path, Path]] = []      # (source, images dir, record path)
    for s in sources:
        cancel.raise_if_cancelled()
        try:
            digest = hashes.digest(s.path)
        except OSError as exc:
            summary.failed.append({"path": str(s.path), "reason": f"cannot read file ({exc.strerror or exc})"})
            tracker.advance(message=s.path.name)
            continue
        images_dir = cache_root / digest[:2] / digest
        record_path = images_dir.with_suffix(".json")
        record = _record_complete(record_path, images_dir)
        if record is not None:
            records[s.path] = (images_dir.relative_to(workspace).as_posix(), record)
            summary.cached += 1
            tracker.advance(message=s.path.name)
        else:
            todo.append((s.path, images_dir, record_path))
    hashes.save()

    def finish(source: Path, images_dir: Path, record_path: Path, status: str, payload: dict) -> None:
        if status == "ok":
            atomic_write_json(record_path, payload)
            records[source] = (images_dir.relative_to(workspace).as_posix(), payload)
        else:
            summary.failed.append(payload)
        tracker.advance(message=source.name)

    args = lambda src, d: (str(src), str(d), spectrogram_cfg.to_dict(), window_cfg.to_dict())  # noqa: E731
    n_workers = min(workers or default_workers(), len(todo))
    if n_workers <= 1 or len(todo) < 4:
        for src, d, rec in todo:
            cancel.raise_if_cancelled()
            finish(src, d, rec, *_convert_or_error(*args(src, d)))
    else:
        _convert_parallel(todo, args, finish, n_workers, cancel)

    # Manifest: splits are decided here, not cached with the images, so split settings cost no reconversion.
    durations = {src: rec["duration_s"] for src, (_, rec) in records.items()}
    plan = plan_splits(sources, durations, window_cfg.window_s, split_cfg, spec.test_dir is not None)
    rows: list[ManifestRow] = []
    for s in sources:
        if s.path not in records:
            continue
        rel_dir, record = records[s.path]
        file_split = plan[s.path]
        label_stats = summary.classes.setdefault(s.label, {"files": 0, "windows": 0})
        label_stats["files"] += 1
        summary.files += 1
        summary.seconds_of_audio += record["duration_s"]
        for w in record["windows"]:
            split = file_split if file_split != "time" else time_split(
                w["start_s"], w["end_s"], record["duration_s"], split_cfg, spec.test_dir is not None)
            if split is None:
                continue
            rows.append(ManifestRow(f"{rel_dir}/{w['image']}", s.label, split, str(s.path), w["start_s"], w["end_s"]))
            label_stats["windows"] += 1
            summary.splits[split] = summary.splits.get(split, 0) + 1
    summary.windows = len(rows)
    write_manifest(workspace, rows)
    atomic_write_json(workspace / "workspace.json", {
        "format_version": WORKSPACE_FORMAT, "labels": spec.labels, "spectrogram": spectrogram_cfg.to_dict(),
        "window": window_cfg.to_dict(), "split": split_cfg.to_dict(), "dataset": spec.to_dict(),
        "config_key": key, "failed": summary.failed})
    summary.wall_seconds = time.monotonic() - started
    tracker.emit(force=True, message="done")
    return summary


def _convert_batch(jobs: list[tuple[str, str, dict, dict]]) -> list[tuple[str, dict]]:
    return [_convert_or_error(*job) for job in jobs]


BATCH_BYTES = 4 << 20  # short clips travel to the workers in batches: one round trip per few MB of audio


def _batches(todo: list[tuple[Path, Path, Path]], n_workers: int) -> list[list[tuple[Path, Path, Path]]]:
    # small enough that every worker gets several batches (even load, prompt progress and cancel)
    limit = min(BATCH_BYTES, max(1, sum(_size(src) for src, _, _ in todo) // (n_workers * 8)))
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
    pending: dict[Future, list[tuple[Path, Path, Path]]] = {}
    queue = list(reversed(_batches(todo, n_workers)))
    with ProcessPoolExecutor(max_workers=n_workers, mp_context=ctx) as pool:
        try:
            while queue or pending:
                while queue and len(pending) < n_workers * 2:
                    batch = queue.pop()
                    pending[pool.submit(_convert_batch, [args(src, d) for src, d, _ in batch])] = batch
                done, _ = wait(list(pending), timeout=0.2, return_when=FIRST_COMPLETED)
                for fut in done:
                    batch = pending.pop(fut)
                    for (src, d, rec), result in zip(batch, fut.result()):
                        finish(src, d, rec, *result)
                cancel.raise_if_cancelled()
        except BaseException:
            for fut in pending:
                fut.cancel()
            pool.shutdown(wait=True, cancel_futures=True)
            raise


def write_manifest(workspace: Path, rows: list[ManifestRow]) -> None:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(MANIFEST_FIELDS)
    for r in rows:
        writer.writerow([r.image, r.label, r.split, r.source, f"{r.start_s:.4f}", f"{r.end_s:.4f}"])
    atomic_write_text(Path(workspace) / "manifest.csv", buf.getvalue())


def load_manifest(workspace: Path | str) -> list[ManifestRow]:
    path = Path(workspace) / "manifest.csv"
    try:
        with open(path, newline="", encoding="utf-8") as fh:
            return [ManifestRow(r["image"], r["label"], r["split"], r["source"], float(r["start_s"]), float(r["end_s"]))
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


__all__ = ["ConvertSummary", "ManifestRow", "convert_dataset", "convert_source", "load_manifest",
           "load_workspace_info", "write_manifest", "config_key", "Cancelled"]
