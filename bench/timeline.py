"""Timeline bench: who spoke when in conversations of FSDD speakers, two of whom the model never heard.

    .venv/bin/python bench/timeline.py [--backbone inception_v3 --weights /work/weights/inception_v3_notop.weights.h5]
        [--strangers nicolas,yweweler] [--conversations 8] [--smoothing viterbi,none] [--hour] [--work DIR]
        [--seed N]

Data (made once per --work folder, deterministic):
- enrolment: 12 utterances (3-5 digits with 0.15-0.6 s pauses of quiet room tone) per enrolled speaker from takes
  5-49 (FSDD's training split), test utterances from takes 0-4; the strangers are left out of training entirely;
- conversations: about 60 s each, turns of 2-6 digits of one speaker (takes 0-4 only: never heard in training),
  0.1-0.3 s pauses inside a turn and 0.3-0.9 s between turns; the next speaker is any other one, strangers included.
Scores (over the reference speech time, from the turns' first to last sample):
- enrolled time right: the share of enrolled speakers' time given their own name;
- stranger time unknown: the share of strangers' time given an ``unknown-N`` id; and one id per stranger: the share of
  a stranger's unknown time under its most used id, and whether the strangers' main ids differ;
- DER (core/turn_metrics.py): missed speech + false alarm + confusion over reference time, names mapped as they are,
  unknown ids mapped one-to-one to strangers for the least error (the usual optimal mapping).
``--hour``: an hour of conversation in one file through ``audionet timeline``; the wall time is the speed figure.
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import re
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from audionet_gui.cli.entry import main as audionet
from audionet_gui.core.turn_metrics import Turn, diarization_scores

# beside the checkout (/work/main -> /work/shared), also from a worktree one level deeper
FSDD = next((p / "shared/data/fsdd_speakers" for p in Path(__file__).resolve().parents[1:4]
             if (p / "shared/data/fsdd_speakers").is_dir()), Path("shared/data/fsdd_speakers"))
SR = 8000  # FSDD's rate
TRAIN_TAKES, TEST_TAKES = range(5, 50), range(0, 5)  # FSDD's official split


def _clips(speaker: str, takes: range) -> list[Path]:
    return sorted(p for p in (FSDD / speaker).glob("*.wav")
                  if int(re.match(r"\d+_\w+?_(\d+)\.wav", p.name).group(1)) in takes)


def _tone(seconds: float, rng: np.random.Generator) -> np.ndarray:
    n = int(seconds * SR)
    spec = np.fft.rfft(rng.standard_normal(n))
    f = np.fft.rfftfreq(n, 1 / SR)
    spec[(f < 50) | (f > 3000)] = 0
    return (np.fft.irfft(spec, n) * 10 ** (-70 / 20)).astype(np.float32)


def _read(path: Path) -> np.ndarray:
    x, _ = sf.read(str(path), dtype="float32")
    return x


def _write(path: Path, x: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    peak = float(np.max(np.abs(x)))
    sf.write(str(path), x / peak * 0.9 if peak > 0.99 else x, SR, subtype="PCM_16")


def make_utterances(out: Path, speakers: list[str], per_speaker: int, takes: range, seed: int) -> None:
    rng = np.random.default_rng(seed)
    for speaker in speakers:
        clips = _clips(speaker, takes)
        for u in range(per_speaker):
            parts = [_tone(0.2, rng)]
            for clip in rng.choice(clips, size=int(rng.integers(3, 6)), replace=False):
                parts += [_read(clip), _tone(rng.uniform(0.15, 0.6), rng)]
            _write(out / speaker / f"{speaker}_utt{u:02d}.wav", np.concatenate(parts))


def make_conversation(speakers: list[str], seconds: float, rng: np.random.Generator) -> tuple[np.ndarray, list[Turn]]:
    """A conversation of about ``seconds`` and its reference turns (speech from first to last sample of a turn)."""
    parts, turns, t, last = [_tone(0.5, rng)], [], 0.5, None
    while t < seconds:
        speaker = rng.choice([s for s in speakers if s != last])
        start = t
        for k in range(int(rng.integers(2, 7))):
            if k:
                gap = _tone(rng.uniform(0.1, 0.3), rng)
                parts.append(gap)
                t += gap.size / SR
            x = _read(rng.choice(_clips(str(speaker), TEST_TAKES)))
            parts.append(x)
            t += x.size / SR
        turns.append(Turn(start, t, str(speaker)))
        gap = _tone(rng.uniform(0.3, 0.9), rng)
        parts.append(gap)
        t += gap.size / SR
        last = speaker
    return np.concatenate(parts), turns


def prepare(work: Path, enrolled: list[str], strangers: list[str], n_conv: int, seconds: float) -> dict:
    data = {"train": work / "train", "test": work / "test", "conversations": work / "conversations"}
    if (work / "ready").exists():
        return data
    shutil.rmtree(work, ignore_errors=True)
    make_utterances(data["train"], enrolled, 12, TRAIN_TAKES, seed=1)
    make_utterances(data["test"], enrolled, 6, TEST_TAKES, seed=2)
    rng = np.random.default_rng(3)
    for i in range(n_conv):
        audio, turns = make_conversation(enrolled + strangers, seconds, rng)
        _write(data["conversations"] / f"conv{i:02d}.wav", audio)
        (data["conversations"] / f"conv{i:02d}.json").write_text(
            json.dumps([[tr.start, tr.end, tr.label] for tr in turns]))
    (work / "ready").write_text("ok")
    return data


def run_cli(args: list[str]) -> tuple[int, str]:
    import contextlib  # noqa: PLC0415 - bench only
    import io  # noqa: PLC0415 - bench only

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        status = audionet(args)
    return status, out.getvalue()


def train(work: Path, data: dict, args) -> Path:
    model = work / "model"
    if (model / "format_version").exists():
        return model
    t0 = time.perf_counter()
    status, _ = run_cli(["train", str(data["train"]), "--test-dir", str(data["test"]), "--out", str(model),
                         "--backbone", args.backbone, "--weights", args.weights, "--quiet", "--no-robustness",
                         "--seed", str(args.seed), "--augment-seed", str(args.seed)])
    if status:
        raise SystemExit(f"training failed ({status})")
    print(f"trained in {time.perf_counter() - t0:.0f} s", flush=True)
    return model


def window_outputs_of(model: Path, data: dict) -> tuple[object, list]:
    """The bundle and, per conversation, its reference turns and window outputs (run once, scored many ways)."""
    from audionet_gui.core.answers import speech_spans  # noqa: PLC0415 - bench only
    from audionet_gui.core.audio.vad import CHUNK, VAD_RATE  # noqa: PLC0415 - bench only
    from audionet_gui.core.audio.windows import iter_file_windows  # noqa: PLC0415 - bench only
    from audionet_gui.core.model.bundle import load_bundle  # noqa: PLC0415 - bench only
    from audionet_gui.core.model.timeline import file_speech_flags, window_outputs  # noqa: PLC0415 - bench only

    bundle = load_bundle(model)
    convs = []
    for wav in sorted(data["conversations"].glob("*.wav")):
        ref = [Turn(*t) for t in json.loads(wav.with_suffix(".json").read_text())]
        # as audionet timeline: the speech detector once over the file gates the windows and cuts the turns
        flags = file_speech_flags(wav, bundle.window_config.speech_threshold)
        outputs = window_outputs(bundle, iter_file_windows(wav, bundle.sample_rate, bundle.window_config),
                                 speech=flags)
        convs.append((ref, outputs, speech_spans(flags, CHUNK / VAD_RATE)))
    return bundle, convs


def score(bundle, convs: list, strangers: list[str], row: str) -> dict:
    """``row``: ``none`` or ``viterbi[/SWITCH_COST[/MIN_TURN_S]]`` (the defaults where left out), optionally with
    ``@THRESHOLD`` (the unknown threshold instead of the model's), ``+softmax`` (the model's softmax gate alone:
    without its open-set score, at the threshold calibration chose for the softmax alone, or at ``@THRESHOLD``) and
    ``+untrimmed`` (turns not cut to the speech detector's spans)."""
    from audionet_gui.core.answers import (  # noqa: PLC0415 - bench only
        MIN_TURN_S,
        SWITCH_COST,
        speaker_turns,
        trim_to_speech,
    )

    untrimmed, softmax = "+untrimmed" in row, "+softmax" in row
    row = row.replace("+untrimmed", "").replace("+softmax", "")
    row, _, threshold = row.partition("@")
    calibration = bundle.metrics.get("calibration") or {}
    if softmax and not threshold and calibration.get("softmax_only"):
        threshold = str(calibration["softmax_only"]["threshold"])  # the same model's gate without the open set
    smoothing, *params = row.split("/")
    cost = float(params[0]) if params else SWITCH_COST
    min_turn = float(params[1]) if len(params) > 1 else MIN_TURN_S
    hyps = []
    for _, (starts, ends, probs, feats), spans in convs:
        if softmax:  # the open-set posterior q * softmax back to the softmax (rows sum to q)
            total = probs.sum(axis=1, keepdims=True)
            probs = np.divide(probs, total, out=np.zeros_like(probs), where=total > 0)
        segments = speaker_turns(starts, ends, probs, bundle.labels,
                                 float(threshold) if threshold else bundle.unknown_threshold,
                                 bundle.window_config.hop_s, feats, smoothing=smoothing, min_turn_s=min_turn,
                                 switch_cost=cost)
        if not untrimmed:
            segments = trim_to_speech(segments, spans, snap_s=bundle.window_config.hop_s)
        hyps.append([Turn(x.start_s, x.end_s, x.label) for x in segments])
    return diarization_scores([ref for ref, *_ in convs], hyps, strangers)


def hour_speed(model: Path, data: dict, work: Path, minutes: float = 60.0) -> float:
    long_wav = work / ("hour.wav" if minutes == 60 else f"{minutes:g}min.wav")
    if not long_wav.exists():
        convs = [_read(p) for p in sorted(data["conversations"].glob("*.wav"))]
        loop = np.concatenate(convs)
        n = int(minutes * 60 * SR)
        _write(long_wav, np.tile(loop, int(np.ceil(n / loop.size)))[:n])
    print(f"load average before: {os.getloadavg()[0]:.1f}", flush=True)
    cpu0 = resource.getrusage(resource.RUSAGE_SELF)
    t0 = time.perf_counter()
    status, _ = run_cli(["timeline", str(model), str(long_wav), "--out", str(work / "hour.json"), "--quiet"])
    cpu1 = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime)
    print(f"load average after: {os.getloadavg()[0]:.1f}; CPU time {cpu:.0f} s (on 2 free cores about "
          f"{cpu / 2:.0f} s wall)", flush=True)
    if status:
        raise SystemExit(f"timeline of the hour failed ({status})")
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--backbone", default="inception_v3")
    ap.add_argument("--weights", default="/work/weights/inception_v3_notop.weights.h5")
    ap.add_argument("--strangers", default="nicolas,yweweler")
    ap.add_argument("--conversations", type=int, default=8)
    ap.add_argument("--seconds", type=float, default=60.0, help="length of a conversation")
    ap.add_argument("--smoothing", default="none,viterbi,viterbi+softmax",
                    help="comma-separated rows: none or viterbi[/SWITCH_COST[/MIN_TURN_S]], each optionally "
                         "@THRESHOLD (unknown threshold instead of the model's)")
    ap.add_argument("--hour", action="store_true", help="also time an hour of audio")
    ap.add_argument("--seed", type=int, default=0, help="training seed (model and augmentation)")
    ap.add_argument("--train-only", action="store_true")
    ap.add_argument("--hour-only", action="store_true", help="only time an hour of audio")
    ap.add_argument("--minutes", type=float, default=60.0, help="length of the timed file (--hour-only)")
    ap.add_argument("--work", type=Path, default=None, help="data and model here (kept); default a temp folder")
    args = ap.parse_args()

    work = args.work or Path(tempfile.mkdtemp(prefix="bench-timeline-"))
    os.environ.setdefault("AUDIONET_CACHE_DIR", str(work / "cache"))
    strangers = args.strangers.split(",")
    speakers = sorted(p.name for p in FSDD.iterdir() if p.is_dir())
    enrolled = [s for s in speakers if s not in strangers]
    data = prepare(work / "data", enrolled, strangers, args.conversations, args.seconds)
    model = train(work, data, args)
    if args.train_only:
        return
    if args.hour_only:
        seconds = hour_speed(model, data, work, args.minutes)
        print(f"{args.minutes:g} min of audio: {seconds:.0f} s wall ({seconds / 60:.1f} min), {os.cpu_count()} cores")
        return
    t0 = time.perf_counter()
    from audionet_gui.core.model.bundle import load_bundle  # noqa: PLC0415 - bench only

    # the network's part, kept between runs of the rows (per model: a model trained again makes new outputs)
    created = str(load_bundle(model, load_model=False).metrics.get("created", ""))
    cached = work / f"window_outputs-{re.sub(r'[^0-9]', '', created)}.pkl"
    if cached.exists():
        bundle, convs = load_bundle(model, load_model=False), pickle.loads(cached.read_bytes())
    else:
        bundle, convs = window_outputs_of(model, data)
        cached.write_bytes(pickle.dumps(convs))
    print(f"window outputs of {len(convs)} conversations: {time.perf_counter() - t0:.0f} s; model threshold "
          f"{bundle.unknown_threshold:.3f}", flush=True)
    rows = []
    for smoothing in args.smoothing.split(","):
        t0 = time.perf_counter()
        row = {"smoothing": smoothing, **score(bundle, convs, strangers, smoothing)}
        row["seconds"] = round(time.perf_counter() - t0, 1)
        rows.append(row)
        print(json.dumps(row), flush=True)
    print(f"\n{args.conversations} conversations of ~{args.seconds:.0f} s; enrolled {', '.join(enrolled)}; "
          f"strangers {', '.join(strangers)}; backbone {args.backbone}")
    print("| smoothing | enrolled right | stranger unknown | stranger main id | distinct ids | DER | s |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for r in rows:
        print(f"| {r['smoothing']} | {r['enrolled_right']:.1%} | {r['stranger_unknown']:.1%} | "
              f"{r['stranger_main_id']:.1%} | {r['strangers_distinct']} | {r['der']:.1%} | {r['seconds']} |")
    if args.hour:
        seconds = hour_speed(model, data, work)
        print(f"\nan hour of audio: {seconds:.0f} s wall ({seconds / 60:.1f} min), {os.cpu_count()} cores")
    if args.work is None:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
