"""How the speech gate's rule trades speech kept against non-speech let through, on training-side audio only.

    .venv/bin/python bench/speech_gate.py --train DIR/data/train [--noise-dir DIR/data/augment-noise] [--hiss]

Speech: the 2 s windows (hop 1 s) of the enrolment utterances in ``--train`` that pass the default rule as
recorded, then the same windows through the augmentation's own simulated rooms (pyroomacoustics, RT60 0.2-0.9 s)
and random microphones (``--hiss``: with self-noise at 20-40 dB SNR), at -30..0 dB. Non-speech: the augmentation's
noise files (``--noise-dir``) and synthetic sounds (tones, chirps, mains hum, taps, pink and white noise), dry and
in the same rooms. Never the robustness bench's test rooms, microphones or noises: the rule is chosen here, and
the bench judges it.
For each chunk threshold and each share of a window's 32 ms chunks, the share of speech and of non-speech
windows that pass. Figures, not pass/fail.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from audionet_gui.core.audio.augment import add_noise, colored_noise, random_mic, reverberate, simulate_rooms
from audionet_gui.core.audio.files import load_audio
from audionet_gui.core.audio.vad import (
    DEFAULT_THRESHOLD,
    SPEECH_FRACTION,
    _at_16k,
    default_model,
    levelled,
)

SR = 16000
WIN, HOP = 2 * SR, SR
THRESHOLDS = (0.5, 0.35, 0.25, 0.2, 0.15, 0.1)
FRACTIONS = (0.15, 0.1, 0.08, 0.05)


def windows(x: np.ndarray) -> list[np.ndarray]:
    if x.size <= WIN:
        return [np.pad(x, (0, WIN - x.size))]
    return [x[i:i + WIN] for i in range(0, x.size - WIN + 1, HOP)]


def chunk_probabilities(x: np.ndarray) -> np.ndarray:
    return default_model().probabilities(levelled(_at_16k(x, SR)))


def synthetic_sounds(rng: np.random.Generator) -> list[np.ndarray]:
    t = np.arange(4 * SR) / SR
    sounds = [np.sin(2 * np.pi * f * t) for f in (220, 440, 1000, 2500)]
    sounds += [np.sin(2 * np.pi * (200 * t + 400 * t ** 2)), np.sin(2 * np.pi * (3000 * t - 300 * t ** 2))]
    sounds += [sum(np.sin(2 * np.pi * k * 50 * t) / k for k in (1, 2, 3, 5))]
    taps = np.zeros(t.size)
    for start in rng.integers(0, t.size - 800, 12):
        taps[start:start + 800] += np.exp(-np.arange(800) / 80) * rng.standard_normal(800)
    sounds += [taps, colored_noise(t.size, rng, "white"), colored_noise(t.size, rng, "pink")]
    return [(0.1 * s / (np.std(s) or 1)).astype(np.float32) for s in sounds]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--train", type=Path, required=True)
    ap.add_argument("--noise-dir", type=Path)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--per-speaker", type=int, default=6)
    ap.add_argument("--hiss", action="store_true", help="add a microphone's self-noise at 20-40 dB SNR to the speech")
    args = ap.parse_args()
    rng = np.random.default_rng(args.seed)
    rooms = simulate_rooms(args.seed + 11, SR, count=8)

    speech, nonspeech = [], []
    for speaker in sorted(p for p in args.train.iterdir() if p.is_dir()):
        for path in sorted(speaker.glob("*.wav"))[: args.per_speaker]:
            x = load_audio(path, SR)
            dry = [w for w in windows(x)
                   if (chunk_probabilities(w) >= DEFAULT_THRESHOLD).mean() >= SPEECH_FRACTION]
            for w in dry:
                for _ in range(2):
                    y = random_mic(reverberate(w, rooms[int(rng.integers(len(rooms)))]), SR, rng)
                    if args.hiss:  # a cheap microphone's self-noise
                        y = add_noise(y, rng.standard_normal(y.size).astype(np.float32), rng.uniform(20, 40), rng)
                    speech.append(chunk_probabilities(y * 10 ** (rng.uniform(-30, 0) / 20)))
    sounds = synthetic_sounds(rng)
    if args.noise_dir:
        for path in sorted(args.noise_dir.iterdir()):
            x = load_audio(path, SR)
            parts = [x[i:i + 4 * SR] for i in range(0, x.size - 4 * SR, 8 * SR)]
            sounds += [0.1 * part / (np.std(part) or 1) for part in parts]
    for s in sounds:
        for w in windows(s):
            nonspeech.append(chunk_probabilities(w))
            nonspeech.append(chunk_probabilities(reverberate(w, rooms[int(rng.integers(len(rooms)))])))
    print(f"{len(speech)} speech windows (rooms + microphones), {len(nonspeech)} non-speech windows")
    print("| chunk threshold | share of chunks | speech passing | non-speech passing |")
    print("| --- | --- | --- | --- |")
    for t in THRESHOLDS:
        for f in FRACTIONS:
            sp = np.mean([(p >= t).mean() >= f for p in speech])
            ns = np.mean([(p >= t).mean() >= f for p in nonspeech])
            print(f"| {t} | {f} | {100 * sp:.1f} % | {100 * ns:.1f} % |", flush=True)


if __name__ == "__main__":
    main()
