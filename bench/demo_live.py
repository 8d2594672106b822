"""Is every speaker of the bundled demo named at the microphone? Live replay of the demo's test clips through the
live engine itself (room tone before and after each clip, the model's own live settings), per speaker, beside the
offline answer for the same clips. Figures, not pass/fail.

    .venv/bin/python bench/demo_live.py [--model MODEL_DIR]   # default: trains the demo as the app does first

Without ``--model`` it trains ``resources/demo`` with the demo project's own settings (small_cnn, no weights
needed, its training plan) into a temporary folder, the few minutes the Getting Started text gives.
"""

from __future__ import annotations

import argparse
import collections
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from audionet_gui.cli.entry import main as audionet
from audionet_gui.core.answers import UNKNOWN
from audionet_gui.core.audio.files import load_audio
from audionet_gui.core.live.engine import classifier_from_bundle, live_config_from_bundle
from audionet_gui.core.live.replay import answer_from_decisions, replay
from audionet_gui.core.model.bundle import load_bundle
from audionet_gui.core.model.robustness import answer_with_bundle
from audionet_gui.core.settings import TrainingPlan, training_plan_fields

DEMO = Path(__file__).resolve().parents[1] / "resources" / "demo"


def plan_flags(plan: TrainingPlan) -> list[str]:
    """The project's training plan as ``audionet train`` flags (augmented copies, early stopping)."""
    return [part for f in training_plan_fields() for part in (f.flag, str(getattr(plan, f.name)))]


def train_demo(out: Path) -> float:
    project = json.loads((DEMO / "demo.audionet.json").read_text())
    window, training = project["window"], project["training"]
    t = time.monotonic()
    status = audionet(["train", str(DEMO / "train"), "--test-dir", str(DEMO / "test"), "--out", str(out),
                       "--backbone", training["backbone"], "--weights", training["weights"],
                       "--epochs", str(training["epochs"]), "--seed", str(training["seed"]),
                       "--window", str(window["window_s"]), "--hop", str(window["hop_s"]), "--quiet",
                       *plan_flags(TrainingPlan.from_training(training)),
                       *[part for key in ("learning_rate", "batch_size") if key in training
                         for part in ("--" + key.replace("_", "-"), str(training[key]))]])
    if status != 0:
        raise SystemExit(f"demo_live: training failed ({status})")
    return time.monotonic() - t


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", type=Path, help="a trained demo model folder (default: train one)")
    args = ap.parse_args()
    model = args.model
    if model is None:
        model = Path(tempfile.mkdtemp(prefix="demo-live-")) / "model"
        print(f"training the demo into {model} ... ({train_demo(model):.0f} s)")
    bundle = load_bundle(model)
    offline = answer_with_bundle(bundle)
    classifier = classifier_from_bundle(bundle)
    config = live_config_from_bundle(bundle)
    rate = int(bundle.spectrogram_config.sample_rate)
    rows: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    for path in sorted((DEMO / "test").glob("*/*.wav")):
        speaker = path.parent.name
        samples = load_audio(path, rate)
        decisions = replay(samples, rate, classifier, bundle.labels, bundle.spectrogram_config, config)
        live = answer_from_decisions(decisions, 1.0, 1.0 + samples.size / rate, config.window_s)
        row = rows[speaker]
        row["clips"] += 1
        row["live right"] += live == speaker
        row["live unknown"] += live == UNKNOWN
        row["offline right"] += offline(samples) == speaker
    print(f"model {model} (threshold {bundle.unknown_threshold:.2f}, window {config.window_s:g} s, "
          f"speech gate {config.speech_gate})")
    print(f"{'speaker':<10} {'clips':>5} {'live named':>10} {'live unknown':>12} {'offline named':>13}")
    for speaker, row in sorted(rows.items()):
        print(f"{speaker:<10} {row['clips']:>5} {row['live right']:>10} {row['live unknown']:>12} "
              f"{row['offline right']:>13}")
    named = sum(1 for row in rows.values() if row["live right"] > row["clips"] / 2)
    print(f"speakers named live in most of their clips: {named} of {len(rows)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
