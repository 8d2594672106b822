"""Saliency: which method is faithful (the deletion test) and how long one window takes.

For each window of a few audio files, both maps of core/model/explain.py (occlusion, Grad-CAM) and a random
order are scored by ``faithfulness`` (the deletion test: mean probability of the answer covering cells least-salient
first minus most-salient first; higher = more faithful). Prints one row per method: mean score, how often it
beat a random map, and seconds per window. Usage:
  .venv/bin/python bench/explain.py MODEL_DIR AUDIO_FILE_OR_FOLDER [--max-windows N]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from audionet_gui.core.audio.files import is_audio_file
from audionet_gui.core.audio.spectrogram import compute_spectrogram, render_image
from audionet_gui.core.audio.windows import iter_file_windows
from audionet_gui.core.model.bundle import load_bundle
from audionet_gui.core.model.explain import METHODS, explain_window, faithfulness, silence_colour
from audionet_gui.core.model.predict import predict_images


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("audio")
    ap.add_argument("--max-windows", type=int, default=24)
    ap.add_argument("--per-file", type=int, default=1)
    args = ap.parse_args()
    bundle = load_bundle(args.model)
    root = Path(args.audio)
    files = sorted(p for p in root.rglob("*") if is_audio_file(p)) if root.is_dir() else [root]
    rng = np.random.default_rng(0)
    rng.shuffle(files)
    predict = lambda x: predict_images(bundle, x)  # noqa: E731
    fill = silence_colour(bundle.spectrogram_config)
    scores = {m: [] for m in (*METHODS, "random")}
    seconds = {m: [] for m in METHODS}
    n = 0
    start_p: list[float] = []
    explain_window(bundle, next(iter_file_windows(files[0], bundle.sample_rate, bundle.window_config)),
                   "gradcam")  # warm up: the first call of each path compiles
    for path in files:
        windows = list(iter_file_windows(path, bundle.sample_rate, bundle.window_config))
        if not windows:
            continue
        cfg = bundle.spectrogram_config
        sure = predict(np.stack([render_image(compute_spectrogram(w.samples, cfg).values_db, cfg)
                                 for w in windows])).max(axis=1)
        # the windows the model is surest about (as ``audionet explain`` picks by default)
        for w in [windows[i] for i in np.argsort(-sure)[: args.per_file]]:
            maps = {}
            for m in METHODS:
                t0 = time.perf_counter()
                maps[m] = explain_window(bundle, w, m)
                seconds[m].append(time.perf_counter() - t0)
            e = maps[METHODS[0]]
            start_p.append(e.p)
            index = bundle.labels.index(e.label)
            for m, x in maps.items():
                scores[m].append(faithfulness(predict, e.image, index, x.values[::-1], fill))
            scores["random"].append(faithfulness(predict, e.image, index, rng.random(e.values.shape), fill))
            n += 1
            if n >= args.max_windows:
                break
        if n >= args.max_windows:
            break
    print(f"{n} windows of {args.audio} with {args.model} ({bundle.backbone})")
    print(f"mean p of the answer before deletion: {np.mean(start_p):.3f}")
    print(f"{'method':<10} {'faithful':>9} {'beats random':>13} {'s/window':>9}")
    for m in (*METHODS, "random"):
        s = np.asarray(scores[m])
        beats = np.mean(s > np.asarray(scores["random"])) if m != "random" else float("nan")
        sec = np.median(seconds[m]) if m in seconds else float("nan")
        print(f"{m:<10} {s.mean():9.3f} {beats:13.0%} {sec:9.2f}")


if __name__ == "__main__":
    main()
