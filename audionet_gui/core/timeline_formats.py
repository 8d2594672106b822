"""A timeline (``{"file", "segments": [{"start", "end", "label", "p"}], "speakers"}``) written as JSON, CSV,
Audacity labels, RTTM or SRT, and the two text formats other tools hand back (Audacity labels, RTTM) read again.

- Audacity: ``start<TAB>end<TAB>label`` per line (File > Import > Labels).
- RTTM (NIST): ``SPEAKER <file id> 1 <start> <duration> <NA> <NA> <speaker> <NA> <NA>``; fields are separated by
  spaces, so spaces in a file id or a name become ``_``.
- SRT: numbered cues ``HH:MM:SS,mmm --> HH:MM:SS,mmm`` with the speaker as the text (a video player's subtitles).
"""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

FORMATS = ("json", "csv", "audacity", "rttm", "srt")
EXTENSIONS = {"json": ".json", "csv": ".csv", "audacity": ".txt", "rttm": ".rttm", "srt": ".srt"}
CSV_COLUMNS = ("file", "start", "end", "label", "p")


def _token(text: str) -> str:
    return re.sub(r"\s+", "_", str(text).strip()) or "_"


def _srt_time(seconds: float) -> str:
    ms = int(round(max(seconds, 0.0) * 1000))
    h, rest = divmod(ms, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    return f"{h:02d}:{m:02d}:{s:02d},{ms:03d}"


def render(timeline: dict, fmt: str) -> str:
    """The text of ``timeline`` in format ``fmt`` (one of ``FORMATS``)."""
    segments = timeline.get("segments", [])
    if fmt == "json":
        return json.dumps(timeline, indent=2) + "\n"
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(CSV_COLUMNS)
        for s in segments:
            writer.writerow([timeline.get("file", ""), f"{s['start']:.3f}", f"{s['end']:.3f}", s["label"],
                             f"{s['p']:.4f}"])
        return out.getvalue()
    if fmt == "audacity":
        return "".join(f"{s['start']:.6f}\t{s['end']:.6f}\t{s['label']}\n" for s in segments)
    if fmt == "rttm":
        uri = _token(Path(str(timeline.get("file", "audio"))).stem)
        return "".join(f"SPEAKER {uri} 1 {s['start']:.3f} {s['end'] - s['start']:.3f} <NA> <NA> "
                       f"{_token(s['label'])} <NA> <NA>\n" for s in segments)
    if fmt == "srt":
        return "\n".join(f"{i}\n{_srt_time(s['start'])} --> {_srt_time(s['end'])}\n{s['label']}\n"
                         for i, s in enumerate(segments, 1))
    raise ValueError(f"format must be one of {', '.join(FORMATS)}, got {fmt!r}")


def parse_audacity(text: str) -> list[tuple[float, float, str]]:
    """(start, end, label) of each region label line; point labels (one time) have start == end. Audacity's
    frequency lines (starting with a backslash) are skipped."""
    out = []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.startswith("\\"):
            continue
        parts = line.split("\t")
        try:
            start = float(parts[0])
            end = float(parts[1]) if len(parts) > 1 and parts[1].strip() else start
        except ValueError:
            raise ValueError(f"line {n}: not an Audacity label ({line[:60]!r})") from None
        out.append((start, end, parts[2] if len(parts) > 2 else ""))
    return out


def parse_rttm(text: str) -> list[tuple[str, float, float, str]]:
    """(file id, start, end, speaker) of each SPEAKER line; other record types and comments are skipped."""
    out = []
    for n, line in enumerate(text.splitlines(), 1):
        fields = line.split()
        if not fields or fields[0] != "SPEAKER":
            continue
        try:
            start, duration = float(fields[3]), float(fields[4])
            out.append((fields[1], start, start + duration, fields[7]))
        except (IndexError, ValueError):
            raise ValueError(f"line {n}: not an RTTM SPEAKER line ({line[:60]!r})") from None
    return out
