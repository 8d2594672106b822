"""Where the timeline bench's stranger evidence is: how well the open-set score tells strangers' speech from
enrolled speakers' when it scores one window, one turn, or all of a speaker's speech in a file; and what checking
each named Viterbi run against its speaker's centroid would trade.

    [AUDIONET_CACHE_DIR=DIR/cache] .venv/bin/python bench/timeline_evidence.py WORK_DIR...
        [--run-thresholds 0.2,0.25,0.3,0.35] [--cuts 0.5,0.7] [--simulate val]

Each WORK_DIR is a ``bench/timeline.py --work`` folder after a run (its model and the cached window outputs,
``window_outputs-*.pkl``); nothing is trained or run through the network here. Lines per folder:
- AUC (stranger against enrolled speech, higher = told apart) of the cohort cosine in the model's within-class
  space, for a window; for a reference turn (the unit-normalised mean of its one-voice windows); for all of one
  speaker's one-voice windows in a conversation (the reference grouping);
- grouping without the reference: average-linkage clustering of a conversation's windows on cosine in the space,
  cut at each ``--cuts`` distance: window purity and clusters per conversation;
- the run check: each named run of the default Viterbi turns whose mean embedding scores under the threshold
  against its speaker's centroid becomes unknown; enrolled time right / stranger time unknown / DER as the bench
  scores them (a threshold read off this bench is not a default: see DEVELOPERS.md, round 20);
- ``--simulate SPLIT``: the run check's threshold chosen without the bench's conversations: conversations made of
  the model's own SPLIT recordings (validation by default: neither the head nor the space met them; found through
  the training workspace under AUDIONET_CACHE_DIR), 12 of them, every recording once in a random order with 0.3-0.9
  s of quiet between, through the same windows, speech gate and Viterbi; the threshold keeps 95 % of the runs named
  right; the bench's conversations scored with it.
"""

from __future__ import annotations

import argparse
import glob
import os
import pickle
import sys
import tempfile
from pathlib import Path

import numpy as np
import soundfile as sf
from scipy.cluster.hierarchy import fcluster, linkage
from sklearn.metrics import roc_auc_score

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import timeline as bench  # the timeline bench's own scoring

from audionet_gui.core.answers import speaker_turns
from audionet_gui.core.audio.windows import iter_file_windows
from audionet_gui.core.data.convert.manifest import load_manifest
from audionet_gui.core.model.bundle import load_bundle
from audionet_gui.core.model.openset import OpenSet, centroid_cosine
from audionet_gui.core.model.timeline import file_speech_flags, window_outputs

STRANGERS = ["nicolas", "yweweler"]


def unit(rows: np.ndarray) -> np.ndarray:
    return rows / np.maximum(np.linalg.norm(rows, axis=1, keepdims=True), 1e-12)


def pooled_score(open_set: OpenSet, units: np.ndarray, named: int) -> float:
    return float(centroid_cosine(unit(units.mean(axis=0, keepdims=True)), open_set.centroids, np.array([named]),
                                 open_set.cohort)[0])


def evidence(work: Path, run_thresholds: list[float], cuts: list[float], simulate: str | None) -> None:
    bundle = load_bundle(work / "model", load_model=False)
    open_set = OpenSet.from_config(bundle.config)
    if open_set is None:
        print(f"{work}: the model has no open-set score")
        return
    labels = list(bundle.labels)
    convs = pickle.loads(Path(sorted(glob.glob(f"{work}/window_outputs-*.pkl"))[-1]).read_bytes())
    window, turn, speaker = ([], []), ([], []), ([], [])
    purity = {cut: [0.0, 0, 0] for cut in cuts}
    for ref, (starts, ends, probs, feats), _spans in convs:
        speech = probs.sum(axis=1) > 0
        units = unit(open_set.project(feats))
        scores = centroid_cosine(units, open_set.centroids, probs.argmax(axis=1), open_set.cohort)
        centres = (starts + ends) / 2
        one_voice = {}
        for t in ref:
            inside = speech & (centres >= t.start) & (centres < t.end)
            window[0].extend(scores[inside])
            window[1].extend([t.label not in labels] * int(inside.sum()))
            pure = speech & (starts >= t.start - 0.05) & (ends <= t.end + 0.05)
            chosen = pure if pure.any() else inside
            if chosen.any():
                turn[0].append(pooled_score(open_set, units[chosen], int(probs[chosen].sum(axis=0).argmax())))
                turn[1].append(t.label not in labels)
                one_voice[t.label] = one_voice.get(t.label, np.zeros(len(starts), bool)) | chosen
        for who, chosen in one_voice.items():
            speaker[0].append(pooled_score(open_set, units[chosen], int(probs[chosen].sum(axis=0).argmax())))
            speaker[1].append(who not in labels)
        truth = np.array([next((t.label for t in ref if t.start <= c < t.end), "-") for c in centres[speech]])
        for cut in cuts:
            clusters = fcluster(linkage(units[speech], "average", metric="cosine"), cut, "distance")
            for k in np.unique(clusters):
                _, counts = np.unique(truth[clusters == k], return_counts=True)
                purity[cut][0] += counts.max()
            purity[cut][1] += int(speech.sum())
            purity[cut][2] += len(np.unique(clusters))
    auc = [roc_auc_score(y, -np.asarray(s)) for s, y in (window, turn, speaker)]
    print(f"{work.name}: AUC window {auc[0]:.3f} ({len(window[0])}), turn {auc[1]:.3f} ({len(turn[0])}), "
          f"speaker in a file {auc[2]:.3f} ({len(speaker[0])})")
    for cut, (pure, total, clusters) in purity.items():
        print(f"  clustering cut {cut}: window purity {pure / total:.3f}, {clusters / len(convs):.1f} clusters a file")

    runs = [named_runs(bundle, open_set, outputs) for _ref, outputs, _spans in convs]
    base = bench.score(bundle, convs, STRANGERS, "viterbi")
    print(f"  default: enrolled {base['enrolled_right'] * 100:.1f} / strangers {base['stranger_unknown'] * 100:.1f} "
          f"/ DER {base['der'] * 100:.1f}")
    for threshold in run_thresholds:
        run_check(bundle, convs, runs, threshold)
    if simulate:
        threshold = simulated_threshold(work, open_set, simulate)
        if threshold is not None:
            run_check(bundle, convs, runs, threshold)


