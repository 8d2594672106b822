"""Does a model trained on clean speech still name the speaker with a fan, traffic or rain behind it?

Trains on FSDD's official training takes (5-49) and tests on its test takes (0-4), clean and mixed with three
synthetic background noises at several signal-to-noise ratios, once without and once with augmentation.
The test noises are made differently from the coloured noise that augmentation mixes in (hum + filtered noise,
modulated rumble, crackling hiss), so the benchmark does not test on what it trained on.
Prints accuracy per condition; no pass/fail.

    .venv/bin/python bench/robustness.py [--backbone small_cnn] [--weights PATH|none] [--snr 20 10 5 0]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from audionet_gui.core.audio.augment import add_noise
from audionet_gui.core.data.convert import AugmentPlan
from audionet_gui.core.model.training import TrainConfig
from audionet_gui.core.pipeline import evaluate_folder, train_from_folders

FSDD = Path(__file__).resolve().parents[2] / "shared/data/fsdd_speakers"
SR = 8000  # FSDD's rate; noise is made at it


def _filtered(x: np.ndarray, lo: float, hi: float, sr: int) -> np.ndarray:
    spec = np.fft.rfft(x)
    f = np.fft.rfftfreq(x.size, 1 / sr)
    spec[(f < lo) | (f > hi)] = 0
    return np.fft.irfft(spec, x.size)


def fan(n: int, rng: np.random.Generator, sr: int = SR) -> np.ndarray:
    t = np.arange(n) / sr
    hum = sum(np.sin(2 * np.pi * f * t + rng.random() * 6) / k for k, f in enumerate((120, 240, 360), start=1))
    air = _filtered(rng.standard_normal(n), 50, 1500, sr)
    return (0.4 * hum / np.std(hum) + air / np.std(air)) * (1 + 0.1 * np.sin(2 * np.pi * 0.7 * t))


def traffic(n: int, rng: np.random.Generator, sr: int = SR) -> np.ndarray:
    t = np.arange(n) / sr
    rumble = _filtered(np.cumsum(rng.standard_normal(n)), 20, 800, sr)
    cars = sum(np.exp(-((t - c) / 1.2) ** 2) for c in rng.uniform(0, t[-1] + 1, size=max(1, n // (4 * sr))))
    return rumble / np.std(rumble) * (0.3 + cars)


def rain(n: int, rng: np.random.Generator, sr: int = SR) -> np.ndarray:
    hiss = _filtered(rng.standard_normal(n), 1500, sr / 2, sr)
    drops = np.zeros(n)
    idx = rng.integers(0, n, size=n // 200)
    drops[idx] = rng.standard_normal(idx.size) * 6
    drops = np.convolve(drops, np.exp(-np.arange(40) / 6.0), mode="same")
    return hiss / np.std(hiss) + drops


NOISES = {"fan": fan, "traffic": traffic, "rain": rain}


def split_fsdd(root: Path, out: Path) -> tuple[Path, Path]:
    """Symlinked class folders of the official split: takes 0-4 test, 5-49 train."""
    train, test = out / "train", out / "test"
    for wav in sorted(root.glob("*/*.wav")):
        take = int(re.match(r"\d+_\w+?_(\d+)\.wav", wav.name).group(1))
        dest = (test if take < 5 else train) / wav.parent.name / wav.name
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.symlink_to(wav)
    return train, test


def noisy_copy(test: Path, out: Path, noise: str, snr_db: float, seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    for wav in sorted(test.glob("*/*.wav")):
        x, sr = sf.read(str(wav), dtype="float32")
        y = add_noise(x, NOISES[noise](x.size, rng, sr).astype(np.float32), snr_db, rng)
        peak = np.max(np.abs(y))
        dest = out / wav.parent.name / wav.name
        dest.parent.mkdir(parents=True, exist_ok=True)
        sf.write(str(dest), y / peak * 0.9 if peak > 1 else y, sr, subtype="PCM_16")
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--fsdd", type=Path, default=FSDD)
    ap.add_argument("--backbone", default="small_cnn")
    ap.add_argument("--weights", default="none", help="weights file, 'imagenet' or 'none' (small_cnn ignores it)")
    ap.add_argument("--snr", type=float, nargs="+", default=[20.0, 10.0, 5.0, 0.0])
    ap.add_argument("--copies", type=int, default=2, help="augmented copies per training window")
    ap.add_argument("--epochs", type=int, default=None)
    ap.add_argument("--keep", type=Path, help="keep the work folder here")
    args = ap.parse_args()

    work = Path(tempfile.mkdtemp(prefix="bench-robust-")) if not args.keep else args.keep
    os.environ.setdefault("AUDIONET_CACHE_DIR", str(work / "cache"))
    try:
        train, test = split_fsdd(args.fsdd, work / "fsdd")
        conditions = [("clean", None, test)]
        for noise in NOISES:
            for snr in args.snr:
                conditions.append((noise, snr, noisy_copy(test, work / f"test-{noise}-{snr:g}", noise, snr)))
        cfg = TrainConfig(backbone=args.backbone, weights=args.weights)
        if args.epochs:
            cfg.epochs = args.epochs
        results = {}
        for name, plan in (("no augmentation", None), (f"augmented x{args.copies}", AugmentPlan(copies=args.copies))):
            t0 = time.perf_counter()
            report = train_from_folders(train, work / f"model-{plan.copies if plan else 0}", train_cfg=cfg,
                                        augment=plan)
            train_s = time.perf_counter() - t0
            accs = {}
            for cond, snr, folder in conditions:
                m = evaluate_folder(report.bundle_path, folder)
                accs[(cond, snr)] = (m["accuracy"], m["recording_accuracy"])
            results[name] = (accs, train_s)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)

    print(f"\nrobustness on FSDD (6 speakers; train takes 5-49, test takes 0-4), backbone {args.backbone}")
    print("window accuracy per test condition (recording accuracy is the same here: one window per clip)")
    header = f"{'condition':18}" + "".join(f"{n:>20}" for n in results)
    print(header)
    for cond, snr, _ in conditions:
        label = cond if snr is None else f"{cond} {snr:g} dB SNR"
        print(f"{label:18}" + "".join(f"{results[n][0][(cond, snr)][0]:>19.1%} " for n in results))
    print(f"{'train wall s':18}" + "".join(f"{results[n][1]:>19.0f} " for n in results))


if __name__ == "__main__":
    main()
