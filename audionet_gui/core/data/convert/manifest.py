"""A workspace's manifest.csv and workspace.json: what a conversion made, as training and the rest read it."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from pathlib import Path

from audionet_gui.core.base.errors import DatasetError
from audionet_gui.core.base.fsutil import atomic_write_text

WORKSPACE_FORMAT = 1
MANIFEST_FIELDS = ("image", "label", "split", "source", "start_s", "end_s", "augmented", "speech")


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
