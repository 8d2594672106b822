"""The "auto" front end, resolved once when training: PCEN for speech projects, plain dB for sound projects.

The images are made with the front end, so it must be known before conversion, while the "auto" activity gate is
decided after it (from every training window's speech share). So the front end asks the same question of a
sample: a few windows of a few files per class, through the same speech rule and class vote as the gate
(``vad.resolve_gate``). An explicit gate answers it without looking ("speech" -> PCEN, "energy" -> plain).
The Silero detector costs about 2 ms per second of audio, so the sample costs well under a second per class.
"""

from __future__ import annotations

from pathlib import Path

from audionet_gui.core.audio.frontend import auto_frontend
from audionet_gui.core.audio.vad import has_speech, resolve_gate, window_speech
from audionet_gui.core.audio.windows import WindowConfig, iter_file_windows
from audionet_gui.core.base.errors import AudioFileError
from audionet_gui.core.base.jobs import CancelToken, ensure_token
from audionet_gui.core.data.dataset import BACKGROUND_CLASS, DatasetSpec, dataset_sources

FILES_PER_CLASS = 8    # spread over the class's files
WINDOWS_PER_FILE = 6   # the first ones


def sampled_gate(spec: DatasetSpec, window_cfg: WindowConfig, sample_rate: int,
                 cancel: CancelToken | None = None) -> str:
    """"speech" or "energy": what the "auto" gate would decide, from a sample of each class's training files."""
    cancel = ensure_token(cancel)
    by_class: dict[str, list[Path]] = {}
    for s in dataset_sources(spec):
        if s.label != BACKGROUND_CLASS and s.fixed_split != "test":
            by_class.setdefault(s.label, []).append(s.path)
    counts: dict[str, tuple[int, int]] = {}
    for label, paths in by_class.items():
        step = max(1, len(paths) // FILES_PER_CLASS)
        speech = total = 0
        for path in paths[::step][:FILES_PER_CLASS]:
            cancel.raise_if_cancelled()
            try:
                for k, w in enumerate(iter_file_windows(path, sample_rate, window_cfg)):
                    if k >= WINDOWS_PER_FILE:
                        break
                    speech += has_speech(window_speech(w.samples, sample_rate, window_cfg.speech_threshold))
                    total += 1
            except (AudioFileError, OSError, ValueError):
                continue  # conversion names the bad file; the sample just goes without it
        counts[label] = (speech, total)
    return resolve_gate(counts)


def resolved_frontend(frontend: str, spec: DatasetSpec, window_cfg: WindowConfig, sample_rate: int,
                      cancel: CancelToken | None = None) -> str:
    """``frontend`` itself, or for "auto" the front end the project's activity says (``auto_frontend``)."""
    if frontend != "auto":
        return frontend
    gate = window_cfg.gate if window_cfg.gate != "auto" else sampled_gate(spec, window_cfg, sample_rate, cancel)
    return auto_frontend(gate)
