"""Audio made by the tests themselves: tones, chirps, noise, 'voices', files in every supported format,
and a corpus of bad inputs."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import soundfile as sf

SR = 16000


def tone(freq: float, seconds: float, sr: int = SR, amp: float = 0.5) -> np.ndarray:
    t = np.arange(int(seconds * sr)) / sr
    return (amp * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def chirp(f0: float, f1: float, seconds: float, sr: int = SR, amp: float = 0.5) -> np.ndarray:
    t = np.arange(int(seconds * sr)) / sr
    phase = 2 * np.pi * (f0 * t + (f1 - f0) * t ** 2 / (2 * seconds))
    return (amp * np.sin(phase)).astype(np.float32)


def noise(seconds: float, sr: int = SR, amp: float = 0.1, seed: int = 0) -> np.ndarray:
    return (amp * np.random.default_rng(seed).standard_normal(int(seconds * sr))).astype(np.float32)


def voice(f0: float, seconds: float, sr: int = SR, seed: int = 0, formants=(700.0, 1200.0)) -> np.ndarray:
    """A crude voiced sound: harmonics of a wobbling f0 shaped by two formant peaks, with syllable gaps."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * sr)) / sr
    f = f0 * (1 + 0.03 * np.sin(2 * np.pi * (3 + rng.random()) * t))
    phase = 2 * np.pi * np.cumsum(f) / sr
    x = np.zeros_like(t)
    for k in range(1, 20):
        fk = k * f0
        if fk > sr / 2 - 500:
            break
        gain = sum(np.exp(-((fk - fm) / 150.0) ** 2) for fm in formants) + 0.05
        x += gain * np.sin(k * phase)
    envelope = 0.55 + 0.45 * np.sin(2 * np.pi * 4 * t + rng.random() * 6)
    x = x * envelope + 0.01 * rng.standard_normal(t.size)
    return (0.5 * x / np.max(np.abs(x))).astype(np.float32)


def write(path: Path, samples: np.ndarray, sr: int = SR, subtype: str | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(str(path), samples, sr, subtype=subtype)
    return path


def ffmpeg_encode(src_wav: Path, dst: Path, extra: list[str] | None = None) -> Path:
    """Encode with ffmpeg (MP3, M4A, ...). The tests need ffmpeg, which setup installs."""
    ffmpeg = shutil.which("ffmpeg")
    assert ffmpeg, "ffmpeg is not installed (scripts/setup.sh installs it)"
    subprocess.run([ffmpeg, "-v", "error", "-y", "-i", str(src_wav), *(extra or []), str(dst)], check=True)
    return dst


def make_class_tree(root: Path, classes: dict[str, list[np.ndarray]], sr: int = SR) -> Path:
    """root/<class>/<class>_<i>.wav for every clip."""
    for name, clips in classes.items():
        for i, clip in enumerate(clips):
            write(root / name / f"{name}_{i:02d}.wav", clip, sr)
    return root


def bad_corpus(root: Path) -> dict[str, Path]:
    """One file per kind of bad input; keys name the kind."""
    root.mkdir(parents=True, exist_ok=True)
    files: dict[str, Path] = {}
    files["empty"] = root / "empty.wav"
    files["empty"].write_bytes(b"")
    files["not_audio"] = root / "notes.wav"
    files["not_audio"].write_text("this is a text file pretending to be audio\n" * 20)
    files["nan"] = write(root / "nan.wav", np.array([0.1, np.nan, 0.2] * 4000, dtype=np.float32), subtype="FLOAT")
    files["silent"] = write(root / "silent.wav", np.zeros(SR, dtype=np.float32))
    good = write(root / "_src.wav", tone(440, 3.0))
    mp3 = ffmpeg_encode(good, root / "_full.mp3")
    data = mp3.read_bytes()
    files["truncated_mp3"] = root / "truncated.mp3"
    # cut mid-frame and mangle the tail, as an interrupted download does
    files["truncated_mp3"].write_bytes(data[: len(data) // 2] + b"\xff\xfb\x90" + b"\x00" * 7)
    files["unreadable"] = write(root / "locked.wav", tone(440, 1.0))
    os.chmod(files["unreadable"], 0)
    good.unlink()
    mp3.unlink()
    return files
