"""File prediction throughput and memory: windows per second of ``predict_file`` and peak RSS on long files.

For each backbone, a bundle-shaped model (the backbone cut at its default feature layer + a softmax head, as
training saves it; random weights: speed and memory do not depend on weight values) is saved as a real bundle,
loaded back (safe mode) and run on synthetic files of the given lengths (tones changing every 10 s, 16 kHz).
Each file runs in a fresh process so peak RSS is that file's alone.

Usage:  .venv/bin/python bench/predict.py [--backbones inception_v3,small_cnn] [--minutes 1,10] [--image-size N]
Prints a table; no pass/fail.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

from audionet_gui.core.model.backbones import build_feature_extractor, resolve_image_size
from audionet_gui.core.model.bundle import load_bundle, make_config, save_bundle
from audionet_gui.core.model.predict import predict_file
from audionet_gui.core.settings import ImageSettings

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def make_file(path: Path, minutes: float, sr: int = 16000) -> None:
    rng = np.random.default_rng(0)
    with sf.SoundFile(str(path), "w", sr, 1, "PCM_16") as f:
        for k in range(int(minutes * 6)):
            t = np.arange(10 * sr) / sr
            hz = (300, 800, 2000)[k % 3]
            f.write((0.3 * np.sin(2 * np.pi * hz * t) + 0.01 * rng.standard_normal(t.size)).astype(np.float32))


def make_bundle(path: Path, backbone: str, image_size) -> None:
    import keras  # noqa: PLC0415 - loads TensorFlow/Keras (3 s): only when this runs

    size = resolve_image_size(backbone, image_size)
    extractor = build_feature_extractor(backbone, "none", size)
    inputs = keras.Input(extractor.input_shape[1:], name="image")
    model = keras.Model(inputs, keras.layers.Dense(3, activation="softmax")(extractor(inputs)))
    config = make_config(settings=ImageSettings(image_size=size), backbone=backbone, unknown_threshold=0.5,
                         weights="none")
    save_bundle(path, model, ["a", "b", "c"], config, {})


def run_one(bundle_dir: str, audio: str) -> None:
    """Child process: load, predict once, print a JSON line with timings and peak RSS."""

    t0 = time.perf_counter()
    bundle = load_bundle(bundle_dir)
    t_load = time.perf_counter() - t0
    t0 = time.perf_counter()
    result = predict_file(bundle, audio)
    t_pred = time.perf_counter() - t0
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"windows": result.windows, "load_s": t_load, "predict_s": t_pred, "peak_rss_mb": rss_mb,
                      "segments": len(result.timeline)}))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--backbones", default="small_cnn,mobilenet_v2,inception_v3")
    ap.add_argument("--minutes", default="1,10")
    ap.add_argument("--image-size", type=int, default=None, help="default: each backbone's own")
    ap.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        run_one(*args.child)
        return
    with tempfile.TemporaryDirectory(prefix="bench-predict-") as tmp:
        tmp = Path(tmp)
        files = {}
        for m in (float(x) for x in args.minutes.split(",")):
            files[m] = tmp / f"{m:g}min.wav"
            make_file(files[m], m)
        print(f"{'backbone':<14} {'size':>7} {'audio':>8} {'windows':>8} {'load s':>7} {'predict s':>9} "
              f"{'windows/s':>9} {'x real time':>11} {'peak RSS MB':>11}")
        for backbone in args.backbones.split(","):
            bundle = tmp / f"model-{backbone}"
            make_bundle(bundle, backbone, args.image_size)
            size = json.loads((bundle / "config.json").read_text())["image_size"]
            for minutes, audio in files.items():
                out = subprocess.run([sys.executable, __file__, "--child", str(bundle), str(audio)],
                                     capture_output=True, text=True, check=True).stdout
                r = json.loads(out.strip().splitlines()[-1])
                print(f"{backbone:<14} {size[0]:>3}x{size[1]:<3} {minutes:>6g}m {r['windows']:>8} "
                      f"{r['load_s']:>7.1f} {r['predict_s']:>9.1f} {r['windows'] / r['predict_s']:>9.1f} "
                      f"{minutes * 60 / r['predict_s']:>11.1f} {r['peak_rss_mb']:>11.0f}", flush=True)


if __name__ == "__main__":
    main()
