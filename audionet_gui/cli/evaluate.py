"""``audionet evaluate MODEL_DIR DATA_DIR [--json]``: a model's metrics on every file of a folder of class
subfolders: top-level ``accuracy``, ``recording_accuracy``, ``per_class``, ``confusion``, ``labels``; with
``--robustness`` also ``robustness`` (the same report as after training: noise, room, cheap microphone, live)."""

from __future__ import annotations

import sys

from audionet_gui.cli.term import TerminalProgress, fail, print_json, shown
from audionet_gui.core.base.errors import AudioNetError
from audionet_gui.core.model.evaluation import render_confusion_png
from audionet_gui.core.pipeline import evaluate_folder


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "evaluate", help="measure a model on a folder of class subfolders",
        description="Run MODEL_DIR on every audio file of DATA_DIR (one subfolder per class, named like the "
                    "model's classes) and report window and recording accuracy, per-class scores and the "
                    "confusion matrix.")
    p.add_argument("model_dir", metavar="MODEL_DIR")
    p.add_argument("data_dir", metavar="DATA_DIR")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--confusion-png", default=None, metavar="OUT.png", help="also draw the confusion matrix")
    p.add_argument("--robustness", action="store_true",
                   help="also score the recordings in held-back noise at 20/10/5/0 dB, another room, through a "
                        "cheap microphone and by live replay (at most 20 recordings a class)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(run=run)


def run(args) -> int:
    progress = TerminalProgress(stream=sys.stderr, quiet=args.quiet or args.json)
    try:
        metrics = evaluate_folder(args.model_dir, args.data_dir, progress=progress, robustness=args.robustness)
    except AudioNetError as exc:
        progress.close()
        return fail(str(exc), status=1)
    progress.close()
    if args.confusion_png:
        render_confusion_png(metrics["confusion"], metrics["labels"], args.confusion_png)
    if args.json:
        print_json(metrics, stream=sys.stdout)
    else:
        print(f"accuracy: {metrics['accuracy']:.1%} of {metrics['windows']} windows, "
              f"{metrics['recording_accuracy']:.1%} of {metrics['recordings']} recordings")
        if metrics.get("no_speech_rate"):
            print(f"no speech heard in {metrics['no_speech_rate']:.1%} of the recordings (speech gate; counted wrong)")
        width = max(len(name) for name in metrics["labels"])
        print(f"{'class':<{width}}  precision  recall     f1  support")
        for label, s in metrics["per_class"].items():
            print(f"{shown(label):<{width}}  {s['precision']:9.3f}  {s['recall']:6.3f}  {s['f1']:5.3f}  "
                  f"{s['support']:7d}")
        for f in metrics["failed"]:
            print(f"skipped {shown(f['path'])}: {shown(f['reason'])}")
        if metrics.get("robustness"):
            print_robustness(metrics["robustness"])
    if metrics["files"] == 0:
        return fail("no file could be evaluated", status=1)
    return 0


def print_robustness(report: dict) -> None:
    """A small table: one row per condition (accuracy, unknown rate), then the weakest condition and advice."""
    conditions = report.get("conditions") or {}
    if not conditions:
        return
    width = max(len("condition"), *(len(name) for name in conditions))
    print(f"\nrobustness ({next(iter(conditions.values()))['recordings']} recordings)")
    print(f"{'condition':<{width}}  accuracy  unknown")
    for name, c in conditions.items():
        print(f"{name:<{width}}  {c['accuracy']:8.1%}  {c['unknown_rate']:7.1%}")
    if report.get("weakest"):
        print(f"weakest: {report['weakest']}. {report.get('advice', '')}")
