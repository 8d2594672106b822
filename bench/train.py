"""Transfer-learning benchmark on FSDD speakers (6 speakers, official split: takes 0-4 are test).

    .venv/bin/python bench/train.py [--data ../shared/data/fsdd_speakers] [--weights-dir /work/weights]
        [--work /tmp/audionet-bench] [--cache DIR] [--backbones inception_v3,mobilenet_v2,small_cnn]
        [--variants plain,audio] [--audio-augment K] [--cnn-epochs N] [--layer-study] [--limit N]

Prints, per backbone: test accuracy per window and per recording, test accuracy with pink noise mixed in at
10 dB SNR (robustness), total wall time, feature-extraction images/s, head-training seconds and the seconds a
retrain from cached features takes. ``--layer-study`` first compares InceptionV3 feature layers (one
extraction of all candidate layers, heads trained on column slices). Validation: takes 5-9 of the training
split. Images are the app's own spectrogram images (core/spectrogram.py, default settings, 2 s windows with
short clips tiled), rendered once per image size into --work. Variant "audio" adds K audio-augmented copies
of each training clip (core/augment.augment_audio: noise at 0-30 dB SNR, level, shift), as convert's
AugmentPlan does. Figures, not pass/fail.

Measured 2026-11-24 on 2 shared cores (others' jobs running: load 5-8, so seconds are pessimistic), stand-in
weights; inception_v3 default features mixed4+mixed5 (its whole run: 272 s, retrain from cache 3.2 s):
| backbone | test window / recording acc | acc, pink noise 10 dB | extraction img/s | head s |
| inception_v3 | 100.00 % / 100.00 % | 16.67 % | 19.2 (load 3; 26.7 quiet; 6.7 at load 7) | 0.9 |
| inception_v3 + 1 audio-noise copy | 99.67 % / 99.67 % | 80.33 % | 15.6 | 3.4 |
| mobilenet_v2 | 88.67 % / 88.67 % | 34.33 % | 28.4 loaded (127 quiet) | 4.3 |
| mobilenet_v2 + 1 audio-noise copy | 87.33 % / 87.33 % | 65.67 % | 26.9 | 6.1 |
| small_cnn (20 epochs end to end) | 100.00 % / 100.00 % | 21.00 % | - | 867 (training) |
| small_cnn + 1 audio-noise copy (12 epochs) | 94.67 % / 94.67 % | 86.00 % | - | 682 (training) |
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
import zlib
from collections import defaultdict
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from audionet_gui.core.audio.augment import add_noise, augment_audio, colored_noise
from audionet_gui.core.audio.files import load_audio
from audionet_gui.core.audio.spectrogram import SpectrogramConfig, load_png, save_png, spectrogram_image
from audionet_gui.core.audio.windows import WindowConfig, cut_windows
from audionet_gui.core.model.backbones import (
    build_feature_extractor,
    make_fast_predictor,
    model_image_size,
    prepare_image,
)
from audionet_gui.core.model.features import extract_features, feature_key
from audionet_gui.core.model.training import (
    AugmentConfig,
    LabeledImages,
    TrainConfig,
    augmented_items,
    train_classifier,
    train_head,
)

STANDIN = {"inception_v3": "inception_v3_notop.weights.h5", "mobilenet_v2": "mobilenet_v2_notop.weights.h5"}
STUDY_LAYERS = ["mixed4", "mixed5", "mixed6", "mixed7", "mixed8", "mixed9", "mixed10"]
STUDY_COMBOS = [["mixed4"], ["mixed5"], ["mixed6"], ["mixed7"], ["mixed8"], ["mixed10"], ["mixed5", "mixed7"],
                ["mixed4", "mixed5"], ["mixed5", "mixed6"], ["mixed4", "mixed5", "mixed6"],
                ["mixed5", "mixed6", "mixed7"],
                ["mixed4", "mixed5", "mixed6", "mixed7"]]


def read_split(data: Path):
    rows = list(csv.DictReader(open(data / "manifest.csv")))
    speakers = sorted({r["speaker"] for r in rows})
    split = {"train": [], "val": [], "test": []}
    for r in rows:
        take = int(r["take"])
        part = "test" if take <= 4 else ("val" if take <= 9 else "train")
        split[part].append((data / r["path"], speakers.index(r["speaker"])))
    return speakers, split


def render(split, size, work: Path, noise_snr=None, audio_augment_copy=None):
    """Window PNGs per clip at ``size``; returns {part: (paths, labels, source ids)}.

    ``noise_snr``: pink noise mixed in at that SNR (the noisy test). ``audio_augment_copy`` k: the k-th
    audio-domain augmented copy (core/augment.augment_audio: noise at 0-30 dB SNR, level, shift)."""
    spec = SpectrogramConfig().with_image_size(*size)
    wcfg = WindowConfig()
    tag = f"{size[0]}x{size[1]}" + (f"_snr{noise_snr:g}" if noise_snr is not None else "") \
        + (f"_audioaug{audio_augment_copy}" if audio_augment_copy is not None else "")
    out = {}
    t0 = time.monotonic()
    for part, items in split.items():
        paths, labels, sources = [], [], []
        for path, label in items:
            base = work / tag / part / path.stem
            existing = sorted(base.parent.glob(path.stem + "_w*.png"))
            if not existing:
                samples = load_audio(path, spec.sample_rate)
                if noise_snr is not None:
                    rng = np.random.default_rng(zlib.crc32(path.name.encode()))
                    samples = add_noise(samples, colored_noise(samples.size, rng, "pink"), noise_snr, rng)
                if audio_augment_copy is not None:
                    rng = np.random.default_rng([zlib.crc32(path.name.encode()), audio_augment_copy])
                    samples = augment_audio(samples, spec.sample_rate, rng, AugmentConfig())
                for i, w in enumerate(cut_windows(samples, spec.sample_rate, wcfg)):
                    p = base.parent / f"{path.stem}_w{i}.png"
                    save_png(spectrogram_image(w.samples, spec), p)
                    existing.append(p)
            for p in existing:
                paths.append(str(p))
                labels.append(label)
                sources.append(str(path))
        out[part] = (paths, np.array(labels), sources)
    print(f"# images {tag}: " + ", ".join(f"{k} {len(v[0])}" for k, v in out.items())
          + f" ({time.monotonic() - t0:.0f} s)", flush=True)
    return out


def accuracies(probs, labels, sources):
    window = float((probs.argmax(1) == labels).mean())
    by_src = defaultdict(list)
    for p, y, s in zip(probs, labels, sources):
        by_src[s].append((p, y))
    rec = np.mean([np.mean([p for p, _ in v], axis=0).argmax() == v[0][1] for v in by_src.values()])
    return window, float(rec)


def weights_for(backbone, args):
    if backbone in STANDIN:
        return str(Path(args.weights_dir) / STANDIN[backbone])
    return "none"


def layer_study(args, speakers, images, noisy, work):
    """InceptionV3: one extraction of several depths, a head per layer (or concatenation) on column slices."""
    weights = weights_for("inception_v3", args)
    layer_arg = "+".join(STUDY_LAYERS)
    extractor = build_feature_extractor("inception_v3", weights, (299, 299), layer_arg)
    key = feature_key("inception_v3", weights, (299, 299), layer_arg)
    dims = [int(extractor.get_layer("inception_v3_trunk").get_layer(n).output.shape[-1]) for n in STUDY_LAYERS]
    offsets = np.concatenate([[0], np.cumsum(dims)])
    cfg = TrainConfig(backbone="inception_v3", weights=weights)
    tr_paths, tr_y, _ = images["train"]
    items = list(tr_paths) + augmented_items(tr_paths, cfg, AugmentConfig())
    y_train = np.concatenate([tr_y, tr_y])
    t0 = time.monotonic()
    allx = extract_features(items + list(images["val"][0]) + list(images["test"][0]) + list(noisy["test"][0]),
                            key, extractor, work / "cache", progress=_printer("study features"))
    print(f"# study extraction {len(allx)} images in {time.monotonic() - t0:.0f} s", flush=True)
    n_tr, n_va, n_te = len(items), len(images["val"][0]), len(images["test"][0])
    rows = []
    for combo in STUDY_COMBOS:
        cols = np.concatenate([np.arange(offsets[STUDY_LAYERS.index(n)], offsets[STUDY_LAYERS.index(n) + 1])
                               for n in combo])
        x = allx[:, cols]
        t0 = time.monotonic()
        head, _ = train_head(x[:n_tr], y_train, x[n_tr:n_tr + n_va], images["val"][1], len(speakers), cfg)
        head_s = time.monotonic() - t0
        va, _ = accuracies(head.predict(x[n_tr:n_tr + n_va], verbose=0), images["val"][1], images["val"][2])
        w, r = accuracies(head.predict(x[n_tr + n_va:n_tr + n_va + n_te], verbose=0), images["test"][1],
                          images["test"][2])
        nw, _ = accuracies(head.predict(x[n_tr + n_va + n_te:], verbose=0), noisy["test"][1], noisy["test"][2])
        rows.append(("+".join(combo), x.shape[1], va, w, r, nw, head_s))
        print(f"  {'+'.join(combo):24s} D={x.shape[1]:5d} val {va:.4f} window {w:.4f} recording {r:.4f} "
              f"noisy {nw:.4f} head {head_s:.1f} s", flush=True)
    print("\n| InceptionV3 feature layer | D | val acc | test window acc | test recording acc | "
          "test acc, pink noise 10 dB | head s |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for name, d, va, w, r, nw, s in rows:
        print(f"| {name} | {d} | {100 * va:.2f} % | {100 * w:.2f} % | {100 * r:.2f} % | {100 * nw:.2f} % | {s:.1f} |")
    print(flush=True)


def _printer(label):
    last = [0.0]

    def cb(p):
        now = time.monotonic()
        if now - last[0] > 30 or (p.total and p.done >= p.total):
            last[0] = now
            print(f"  [{label}] {p.stage} {p.done}/{p.total} {p.message}", flush=True)
    return cb


def run_backbone(backbone, args, speakers, images, noisy, extra_train=None, name=None):
    weights = weights_for(backbone, args)
    cfg = TrainConfig(backbone=backbone, weights=weights, seed=0)
    if backbone == "small_cnn":
        cfg.epochs = args.cnn_epochs
    train_paths, train_labels = list(images["train"][0]), images["train"][1]
    if extra_train:
        for paths, labels, _ in extra_train:
            train_paths += list(paths)
            train_labels = np.concatenate([train_labels, labels])
    train = LabeledImages(train_paths, train_labels)
    val = LabeledImages(images["val"][0], images["val"][1])
    cache = Path(args.cache or Path(args.work) / "cache")
    t0 = time.monotonic()
    result = train_classifier(train, val, speakers, cfg, cache, progress=_printer(backbone))
    wall = time.monotonic() - t0
    retrain_s = None
    if backbone != "small_cnn":  # a second run reads every feature from cache: what a head-setting change costs
        t1 = time.monotonic()
        train_classifier(train, val, speakers, cfg, cache)
        retrain_s = time.monotonic() - t1
    predict = make_fast_predictor(result.model, 32)
    test_x = np.stack([load_png(p) for p in images["test"][0]])
    size = model_image_size(result.model)
    test_x = np.stack([prepare_image(im, size) for im in test_x])
    w, r = accuracies(predict(test_x), images["test"][1], images["test"][2])
    noisy_x = np.stack([prepare_image(load_png(p), size) for p in noisy["test"][0]])
    nw, nr = accuracies(predict(noisy_x), noisy["test"][1], noisy["test"][2])
    t = result.timings
    row = dict(backbone=name or backbone, layer=result.config.feature_layer or "default", window=w, recording=r,
               noisy_window=nw,
               noisy_recording=nr, wall=wall, ips=t.get("images_per_s"), head=t.get("head_s", t.get("train_s")),
               retrain=retrain_s, epochs=len(result.history), dim=result.feature_dim)
    print(f"# {row}", flush=True)
    return row


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    here = Path(__file__).resolve().parents[1]
    ap.add_argument("--data", default=str(here.parent / "shared/data/fsdd_speakers"))
    ap.add_argument("--weights-dir", default="/work/weights")
    ap.add_argument("--work", default="/tmp/audionet-bench")
    ap.add_argument("--backbones", default="inception_v3,mobilenet_v2,small_cnn")
    ap.add_argument("--layer-study", action="store_true")
    ap.add_argument("--cnn-epochs", type=int, default=40)
    ap.add_argument("--cache", default=None, help="feature cache folder (default WORK/cache)")
    ap.add_argument("--audio-augment", type=int, default=1,
                    help="the 'audio' variant adds K audio-augmented copies per training clip (0 = off)")
    ap.add_argument("--variants", default="plain,audio",
                    help="plain = train on the recordings; audio = plus the audio-augmented copies")
    ap.add_argument("--limit", type=int, default=0, help="use every Nth clip only (a quick smoke run)")
    args = ap.parse_args(argv)
    work = Path(args.work)
    speakers, split = read_split(Path(args.data))
    if args.limit:
        split = {k: v[::args.limit] for k, v in split.items()}
    print(f"# FSDD: {len(speakers)} speakers, train {len(split['train'])}, val {len(split['val'])}, "
          f"test {len(split['test'])} clips", flush=True)
    sizes = {"inception_v3": (299, 299), "mobilenet_v2": (224, 224), "small_cnn": (128, 128),
             "mobilenet_v3_small": (224, 224), "efficientnet_b0": (224, 224)}
    backbones = [b for b in args.backbones.split(",") if b]
    test_only = {"test": split["test"]}
    if args.layer_study:
        layer_study(args, speakers, render(split, (299, 299), work),
                    render(test_only, (299, 299), work, noise_snr=10.0), work)
    rows = []
    for b in backbones:
        images = render(split, sizes[b], work)
        noisy = render(test_only, sizes[b], work, noise_snr=10.0)
        if "plain" in args.variants:
            rows.append(run_backbone(b, args, speakers, images, noisy))
        if args.audio_augment and "audio" in args.variants:
            extra = [render({"train": split["train"]}, sizes[b], work, audio_augment_copy=k)["train"]
                     for k in range(1, args.audio_augment + 1)]
            rows.append(run_backbone(b, args, speakers, images, noisy, extra,
                                     name=f"{b} + {args.audio_augment} audio-noise copies"))
    if rows:
        print("\n| backbone | D | test window acc | test recording acc | window acc, pink noise 10 dB | "
              "wall s | extraction img/s | head/train s | retrain from cache s |")
        print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
        for r in rows:
            ips = f"{r['ips']:.1f}" if r["ips"] else "-"
            rt = f"{r['retrain']:.1f}" if r["retrain"] else "-"
            print(f"| {r['backbone']} | {r['dim']} | {100 * r['window']:.2f} % | {100 * r['recording']:.2f} % | "
                  f"{100 * r['noisy_window']:.2f} % | {r['wall']:.0f} | {ips} | {r['head']:.1f} | {rt} |")


if __name__ == "__main__":
    main()
