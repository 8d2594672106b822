"""Conversion throughput: seconds of audio turned into window images per wall-clock second.

Runs, side by side in one process tree, AudioNet Studio's converter and the 2018 approach (``data_maker.py``:
cut into 20 s chunks, matplotlib ``specgram`` + ``savefig`` per chunk) on
  1. ../shared/data/fsdd_speakers (3000 short clips, 8 kHz), and
  2. a synthetic 10-minute 44.1 kHz file (chirps, tones and noise).
Prints a table; no pass/fail. Usage:  .venv/bin/python bench/convert.py [--fsdd DIR] [--workers N] [--old-limit N]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from audionet_gui.core.audio.windows import WindowConfig
from audionet_gui.core.data.convert import convert_dataset
from audionet_gui.core.data.dataset import ClassSpec, DatasetSpec

DEFAULT_WINDOWS = WindowConfig()
CHUNKS_2018 = WindowConfig(window_s=20.0, hop_s=20.0)


def make_long_file(path: Path, seconds: float = 600.0, sr: int = 44100) -> None:
    rng = np.random.default_rng(0)
    t = np.arange(int(seconds * sr)) / sr
    f0 = 200 + 150 * np.sin(2 * np.pi * 0.05 * t)            # slowly gliding pitch
    phase = 2 * np.pi * np.cumsum(f0) / sr
    voiced = sum(np.sin(k * phase) / k for k in range(1, 8))  # harmonic "voice"
    gate = (np.sin(2 * np.pi * 0.3 * t) > -0.3)               # pauses
    x = 0.3 * voiced * gate + 0.02 * rng.standard_normal(t.size)
    sf.write(str(path), (x / np.max(np.abs(x)) * 0.8).astype(np.float32), sr, subtype="PCM_16")


def old_approach(files: list[Path], out: Path, chunk_s: float = 20.0) -> float:
    """The 2018 data_maker.py: 20 s chunks, matplotlib specgram, savefig per chunk. Returns seconds of audio."""
    import matplotlib  # noqa: PLC0415 - only this comparison needs matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415 - only this comparison needs matplotlib

    total = 0.0
    n = 0
    for path in files:
        data, sr = sf.read(str(path), dtype="float32", always_2d=True)
        data = data.mean(axis=1)
        total += data.size / sr
        step = int(chunk_s * sr)
        for start in range(0, data.size, step):
            chunk = data[start:start + step]
            if chunk.size < 256:
                continue
            fig = plt.figure()
            plt.specgram(chunk, Fs=sr)
            plt.axis("off")
            fig.savefig(out / f"{n}.jpg", bbox_inches="tight", pad_inches=0)
            plt.close(fig)
            n += 1
    return total


def run_new(spec: DatasetSpec, workers: int, window: WindowConfig) -> tuple[float, float, int]:
    ws = Path(tempfile.mkdtemp(prefix="bench-ws-"))
    try:
        t0 = time.perf_counter()
        summary = convert_dataset(spec, ws, window_cfg=window, workers=workers)
        wall = time.perf_counter() - t0
        return summary.seconds_of_audio, wall, summary.windows
    finally:
        shutil.rmtree(ws, ignore_errors=True)


def run_old(files: list[Path]) -> tuple[float, float]:
    out = Path(tempfile.mkdtemp(prefix="bench-old-"))
    try:
        t0 = time.perf_counter()
        seconds = old_approach(files, out)
        return seconds, time.perf_counter() - t0
    finally:
        shutil.rmtree(out, ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--fsdd", type=Path, default=Path(__file__).resolve().parents[2] / "shared/data/fsdd_speakers")
    ap.add_argument("--workers", type=int, default=os.cpu_count())
    ap.add_argument("--old-limit", type=int, default=600,
                    help="FSDD files the (slow) old approach converts; its rate is per audio second, so a sample "
                         "suffices")
    args = ap.parse_args()

    rows = []
    tmp = Path(tempfile.mkdtemp(prefix="bench-audio-"))
    try:
        long_file = tmp / "ten_minutes.wav"
        make_long_file(long_file)
        long_spec = DatasetSpec([ClassSpec("a", files=[long_file])])
        datasets = [("10-min file, 2 s windows/1 s hop", long_spec, [long_file], DEFAULT_WINDOWS),
                    ("10-min file, 20 s chunks (2018's)", long_spec, [long_file], CHUNKS_2018)]
        if args.fsdd.is_dir():
            spec = DatasetSpec.from_root(args.fsdd)
            files = sorted(p for c in spec.classes for p in Path(c.folders[0]).glob("*.wav"))
            step = max(1, len(files) // args.old_limit)
            datasets.insert(0, ("fsdd_speakers (3000 clips)", spec, files[::step][: args.old_limit], DEFAULT_WINDOWS))
        for name, spec, old_files, window in datasets:
            secs, wall, windows = run_new(spec, args.workers, window)
            old_secs, old_wall = run_old(old_files)
            new_rate, old_rate = secs / wall, old_secs / old_wall
            rows.append((name, secs, windows, wall, new_rate, old_rate, new_rate / old_rate))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    print(f"\nconversion throughput on {os.cpu_count()} cores, {args.workers} workers "
          "(x real time = seconds of audio per wall second)")
    print(f"{'data':34} {'audio s':>8} {'windows':>8} {'wall s':>7} {'new x RT':>9} {'2018 x RT':>10} {'speed-up':>9}")
    for name, secs, windows, wall, new_rate, old_rate, ratio in rows:
        print(f"{name:34} {secs:8.1f} {windows:8d} {wall:7.2f} {new_rate:9.0f} {old_rate:10.1f} {ratio:8.1f}x")
    print("\nnew: 2 s windows every 1 s (one image per second of long audio; one per short clip), "
          "299x299 PNG.\n2018: one 20 s chunk per image, matplotlib specgram + savefig (JPG), single process.")


if __name__ == "__main__":
    main()
