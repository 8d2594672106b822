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


VOWELS = ((730, 1090, 2440), (270, 2290, 3010), (300, 870, 2240), (530, 1840, 2480), (570, 840, 2410),
          (660, 1720, 2410), (490, 1350, 1690))  # (F1, F2, F3) Hz of a, i, u, e, o, ae, er (Peterson & Barney)


def speech_like(seconds: float, sr: int = SR, seed: int = 0, f0: float | None = None, amp: float = 0.5) -> np.ndarray:
    """Voiced, speech-like audio: a glottal pulse train (f0 100-220 Hz, 1-2 % jitter, falling intonation)
    through three formant resonators per syllable (vowels), syllables at 3-6 per second with short pauses."""
    rng = np.random.default_rng(seed)
    n = int(seconds * sr)
    out = np.zeros(n)
    f0 = float(f0 if f0 is not None else rng.uniform(100, 220))
    pos = int(rng.uniform(0.0, 0.08) * sr)
    while pos < n:
        length = int(rng.uniform(0.12, 0.30) * sr)
        seg_n = min(length, n - pos)
        # glottal excitation: one pulse per period, jittered, each a short decaying click
        exc = np.zeros(seg_n)
        t, pitch = 0.0, f0 * rng.uniform(0.9, 1.1)
        while t < seg_n:
            exc[int(t)] += 1.0
            pitch *= 1 - 0.0015  # intonation falls over the syllable
            t += sr / pitch * (1 + rng.normal(0, 0.015))
        spec = np.fft.rfft(exc)
        w = 2 * np.pi * np.fft.rfftfreq(seg_n, 1 / sr) / sr
        h = np.ones_like(spec)
        for fk, bw in zip(VOWELS[int(rng.integers(len(VOWELS)))], (80.0, 100.0, 140.0)):
            r = np.exp(-np.pi * bw / sr)
            theta = 2 * np.pi * fk * (1 + rng.normal(0, 0.03)) / sr
            h /= 1 - 2 * r * np.cos(theta) * np.exp(-1j * w) + r ** 2 * np.exp(-2j * w)
        h /= 1 - 0.95 * np.exp(-1j * w)  # glottal source tilt
        voiced = np.fft.irfft(spec * h, seg_n)
        envelope = np.sin(np.pi * np.arange(seg_n) / max(seg_n, 1)) ** 0.7  # syllable-rate modulation
        seg = voiced * envelope
        seg += 0.02 * np.std(seg) * rng.standard_normal(seg_n)  # breath
        out[pos:pos + seg_n] += seg / (np.max(np.abs(seg)) + 1e-12) * rng.uniform(0.5, 1.0)
        pos += length + int(rng.uniform(0.03, 0.12) * sr)
    peak = np.max(np.abs(out))
    return (amp * out / peak if peak > 0 else out).astype(np.float32)


def fan_hum(seconds: float, sr: int = SR, seed: int = 0, amp: float = 0.1) -> np.ndarray:
    """A fan or fridge: mains hum harmonics, blade rate and low-passed air noise, slowly wavering."""
    rng = np.random.default_rng(seed)
    n = int(seconds * sr)
    t = np.arange(n) / sr
    hum = sum(np.sin(2 * np.pi * f * t + rng.random() * 6) / k for k, f in enumerate((50, 100, 150, 200), start=1))
    spec = np.fft.rfft(rng.standard_normal(n))
    spec /= 1 + (np.fft.rfftfreq(n, 1 / sr) / 400.0) ** 2
    air = np.fft.irfft(spec, n)
    x = (0.5 * hum / np.std(hum) + air / np.std(air)) * (1 + 0.1 * np.sin(2 * np.pi * 0.5 * t))
    return (amp * x / np.std(x)).astype(np.float32)


def taps(seconds: float, sr: int = SR, seed: int = 0, amp: float = 0.5, per_second: float = 3.0) -> np.ndarray:
    """Knocks or keyboard taps: short broadband bursts (a few ms, decaying) at random times."""
    rng = np.random.default_rng(seed)
    n = int(seconds * sr)
    x = np.zeros(n)
    decay = np.exp(-np.arange(min(n, int(0.02 * sr))) / (0.003 * sr))
    for start in rng.integers(0, max(1, n - decay.size), size=max(1, int(seconds * per_second))):
        x[start:start + decay.size] += rng.standard_normal(decay.size) * decay * rng.uniform(0.5, 1.0)
    peak = np.max(np.abs(x))
    return (amp * x / peak if peak > 0 else x).astype(np.float32)
