"""Robustness bench: FSDD speakers in longer utterances with pauses, scored clean, in noise the model never heard,
through another room and a cheap microphone, live (through the live engine), and on clips where nobody speaks.
An ablation table, one row per lever; figures, not pass/fail.

    .venv/bin/python bench/robustness.py [--backbone inception_v3 --weights /work/weights/inception_v3_notop.weights.h5]
        [--rows baseline,default,...] [--seeds N] [--train-utterances 12] [--test-utterances 15] [--work DIR]

Data (made once per --work folder, deterministic):
- utterances: 3-5 digits of one FSDD speaker joined with 0.15-0.6 s pauses of quiet room tone; training
  utterances from takes 5-49, test utterances from takes 0-4 (FSDD's official split), about 12 x 3 s of
  enrolment per speaker by default;
- noise split: augmentation may use doing_the_dishes, exercise_bike and pink_noise (passed as --noise-dir);
  the test noises are dude_miaowing, running_tap, white_noise and three synthetic noises (fan, traffic,
  rain: the held-back test noises of core/audio/conditions.py). Never test on a file used to augment: rows
  run with --no-bundled-noise where the app would otherwise add its bundled library (which holds the test files);
- room + cheap microphone: each test utterance convolved with a synthetic room response (RT60 0.4-0.9 s) and
  band-limited to 300-3400 Hz at -20 dBFS with hiss (core/audio/conditions.py, built unlike the augmentation);
- non-speech: 2.5 s clips of the test noises alone.
Columns: clean accuracy, accuracy at 10 and 5 dB (and 20, 0), room + cheap mic, live replay (clean test utterances
streamed with room tone around them through the live engine), false unknown in noise (enrolled speakers at 10 and
5 dB answered unknown or no speech), non-speech named (clips of noise given a speaker's name), training seconds.
A recording counts right when ``audionet evaluate``'s recording answer (the gated mean over its windows) is its
speaker.
"""

from __future__ import annotations

import argparse
import json
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
from audionet_gui.cli.entry import main as audionet
from audionet_gui.core.audio.augment import add_noise
from audionet_gui.core.audio.conditions import (
    fan_noise,
    rain_noise,
    traffic_noise,
    with_cheap_microphone,
    with_room,
)
from audionet_gui.core.audio.files import load_audio

SHARED = Path(__file__).resolve().parents[2] / "shared/data"
FSDD = SHARED / "fsdd_speakers"
NOISE = SHARED / "background_noise"
AUGMENT_NOISES = ("doing_the_dishes", "exercise_bike", "pink_noise")
TEST_NOISES = ("dude_miaowing", "running_tap", "white_noise")
SR = 8000  # FSDD's rate
SNRS = (20.0, 10.0, 5.0, 0.0)
NOT_A_NAME = ("unknown", "no speech", "silence")

# One row per lever: extra `audionet train` flags. "baseline" is the app before the robustness work; "defaults" is
# the app as it is (no flags). Rows of one lever name the front end, so they keep their meaning when a default moves.
NO_LEVERS = ["--no-room", "--no-mic", "--no-babble"]
PLAIN = ["--frontend", "none"]
ROWS: dict[str, list[str]] = {
    "no augmentation": ["--augment", "0", *PLAIN],
    "baseline": ["--augment", "1", *NO_LEVERS, *PLAIN],  # the app before this work: noise, level, shift, masks
    "+ rooms": ["--augment", "1", "--no-mic", "--no-babble", *PLAIN],
    "+ microphones": ["--augment", "1", "--no-room", "--no-babble", *PLAIN],
    "+ babble": ["--augment", "1", "--no-room", "--no-mic", *PLAIN],
    "all augmentation": ["--augment", "1", *PLAIN],
    "all augmentation x2": ["--augment", "2", *PLAIN],
    "all + band_norm": ["--augment", "1", "--frontend", "band_norm"],
    "all + pcen": ["--augment", "1", "--frontend", "pcen"],
    "all + floor": ["--augment", "1", "--frontend", "floor"],
    "all + energy gate": ["--augment", "1", "--gate", "energy", *PLAIN],
    "all + speech threshold 0.3": ["--augment", "1", "--speech-threshold", "0.3", *PLAIN],
    "all + pcen x2": ["--augment", "2", "--frontend", "pcen"],
    "defaults": [],
    "defaults x3": ["--augment", "3"],
    "defaults x4": ["--augment", "4"],
    "defaults x6": ["--augment", "6"],
    "defaults x4 + speech threshold 0.15": ["--augment", "4", "--speech-threshold", "0.15"],
    "defaults + speech threshold 0.15": ["--speech-threshold", "0.15"],
}


