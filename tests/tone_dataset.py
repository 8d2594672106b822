"""Synthetic class folders for training tests: each class is a tone of its own pitch, with a little jitter and noise
so that no two files are alike."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf

SR = 16000
PITCHES = {"low": 300.0, "mid": 800.0, "high": 2000.0}


def tone_clip(hz: float, seconds: float, rng: np.random.Generator, sr: int = SR) -> np.ndarray:
    t = np.arange(int(sr * seconds)) / sr
    f = hz * (1 + 0.03 * rng.standard_normal())
    x = 0.3 * np.sin(2 * np.pi * f * t + rng.uniform(0, 2 * np.pi)) + 0.01 * rng.standard_normal(t.size)
    return x.astype(np.float32)


def make_tone_dataset(root: Path, pitches: dict = PITCHES, files_per_class: int = 10, seconds: float = 2.5,
                      seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    for label, hz in pitches.items():
        folder = Path(root) / label
        folder.mkdir(parents=True, exist_ok=True)
        for i in range(files_per_class):
            sf.write(folder / f"{label}_{i:02d}.wav", tone_clip(hz, seconds, rng), SR)
    return Path(root)
