"""Where the time of ``audionet timeline`` goes: each stage run on its own, one after the other, on one file.

    PYTHONPATH=$PWD nice -n 10 .venv/bin/python bench/timeline_stages.py MODEL_DIR AUDIO [--batch 32]

Stages (as core/model/timeline.py runs them, but in sequence so the figures add up): the speech detector over the
file, cutting windows, the speech gate, the spectrogram images, the backbone's forward pass (TFLite converts the
model when it is made ready, XLA compiles in the first batch), the head, speaker turns. ``AUDIONET_INFERENCE=tf``
times the tf.function/XLA path. Each line: wall seconds and CPU seconds of the whole
process (all threads), so a stage that uses both cores shows about twice its wall time in CPU.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from audionet_gui.core.answers import speaker_turns, speech_spans, trim_to_speech
from audionet_gui.core.audio.spectrogram import compute_spectrogram, render_image
from audionet_gui.core.audio.vad import CHUNK, VAD_RATE, has_speech
from audionet_gui.core.audio.windows import iter_file_windows


class Stages:
    def __init__(self) -> None:
        self.rows: list[tuple[str, float, float, str]] = []

    def run(self, name: str, fn, note=lambda _: ""):
        w0, c0 = time.perf_counter(), time.process_time()
        out = fn()
        wall, cpu = time.perf_counter() - w0, time.process_time() - c0
        self.rows.append((name, wall, cpu, note(out)))
        print(f"{name:<36} {wall:8.2f} s wall {cpu:8.2f} s CPU  {note(out)}", flush=True)
        return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model")
    ap.add_argument("audio")
    ap.add_argument("--batch", type=int, default=32)
    args = ap.parse_args()
    print(f"load average before: {os.getloadavg()[0]:.1f}", flush=True)
    st = Stages()
    from audionet_gui.core.model.bundle import load_bundle  # noqa: PLC0415 - TensorFlow (3 s): timed below
    from audionet_gui.core.model.openset import OpenSet  # noqa: PLC0415 - bench only
    from audionet_gui.core.model.timeline import file_speech_flags, head_parts  # noqa: PLC0415 - bench only

    bundle = st.run("load model", lambda: load_bundle(args.model))
    wcfg, spec = bundle.window_config, bundle.spectrogram_config
    flags = st.run("speech detector over the file", lambda: file_speech_flags(args.audio, wcfg.speech_threshold),
                   lambda f: f"{f.size} chunks of 32 ms")
    windows = st.run(f"decode+cut at {bundle.sample_rate} Hz",
                     lambda: list(iter_file_windows(args.audio, bundle.sample_rate, wcfg)),
                     lambda w: f"{len(w)} windows")
    chunk_s = CHUNK / VAD_RATE

    def gate(w) -> bool:
        a = int(w.start_s / chunk_s)
        f = flags[a:max(int(np.ceil(w.end_s / chunk_s)), a + 1)]
        return has_speech(float(f.mean()) if f.size else 0.0)
    keep = st.run("speech gate", lambda: [gate(w) for w in windows] if wcfg.speech_gated else [True] * len(windows),
                  lambda k: f"{sum(k)} of {len(k)} kept")
    kept = [w for w, k in zip(windows, keep) if k]
    dbs = st.run("spectrograms (STFT+mel+dB)", lambda: [compute_spectrogram(w.samples, spec).values_db for w in kept])
    images = st.run("images (levels, resize, colour)", lambda: np.stack([render_image(v, spec) for v in dbs]),
                    lambda x: f"{x.shape}")
    parts = st.run("backbone ready (TFLite: converted)", lambda: head_parts(bundle, args.batch),
                   lambda p: getattr(p.extract, "engine", ""))
    feats = st.run("backbone forward (XLA compiles)", lambda: np.concatenate(
        [parts.extract(images[i:i + args.batch]) for i in range(0, len(images), args.batch)]))
    print(f"{'':<36} {len(images) / st.rows[-1][1]:.1f} images/s, {st.rows[-1][2] / len(images) * 1000:.0f} ms "
          "CPU per image", flush=True)
    open_set = OpenSet.from_config(bundle.config)
    p, z = st.run("head (+ open set)", lambda: parts.outputs(feats, open_set))
    n_classes = len(bundle.labels)
    all_p = np.zeros((len(windows), n_classes), np.float32)
    all_z = np.zeros((len(windows), z.shape[1]), np.float32)
    all_p[np.asarray(keep)], all_z[np.asarray(keep)] = p, z
    starts = np.array([w.start_s for w in windows])
    ends = np.array([w.end_s for w in windows])
    segs = st.run("speaker turns", lambda: speaker_turns(starts, ends, all_p, bundle.labels,
                                                         bundle.unknown_threshold, wcfg.hop_s, all_z),
                  lambda s: f"{len(s)} turns")
    st.run("trim to speech", lambda: trim_to_speech(segs, speech_spans(flags, chunk_s), snap_s=wcfg.hop_s))
    total_wall = sum(r[1] for r in st.rows)
    total_cpu = sum(r[2] for r in st.rows)
    print(f"{'total':<36} {total_wall:8.2f} s wall {total_cpu:8.2f} s CPU; load average after: "
          f"{os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
