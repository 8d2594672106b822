"""One model per lever of issue 10 on FSDD's speakers, in minutes: which front end and which augmentation help?

Complements bench/robustness.py (utterances with pauses, live replay, non-speech; the table of record) with a
quick ablation on FSDD's raw clips (one window each): train on takes 5-49 (or ``--train-takes``), test on
takes 0-4, clean; with real background noise at each SNR (two recordings of ../shared/data/background_noise
held out; augmentation uses the other four in place of the app's bundled copies, which hold all six); in a
simulated room (rooms of other seeds than augmentation's); in a room through a cheap microphone (300-3400 Hz,
a tilt, 20 dB quieter). Also the unknown rate in noise at 10 dB and the training time. Figures, not pass/fail.

    .venv/bin/python bench/levers.py [--rows none full no-room no-mic no-babble no-noise-files band_norm pcen floor]
        [--backbone small_cnn] [--train-takes 5 49] [--epochs N] [--copies 1] [--snr 10 5]
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
from audionet_gui.core.audio.augment import add_noise, change_gain, mic_response, reverberate, simulate_rooms
from audionet_gui.core.audio.files import load_audio
from audionet_gui.core.audio.spectrogram import SpectrogramConfig
from audionet_gui.core.data.convert.augmentation import AugmentPlan
from audionet_gui.core.model.training import TrainConfig
from audionet_gui.core.pipeline import evaluate_folder, train_from_folders

SHARED = Path(__file__).resolve().parents[2] / "shared/data"
TEST_NOISES = ("doing_the_dishes", "running_tap")  # held out: never mixed in by augmentation here


def split_fsdd(root: Path, out: Path, train_takes: tuple[int, int] = (5, 49)) -> tuple[Path, Path]:
    """Symlinked class folders of the official split: takes 0-4 test, ``train_takes`` train."""
    train, test = out / "train", out / "test"
    for wav in sorted(root.glob("*/*.wav")):
        take = int(re.match(r"\d+_\w+?_(\d+)\.wav", wav.name).group(1))
        if take >= 5 and not train_takes[0] <= take <= train_takes[1]:
            continue
        dest = (test if take < 5 else train) / wav.parent.name / wav.name
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.symlink_to(wav)
    return train, test


def _write_like(test: Path, out: Path, change) -> Path:
    """A copy of every test clip, changed by ``change(samples, sr, index)``."""
    for i, wav in enumerate(sorted(test.glob("*/*.wav"))):
        x, sr = sf.read(str(wav), dtype="float32")
        y = change(x, sr, i)
        peak = np.max(np.abs(y))
        dest = out / wav.parent.name / wav.name
        dest.parent.mkdir(parents=True, exist_ok=True)
        sf.write(str(dest), y / peak * 0.9 if peak > 1 else y, sr, subtype="PCM_16")
    return out


def real_noise_copy(test: Path, out: Path, noise_files: list[Path], snr_db: float, seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    banks: dict[int, list] = {}

    def change(x, sr, i):
        if sr not in banks:
            banks[sr] = [load_audio(f, sr) for f in noise_files]
        bank = banks[sr]
        return add_noise(x, bank[i % len(bank)], snr_db, rng)

    return _write_like(test, out, change)


def room_copy(test: Path, out: Path, cheap_mic: bool, seed: int = 1000) -> Path:
    """Test clips in simulated rooms of seeds augmentation never uses; ``cheap_mic``: then through a
    300-3400 Hz microphone with a tilt, 20 dB quieter."""
    rooms: dict[int, list] = {}
    rng = np.random.default_rng(seed)

    def change(x, sr, i):
        if sr not in rooms:
            rooms[sr] = simulate_rooms(seed, sr, count=6)
        bank = rooms[sr]
        pad = np.concatenate([x, np.zeros(int(0.3 * sr), np.float32)])  # let the room ring out
        y = reverberate(pad, bank[i % len(bank)])
        if cheap_mic:
            y = change_gain(mic_response(y, sr, 300.0, min(3400.0, 0.45 * sr), float(rng.uniform(-3, 3))), -20.0)
        return y

    return _write_like(test, out, change)


ABLATION_ROWS = {
    # name: (front end, plan fields or None for no augmentation)
    "none": ("none", None),
    "full": ("none", {}),
    "no-room": ("none", {"room": False}),
    "no-mic": ("none", {"mic": False}),
    "no-babble": ("none", {"babble": False}),
    "no-noise-files": ("none", {"noise_files": ()}),
    "band_norm": ("band_norm", {}),
    "pcen": ("pcen", {}),
    "floor": ("floor", {}),
}


def ablation(args) -> None:
    work = Path(tempfile.mkdtemp(prefix="bench-ablation-")) if not args.keep else args.keep
    os.environ.setdefault("AUDIONET_CACHE_DIR", str(work / "cache"))
    aug_noise = [p for p in sorted(args.noise_dir.glob("*.flac")) if p.stem not in TEST_NOISES]
    test_noise = [args.noise_dir / f"{n}.flac" for n in TEST_NOISES]
    if not test_noise[0].is_file() or not (args.fsdd / "manifest.csv").is_file():
        raise SystemExit(f"need FSDD in {args.fsdd} and the noise files in {args.noise_dir} (see --fsdd, --noise-dir)")
    table = []
    try:
        train, test = split_fsdd(args.fsdd, work / "fsdd", tuple(args.train_takes))
        conditions = [("clean", test)]
        for snr in args.snr:
            conditions.append((f"noise {snr:g}", real_noise_copy(test, work / f"test-real-{snr:g}", test_noise, snr)))
        conditions.append(("room", room_copy(test, work / "test-room", cheap_mic=False)))
        conditions.append(("room+mic", room_copy(test, work / "test-room-mic", cheap_mic=True)))
        cfg = TrainConfig(backbone=args.backbone, weights=args.weights, seed=0)
        if args.epochs:
            cfg.epochs = args.epochs
        for row in args.rows:
            frontend, fields_ = ABLATION_ROWS[row]
            plan = None
            if fields_ is not None:
                base = {"copies": args.copies, "seed": 0, "noise_files": tuple(str(p) for p in aug_noise),
                        "bundled_noise": False}
                plan = AugmentPlan(**{**base, **fields_})
            t0 = time.perf_counter()
            report = train_from_folders(train, work / f"model-{row}", SpectrogramConfig(frontend=frontend),
                                        train_cfg=cfg, augment=plan, workspace=work / f"ws-{row}")
            train_s = time.perf_counter() - t0
            accs, unknown = {}, []
            for cond, folder in conditions:
                m = evaluate_folder(report.bundle_path, folder)
                accs[cond] = m["accuracy"]
                if cond.endswith(" 10"):
                    unknown.append(m.get("unknown_rate", float("nan")))
            table.append((row, accs, float(np.mean(unknown)) if unknown else float("nan"), train_s))
            print(f"[{row}] " + " ".join(f"{k}={v:.1%}" for k, v in accs.items()) + f" train={train_s:.0f}s",
                  flush=True)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)

    names = [c for c, _ in conditions]
    print(f"\nablation on FSDD (6 speakers, train takes {args.train_takes[0]}-{args.train_takes[1]}, test takes 0-4), "
          f"backbone {args.backbone}, {args.copies} augmented copies; window accuracy per condition")
    print(f"{'row':14}" + "".join(f"{n:>11}" for n in names) + f"{'unk@10':>9}{'train s':>9}")
    for row, accs, unknown, train_s in table:
        print(f"{row:14}" + "".join(f"{accs[n]:>10.1%} " for n in names) + f"{unknown:>8.1%} {train_s:>8.0f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--fsdd", type=Path, default=SHARED / "fsdd_speakers")
    ap.add_argument("--noise-dir", type=Path, default=SHARED / "background_noise")
    ap.add_argument("--backbone", default="small_cnn")
    ap.add_argument("--weights", default="none", help="weights file, 'imagenet' or 'none' (small_cnn ignores it)")
    ap.add_argument("--snr", type=float, nargs="+", default=[10.0, 5.0])
    ap.add_argument("--copies", type=int, default=1, help="augmented copies per training window")
    ap.add_argument("--epochs", type=int, default=None)
    ap.add_argument("--rows", nargs="+", default=list(ABLATION_ROWS), choices=list(ABLATION_ROWS))
    ap.add_argument("--train-takes", type=int, nargs=2, default=[5, 49], metavar=("FIRST", "LAST"),
                    help="FSDD takes used for training (fewer = faster)")
    ap.add_argument("--keep", type=Path, help="keep the work folder here")
    ablation(ap.parse_args())


if __name__ == "__main__":
    main()