# ------------------------------------------------------------------------------------------------ test noise
def test_noises(rng: np.random.Generator) -> list[np.ndarray]:
    noises = [load_audio(NOISE / f"{name}.flac", SR) for name in TEST_NOISES]
    noises += [make(SR * 60, rng, SR).astype(np.float32) for make in (fan_noise, traffic_noise, rain_noise)]
    return [n / (np.sqrt(np.mean(n.astype(np.float64) ** 2)) or 1.0) for n in noises]


# ------------------------------------------------------------------------------------------------ data
def _filtered(x: np.ndarray, lo: float, hi: float, sr: int) -> np.ndarray:
    spec = np.fft.rfft(x)
    f = np.fft.rfftfreq(x.size, 1 / sr)
    spec[(f < lo) | (f > hi)] = 0
    return np.fft.irfft(spec, x.size)


def room_tone(n: int, rng: np.random.Generator) -> np.ndarray:
    return (_filtered(rng.standard_normal(n), 50, 3000, SR) * 10 ** (-70 / 20)).astype(np.float32)


def _write(path: Path, x: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    peak = float(np.max(np.abs(x)))
    sf.write(str(path), x / peak * 0.9 if peak > 0.99 else x, SR, subtype="PCM_16")


def make_utterances(out: Path, per_speaker: int, takes: range, seed: int) -> dict[str, list[Path]]:
    """``per_speaker`` utterances per FSDD speaker from the given takes: 3-5 digits, 0.15-0.6 s pauses."""
    rng = np.random.default_rng(seed)
    made: dict[str, list[Path]] = {}
    for speaker_dir in sorted(p for p in FSDD.iterdir() if p.is_dir()):
        clips = sorted(p for p in speaker_dir.glob("*.wav")
                       if int(re.match(r"\d+_\w+?_(\d+)\.wav", p.name).group(1)) in takes)
        for u in range(per_speaker):
            parts = []
            for clip in rng.choice(clips, size=int(rng.integers(3, 6)), replace=False):
                x, _ = sf.read(str(clip), dtype="float32")
                parts += [x, room_tone(int(rng.uniform(0.15, 0.6) * SR), rng)]
            path = out / speaker_dir.name / f"{speaker_dir.name}_utt{u:02d}.wav"
            _write(path, np.concatenate([room_tone(int(0.2 * SR), rng), *parts]))
            made.setdefault(speaker_dir.name, []).append(path)
    return made


def prepare(work: Path, n_train: int, n_test: int) -> dict[str, Path]:
    folders = {"train": work / "train", "test": work / "test", "noise_dir": work / "augment-noise",
               "nonspeech": work / "nonspeech"}
    if (work / "ready").exists():
        for snr in SNRS:
            folders[f"noise_{snr:g}db"] = work / f"test-noise-{snr:g}db"
        folders["room_mic"] = work / "test-room-mic"
        return folders
    shutil.rmtree(work, ignore_errors=True)
    make_utterances(folders["train"], n_train, range(5, 50), seed=1)
    test = make_utterances(folders["test"], n_test, range(0, 5), seed=2)
    folders["noise_dir"].mkdir(parents=True)
    for name in AUGMENT_NOISES:
        shutil.copy(NOISE / f"{name}.flac", folders["noise_dir"] / f"{name}.flac")
    rng = np.random.default_rng(3)
    noises = test_noises(rng)
    for snr in SNRS:
        folder = folders[f"noise_{snr:g}db"] = work / f"test-noise-{snr:g}db"
        for i, (speaker, paths) in enumerate(sorted(test.items())):
            for j, path in enumerate(paths):
                x, _ = sf.read(str(path), dtype="float32")
                _write(folder / speaker / path.name, add_noise(x, noises[(i + j) % len(noises)], snr, rng))
    folders["room_mic"] = work / "test-room-mic"
    for speaker, paths in test.items():
        for path in paths:
            x, _ = sf.read(str(path), dtype="float32")
            y = with_cheap_microphone(with_room(x, SR, rng, float(rng.uniform(0.4, 0.9))), SR, rng)
            _write(folders["room_mic"] / speaker / path.name, y)
    for k, noise in enumerate(noises):
        for j in range(5):
            start = int(rng.integers(0, noise.size - int(2.5 * SR)))
            _write(folders["nonspeech"] / f"noise{k}_{j}.wav", 0.1 * noise[start:start + int(2.5 * SR)])
    (work / "ready").write_text("ok")
    return folders


# ------------------------------------------------------------------------------------------------ scoring
def run_cli(args: list[str]) -> tuple[int, str]:
    """Run ``audionet ARGS`` in this process and capture what it prints."""
    import contextlib  # noqa: PLC0415 - bench only
    import io  # noqa: PLC0415 - bench only

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        status = audionet(args)
    return status, out.getvalue()


def evaluate(model: Path, folder: Path) -> dict:
    status, out = run_cli(["evaluate", str(model), str(folder), "--json", "--quiet"])
    if status != 0:
        raise RuntimeError(f"evaluate {folder} failed ({status})")
    return json.loads(out)


def named_fraction(model: Path, folder: Path) -> float:
    files = sorted(str(p) for p in folder.glob("*.wav"))
    status, out = run_cli(["predict", str(model), *files, "--json"])
    answers = [json.loads(line) for line in out.splitlines() if line.strip()]
    return sum(1 for a in answers if a.get("label") not in NOT_A_NAME) / max(1, len(answers))


def live_replay_accuracy(model: Path, folder: Path) -> float:
    from audionet_gui.core.live.engine import classifier_from_bundle, live_config_from_bundle  # noqa: PLC0415
    from audionet_gui.core.live.replay import live_answerer  # noqa: PLC0415
    from audionet_gui.core.model.bundle import load_bundle  # noqa: PLC0415

    bundle = load_bundle(model)
    answer = live_answerer(classifier_from_bundle(bundle), bundle.labels, bundle.spectrogram_config,
                           live_config_from_bundle(bundle))
    right = total = 0
    for path in sorted(folder.glob("*/*.wav")):
        right += answer(load_audio(path, bundle.sample_rate)) == path.parent.name
        total += 1
    return right / max(1, total)


def run_row(name: str, flags: list[str], folders: dict[str, Path], args, work: Path) -> dict:
    model = work / "models" / re.sub(r"\W+", "_", name)
    shutil.rmtree(model, ignore_errors=True)
    t0 = time.perf_counter()
    status, _ = run_cli(["train", str(folders["train"]), "--test-dir", str(folders["test"]), "--out", str(model),
                         "--backbone", args.backbone, "--weights", args.weights, "--quiet",
                         "--noise-dir", str(folders["noise_dir"]), "--no-bundled-noise", "--no-robustness", *flags])
    train_s = time.perf_counter() - t0
    if status != 0:
        return {"row": name, "error": f"train exited {status}"}
    row = {"row": name, "train_s": train_s, "clean": evaluate(model, folders["test"])["recording_accuracy"]}
    false_unknown = []
    for snr in SNRS:
        m = evaluate(model, folders[f"noise_{snr:g}db"])
        row[f"{snr:g}dB"] = m["recording_accuracy"]
        if snr in (10.0, 5.0):
            false_unknown.append(m.get("recording_unknown_rate", m.get("unknown_rate", float("nan"))))
    m = evaluate(model, folders["room_mic"])
    row["room_mic"] = m["recording_accuracy"]
    row["room_mic_no_speech"] = m.get("no_speech_rate", float("nan"))  # answered "no speech" by the gate
    row["false_unknown"] = float(np.mean(false_unknown))
    row["nonspeech_named"] = named_fraction(model, folders["nonspeech"])
    row["live"] = live_replay_accuracy(model, folders["test"]) if args.live else float("nan")
    return row


def mean_row(name: str, runs: list[dict]) -> dict:
    """The mean of a row's seeds, with each column's range (min-max) beside it in ``spread``."""
    good = [r for r in runs if "error" not in r]
    if not good:
        return {"row": f"{name} (mean)", "error": "every seed failed"}
    keys = [k for k in good[0] if k != "row"]
    row = {"row": f"{name} (mean of {len(good)})", **{k: float(np.nanmean([r[k] for r in good])) for k in keys}}
    row["spread"] = {k: [float(np.nanmin([r[k] for r in good])), float(np.nanmax([r[k] for r in good]))]
                     for k in keys}
    return row


def print_table(rows: list[dict]) -> None:
    cols = ["clean", "20dB", "10dB", "5dB", "0dB", "room_mic", "live", "false_unknown", "nonspeech_named"]
    print("\n| row | " + " | ".join(cols) + " | train s |")
    print("|" + " --- |" * (len(cols) + 2))
    for r in rows:
        if "error" in r:
            print(f"| {r['row']} | {r['error']} |")
            continue
        spread = r.get("spread", {})
        cells = [f"{100 * r[c]:.1f} %" + (f" ({100 * spread[c][0]:.0f}-{100 * spread[c][1]:.0f})"
                                          if c in spread else "") for c in cols]
        print(f"| {r['row']} | " + " | ".join(cells) + f" | {r['train_s']:.0f} |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--backbone", default="inception_v3")
    ap.add_argument("--weights", default="/work/weights/inception_v3_notop.weights.h5")
    ap.add_argument("--rows", default=",".join(ROWS), help=f"comma-separated, from: {', '.join(ROWS)}")
    ap.add_argument("--train-utterances", type=int, default=12)
    ap.add_argument("--test-utterances", type=int, default=15)
    ap.add_argument("--seeds", type=int, default=1,
                    help="train each row with this many seeds (model and augmentation) and add their mean and range")
    ap.add_argument("--no-live", dest="live", action="store_false", help="skip the live replay column")
    ap.add_argument("--work", type=Path, default=None, help="data and models here (kept); default a temp folder")
    args = ap.parse_args()

    work = args.work or Path(tempfile.mkdtemp(prefix="bench-robust-"))
    os.environ.setdefault("AUDIONET_CACHE_DIR", str(work / "cache"))
    folders = prepare(work / "data", args.train_utterances, args.test_utterances)
    rows = []
    for name in args.rows.split(","):
        runs = []
        for seed in range(args.seeds):
            # one seed is the app as a user runs it; more give the spread a row's figures have from training alone
            flags = ROWS[name] + (["--seed", str(seed), "--augment-seed", str(seed)] if args.seeds > 1 else [])
            runs.append(run_row(name if args.seeds == 1 else f"{name} (seed {seed})", flags, folders, args, work))
            print(json.dumps(runs[-1]), flush=True)
        rows += runs if args.seeds == 1 else [*runs, mean_row(name, runs)]
    print(f"\nFSDD speakers, {args.train_utterances} training / {args.test_utterances} test utterances each, "
          f"backbone {args.backbone}")
    print_table(rows)
    if args.work is None:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
