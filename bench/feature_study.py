"""Which backbone features hold a speaker under noise and through another room? A study on a robustness-bench
model's own windows: features of several InceptionV3 depths and poolings, extracted once, then heads fitted on
each set in seconds. Figures, not pass/fail.

    .venv/bin/python bench/feature_study.py --work DIR --model DIR/models/defaults [--weights FILE] [--extract]

``--work`` is a ``bench/robustness.py --work`` folder (its data/ and cache/); ``--model`` one of its trained models:
its training workspace (manifest rows train/val, augmented copies included) gives the training windows, the bench's
test folders (clean, 20/10/5/0 dB, room + microphone) are cut into windows the way ``audionet evaluate`` cuts them,
with the model's speech gate. A recording is right when the mean of its gated windows' probabilities names its
speaker ("no speech" counts wrong), as in the bench.
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from audionet_gui.core.audio.spectrogram import spectrogram_image
from audionet_gui.core.audio.vad import has_speech, window_speech
from audionet_gui.core.audio.windows import iter_file_windows
from audionet_gui.core.model.bundle import load_bundle
from audionet_gui.core.model.features import load_image

LAYERS = ("mixed2", "mixed3", "mixed4", "mixed5", "mixed6", "mixed7")
BANDS = 3
CONDITIONS = {"clean": "test", "20 dB": "test-noise-20db", "10 dB": "test-noise-10db", "5 dB": "test-noise-5db",
              "0 dB": "test-noise-0db", "room+mic": "test-room-mic"}


def workspace_of(work: Path, frontend: str) -> Path:
    """The bench's training workspace made with the model's front end (the bench's rows share one per setting)."""
    import json  # noqa: PLC0415 - bench only

    for ws in sorted((work / "cache/workspaces").iterdir()):
        info = ws / "workspace.json"
        if info.exists() and json.loads(info.read_text())["spectrogram"].get("frontend") == frontend:
            return ws
    raise SystemExit(f"no workspace with front end {frontend} under {work}/cache/workspaces")


def build_extractor(weights: str, size: tuple[int, int]):
    import keras  # noqa: PLC0415 - bench only

    full = keras.applications.InceptionV3(weights=None, include_top=False, input_shape=(size[1], size[0], 3))
    full.load_weights(weights)
    outs = [full.get_layer(name).output for name in LAYERS]
    inputs = keras.Input((size[1], size[0], 3))
    maps = keras.Model(full.input, outs)(keras.layers.Rescaling(1 / 127.5, offset=-1)(inputs))
    pooled = []
    for m in maps:
        pooled.append(keras.ops.mean(m, axis=(1, 2)))
        pooled.append(keras.ops.std(m, axis=(1, 2)))
        bands = keras.ops.mean(m, axis=2)  # (N, H, C): over time (image width)
        h = bands.shape[1]
        edges = np.linspace(0, h, BANDS + 1).round().astype(int)
        pooled += [keras.ops.mean(bands[:, a:b], axis=1) for a, b in zip(edges[:-1], edges[1:])]
    return keras.Model(inputs, pooled)


def extract(work: Path, model: Path, weights: str, out: Path) -> None:
    bundle = load_bundle(model)
    spec, wcfg, rate = bundle.spectrogram_config, bundle.window_config, bundle.sample_rate
    labels = list(bundle.labels)
    ws = workspace_of(work, spec.frontend)
    sets: dict[str, dict] = {}
    rows = list(csv.DictReader(open(ws / "manifest.csv")))
    for split in ("train", "val"):
        chosen = [r for r in rows if r["split"] == split]
        sets[split] = dict(images=[ws / r["image"] for r in chosen], y=[labels.index(r["label"]) for r in chosen],
                           rec=[r["source"] for r in chosen], speech=[True] * len(chosen),
                           aug=[r["augmented"] != "0" for r in chosen])
    for name, folder in CONDITIONS.items():
        items = dict(images=[], y=[], rec=[], speech=[], aug=[])
        for path in sorted((work / "data" / folder).glob("*/*.wav")):
            for w in iter_file_windows(path, rate, wcfg):
                items["images"].append(spectrogram_image(w.samples, spec))
                items["y"].append(labels.index(path.parent.name))
                items["rec"].append(str(path))
                items["speech"].append(has_speech(window_speech(w.samples, rate, wcfg.speech_threshold)))
                items["aug"].append(False)
        sets[name] = items
        print(name, len(items["images"]), "windows", sum(items["speech"]), "with speech", flush=True)
    extractor = build_extractor(weights, bundle.image_size)
    arrays = {}
    for name, items in sets.items():
        t0 = time.monotonic()
        feats = None
        for i in range(0, len(items["images"]), 32):
            batch = np.stack([load_image(x, bundle.image_size) if isinstance(x, Path) else x
                              for x in items["images"][i:i + 32]]).astype(np.float32)
            outs = [np.asarray(o) for o in extractor(batch, training=False)]
            feats = [o for o in outs] if feats is None else [np.concatenate([f, o]) for f, o in zip(feats, outs)]
        for k, f in enumerate(feats):
            arrays[f"{name}/f{k}"] = f
        for key in ("y", "rec", "speech", "aug"):
            arrays[f"{name}/{key}"] = np.asarray(items[key])
        print(name, "features", round(time.monotonic() - t0, 1), "s", flush=True)
    np.savez(out, labels=np.asarray(labels), **arrays)


# ------------------------------------------------------------------------------------------------ heads
def feature_names() -> list[str]:
    names = []
    for layer in LAYERS:
        names += [f"{layer}.mean", f"{layer}.std"] + [f"{layer}.band{b}" for b in range(BANDS)]
    return names


def pick(data, split: str, parts: list[str]) -> np.ndarray:
    names = feature_names()
    return np.concatenate([data[f"{split}/f{names.index(p)}"] for p in parts], axis=1)


def recording_accuracy(probs: np.ndarray, y: np.ndarray, rec: np.ndarray, speech: np.ndarray,
                       rule: str = "mean") -> float:
    right = total = 0
    for r in np.unique(rec):
        idx = (rec == r)
        voters = probs[idx & speech]
        total += 1
        if len(voters) == 0:
            continue
        score = np.log(np.clip(voters, 1e-6, 1)).sum(0) if rule == "logsum" else voters.mean(0)
        right += int(score.argmax() == y[idx][0])
    return right / max(total, 1)


def fit_predict(kind: str, x_train, y_train, tests: list[np.ndarray], c: float):
    from sklearn.discriminant_analysis import LinearDiscriminantAnalysis  # noqa: PLC0415 - bench only
    from sklearn.linear_model import LogisticRegression  # noqa: PLC0415 - bench only
    from sklearn.preprocessing import StandardScaler  # noqa: PLC0415 - bench only

    if kind.startswith("log"):
        x_train = np.log1p(np.maximum(x_train, 0))
        tests = [np.log1p(np.maximum(t, 0)) for t in tests]
    scaler = StandardScaler().fit(x_train)
    xs = scaler.transform(x_train)
    ts = [scaler.transform(t) for t in tests]
    if kind.endswith("lda"):
        model = LinearDiscriminantAnalysis(solver="eigen", shrinkage="auto").fit(xs, y_train)
    else:
        model = LogisticRegression(C=c, max_iter=2000, class_weight="balanced").fit(xs, y_train)
    return [model.predict_proba(t) for t in ts]


def study(data_path: Path, combos: list[str], kinds: list[str], cs: list[float], rule: str) -> None:
    data = np.load(data_path)
    header = ["features", "head", "C", *CONDITIONS]
    print("| " + " | ".join(header) + " |")
    print("|" + " --- |" * len(header))
    for combo in combos:
        parts = combo.split("+")
        x_train = pick(data, "train", parts)
        y_train = data["train/y"]
        tests = [pick(data, name, parts) for name in CONDITIONS]
        for kind in kinds:
            for c in (cs if kind.endswith("lr") else [0]):
                probs = fit_predict(kind, x_train, y_train, tests, c)
                accs = [recording_accuracy(p, data[f"{n}/y"], data[f"{n}/rec"], data[f"{n}/speech"], rule)
                        for p, n in zip(probs, CONDITIONS)]
                print(f"| {combo} | {kind} | {c:g} | " + " | ".join(f"{100 * a:.1f}" for a in accs) + " |",
                      flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--work", type=Path, required=True)
    ap.add_argument("--model", type=Path, required=True)
    ap.add_argument("--weights", default="/work/weights/inception_v3_notop.weights.h5")
    ap.add_argument("--extract", action="store_true", help="extract (else reuse WORK/feature_study.npz)")
    ap.add_argument("--combos", default="mixed4.mean+mixed5.mean")
    ap.add_argument("--heads", default="lr")
    ap.add_argument("--C", default="0.01,0.1,1")
    ap.add_argument("--rule", default="mean", choices=["mean", "logsum"])
    args = ap.parse_args()
    out = args.work / "feature_study.npz"
    if args.extract or not out.exists():
        extract(args.work, args.model, args.weights, out)
    study(out, args.combos.split(","), args.heads.split(","), [float(c) for c in args.C.split(",")], args.rule)


if __name__ == "__main__":
    main()
