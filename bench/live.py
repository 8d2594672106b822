"""Live identification latency: from the arrival of a window's last sample to the decision being emitted.

For each backbone, a bundle-shaped model (the backbone cut at its default feature layer + a softmax head, as
training saves it; the head is untrained: latency does not depend on weight values) runs in the real
``LiveEngine`` with its own pump and inference threads, on the fast inference path (``make_fast_predictor``:
TFLite, or tf.function/XLA with ``AUDIONET_INFERENCE=tf``), at the backbone's default image size. Audio is
speech-like (harmonics with a gliding pitch, noise, never silent so every window is classified).

Audio source (``--source``):
  direct  (default) a feeder thread pushes 10 ms blocks at 44.1 kHz into the input ring buffer in real time,
          exactly what the PortAudio callback does (stamping each block's arrival), then the engine resamples
          to 16 kHz. Measures everything after the callback.
  mic     through the virtual microphone (scripts/virtual_mic.sh): paplay -> PulseAudio -> PortAudio callback.
          Same measurement point (the callback); PulseAudio's own buffering before it is not included.

Usage:  .venv/bin/python bench/live.py [--backbones inception_v3,mobilenet_v2] [--decisions 100]
            [--weights standin|none] [--source direct|mic] [--hop 0.5] [--window 2.0]
Prints p50/p95/max of latency, of the model call alone, and the spectrogram display's update rate (spec fps:
callbacks with new columns per second; cols/s: columns per second); no pass/fail (target: p95 < 250 ms for
inception_v3 on 2 cores).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import soundfile as sf

from audionet_gui.core.answers import SILENCE
from audionet_gui.core.audio.spectrogram import SpectrogramConfig
from audionet_gui.core.live.engine import LiveConfig, LiveEngine, MicrophoneSource, PushSource
from audionet_gui.core.model.backbones import build_feature_extractor, configure_threads, get_spec, make_fast_predictor

STANDIN = {"inception_v3": "/work/weights/inception_v3_notop.weights.h5",
           "mobilenet_v2": "/work/weights/mobilenet_v2_notop.weights.h5"}
LABELS = ["alice", "bob", "carol"]


def speech_like(seconds: float, sr: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * sr)) / sr
    f0 = 160 + 60 * np.sin(2 * np.pi * 0.4 * t)
    phase = 2 * np.pi * np.cumsum(f0) / sr
    x = sum(np.sin(k * phase) / k for k in range(1, 10)) * (0.6 + 0.4 * np.sin(2 * np.pi * 3 * t))
    x = x + 0.05 * rng.standard_normal(t.size)
    return (0.3 * x / np.max(np.abs(x))).astype(np.float32)


def build_classifier(backbone: str, weights: str):
    import keras  # noqa: PLC0415 - loads TensorFlow/Keras (3 s): only when this runs

    path = None if weights == "none" else STANDIN[backbone]
    if path is not None and not Path(path).is_file():
        sys.exit(f"bench: {path} not found; build it with ../shared/tools/imagenet-standin/build.sh "
                 "or use --weights none")
    extractor = build_feature_extractor(backbone, weights=path or "none")
    head = keras.layers.Dense(len(LABELS), activation="softmax")
    model = keras.Model(extractor.input, head(extractor.output))
    width, height = get_spec(backbone).default_image_size
    return make_fast_predictor(model), (width, height)


class TimedClassifier:
    def __init__(self, fn):
        self.fn, self.times_ms = fn, []

    def __call__(self, images):
        t0 = time.perf_counter()
        out = self.fn(images)
        self.times_ms.append((time.perf_counter() - t0) * 1000.0)
        return out


def feed_direct(source: PushSource, audio: np.ndarray, sr: int, stop: threading.Event, block_s: float = 0.01):
    """Act as the PortAudio callback: one block every ``block_s`` in real time, stamped on arrival."""
    block = int(sr * block_s)
    start = time.monotonic()
    pos, n = 0, 0
    while not stop.is_set():
        source.push(audio[pos:pos + block])
        pos = (pos + block) % (audio.size - block)
        n += 1
        delay = start + n * block_s - time.monotonic()
        if delay > 0:
            time.sleep(delay)


def run_backbone(backbone: str, args) -> dict:
    fast, (width, height) = build_classifier(backbone, args.weights)
    classifier = TimedClassifier(fast)
    spec = SpectrogramConfig(image_width=width, image_height=height)
    config = LiveConfig(window_s=args.window, hop_s=args.hop, silence_db=-50.0, threshold=0.5)
    decisions, events = [], []
    done = threading.Event()

    def on_decision(d):
        decisions.append(d)
        if len(decisions) >= args.decisions + args.skip:
            done.set()

    stop = threading.Event()
    player = None
    if args.source == "direct":
        source = PushSource(in_rate=44100, sample_rate=spec.sample_rate)
    else:
        source = MicrophoneSource(None, sample_rate=spec.sample_rate)
    updates = []  # (monotonic time, columns) of each spectrogram update: the scrolling display's frame rate

    engine = LiveEngine(source, classifier, LABELS, spec, config, on_decision=on_decision,
                        on_columns=lambda c, t0: updates.append((time.monotonic(), c.shape[1])),
                        on_event=lambda k, m: events.append((k, m)))
    warm = engine.warm_up()
    classifier.times_ms.clear()
    seconds = args.window + (args.decisions + args.skip) * args.hop + 5
    engine.start()
    feeder = None
    if args.source == "direct":
        feeder = threading.Thread(target=feed_direct, args=(source, speech_like(30.0, 44100), 44100, stop), daemon=True)
        feeder.start()
    else:

        wav = Path(tempfile.mkdtemp()) / "speech.wav"
        sf.write(wav, speech_like(seconds, 44100), 44100)
        player = subprocess.Popen(["paplay", "--device=vspeaker", str(wav)])
    try:
        done.wait(seconds + 60)
    finally:
        stop.set()
        engine.stop()
        if feeder is not None:
            feeder.join()
        if player is not None:
            player.terminate()
            player.wait()
    used = decisions[args.skip:]
    span = updates[-1][0] - updates[0][0] if len(updates) > 1 else float("nan")
    lat = np.array([d.latency_ms for d in used])
    inf = np.array(classifier.times_ms[args.skip:])
    return {"backbone": backbone, "size": f"{width}x{height}", "warm_s": warm, "n": len(used),
            "p50": np.percentile(lat, 50), "p95": np.percentile(lat, 95), "max": lat.max(),
            "inf_p50": np.percentile(inf, 50), "inf_p95": np.percentile(inf, 95),
            "skipped": engine.windows_skipped, "updates_s": (len(updates) - 1) / span,
            "columns_s": sum(c for _, c in updates[1:]) / span, "silent": sum(d.label == SILENCE for d in used),
            "errors": [m for k, m in events if k == "error"]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--backbones", default="inception_v3,mobilenet_v2")
    ap.add_argument("--decisions", type=int, default=100)
    ap.add_argument("--skip", type=int, default=3, help="first decisions not counted (threads settling)")
    ap.add_argument("--weights", choices=("standin", "none"), default="standin")
    ap.add_argument("--source", choices=("direct", "mic"), default="direct")
    ap.add_argument("--hop", type=float, default=0.5)
    ap.add_argument("--window", type=float, default=2.0)
    args = ap.parse_args()

    configure_threads()
    print(f"live latency, {args.source} input, hop {args.hop} s, window {args.window} s, weights {args.weights}, "
          f"{os.cpu_count()} cores; latency = last sample of a window arriving -> decision emitted")
    print(f"{'backbone':<14} {'image':>8} {'n':>4} {'p50 ms':>7} {'p95 ms':>7} {'max ms':>7} "
          f"{'model p50':>9} {'model p95':>9} {'skipped':>7} {'warm-up s':>9} {'spec fps':>8} {'cols/s':>6}")
    for backbone in args.backbones.split(","):
        r = run_backbone(backbone.strip(), args)
        print(f"{r['backbone']:<14} {r['size']:>8} {r['n']:>4} {r['p50']:7.1f} {r['p95']:7.1f} {r['max']:7.1f} "
              f"{r['inf_p50']:9.1f} {r['inf_p95']:9.1f} {r['skipped']:>7} {r['warm_s']:9.1f} "
              f"{r['updates_s']:8.1f} {r['columns_s']:6.0f}", flush=True)
        if r["silent"] or r["errors"]:
            print(f"  note: {r['silent']} silent windows, errors: {r['errors']}")


if __name__ == "__main__":
    main()