def named_runs(bundle, open_set: OpenSet, outputs) -> list[tuple[np.ndarray, str, float, float, float]]:
    """(windows, label, start, end, score) of each named run of the default Viterbi turns of one file."""
    starts, ends, probs, feats = outputs
    labels = list(bundle.labels)
    units = unit(open_set.project(feats))
    centres, speech = (starts + ends) / 2, probs.sum(axis=1) > 0
    named = []
    for seg in speaker_turns(starts, ends, probs, labels, bundle.unknown_threshold, bundle.window_config.hop_s, feats):
        inside = speech & (centres >= seg.start_s - 1e-6) & (centres <= seg.end_s + 1e-6)
        if seg.label in labels and inside.any():
            named.append((inside, seg.label, seg.start_s, seg.end_s,
                          pooled_score(open_set, units[inside], labels.index(seg.label))))
    return named


def run_check(bundle, convs: list, runs: list, threshold: float) -> None:
    checked = []
    for (ref, (starts, ends, probs, feats), spans), named in zip(convs, runs):
        probs = probs.copy()
        for inside, *_, score in named:
            if score < threshold:
                probs[inside] *= 1e-3  # the run's voice is not its speaker's: under any threshold
        checked.append((ref, (starts, ends, probs, feats), spans))
    r = bench.score(bundle, checked, STRANGERS, "viterbi")
    share = np.mean([score < threshold for named in runs for *_, score in named]) * 100
    print(f"  run check at {threshold:.3f}: {share:.0f} % of runs unknown; enrolled {r['enrolled_right'] * 100:.1f} / "
          f"strangers {r['stranger_unknown'] * 100:.1f} / DER {r['der'] * 100:.1f}")


def simulated_threshold(work: Path, open_set: OpenSet, split: str, conversations: int = 12,
                        keep: float = 0.95) -> float | None:
    """The run threshold that keeps ``keep`` of the right-named runs of conversations made of the model's own
    ``split`` recordings (see the module's doc)."""
    bundle = load_bundle(work / "model")  # with its network, this time
    cache = Path(os.environ.get("AUDIONET_CACHE_DIR", work / "cache")) / "workspaces"
    spaces = [w for w in cache.glob("*") if (w / "manifest.csv").is_file()
              and str(work) in (w / "manifest.csv").read_text()[:2000]]
    if not spaces:
        print(f"  simulate: no training workspace of {work} under {cache}")
        return None
    workspace = max(spaces, key=lambda w: (w / "manifest.csv").stat().st_mtime)
    recordings = sorted({(str(r.source), r.label) for r in load_manifest(workspace)
                         if r.split == split and r.label in bundle.labels and not r.augmented})
    rng = np.random.default_rng(0)
    scores = []
    with tempfile.TemporaryDirectory() as tmp:
        for k in range(conversations):
            parts, truth, t, rate = [], [], 0.0, None
            for i in rng.permutation(len(recordings)):
                x, rate = sf.read(recordings[i][0], dtype="float32")
                truth.append((t, t + len(x) / rate, recordings[i][1]))
                quiet = (rng.standard_normal(int(rng.uniform(0.3, 0.9) * rate)) * 1e-4).astype(np.float32)
                parts += [x, quiet]
                t += (len(x) + len(quiet)) / rate
            wav = Path(tmp) / f"conversation{k}.wav"
            sf.write(wav, np.concatenate(parts), rate)
            flags = file_speech_flags(wav, bundle.window_config.speech_threshold)
            outputs = window_outputs(bundle, iter_file_windows(wav, bundle.sample_rate, bundle.window_config),
                                     speech=flags)
            for *_, label, start, end, score in named_runs(bundle, open_set, outputs):
                middle = (start + end) / 2
                if next((who for a, b, who in truth if a <= middle < b), None) == label:
                    scores.append(score)
    if not scores:
        return None
    threshold = float(np.floor(np.quantile(scores, 1 - keep) * 1000) / 1000)
    print(f"  simulated from {len(recordings)} {split} recordings: {len(scores)} right-named runs, score quantiles "
          f"5/10/50 % {np.round(np.quantile(scores, [0.05, 0.1, 0.5]), 3).tolist()}; threshold {threshold:.3f}")
    return threshold


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("work", nargs="+", type=Path)
    ap.add_argument("--run-thresholds", default="0.2,0.25,0.3,0.35")
    ap.add_argument("--cuts", default="0.5,0.7")
    ap.add_argument("--simulate", metavar="SPLIT", help="choose the run threshold on conversations of these recordings")
    args = ap.parse_args()
    for work in args.work:
        evidence(work, [float(v) for v in args.run_thresholds.split(",") if v],
                 [float(v) for v in args.cuts.split(",")], args.simulate)


if __name__ == "__main__":
    main()
