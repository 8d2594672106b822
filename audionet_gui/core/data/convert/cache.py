"""The content-keyed image cache: the settings key, file hashes (hashes.json) and which cached folders are complete."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from audionet_gui.core.audio.spectrogram import SpectrogramConfig
from audionet_gui.core.audio.vad import SPEECH_RULE
from audionet_gui.core.audio.windows import WindowConfig
from audionet_gui.core.base.fsutil import atomic_write_json, file_sha256


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
