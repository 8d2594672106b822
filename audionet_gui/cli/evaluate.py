"""``audionet evaluate MODEL_DIR DATA_DIR [--json]``: a model's metrics on every file of a folder of class
subfolders: top-level ``accuracy``, ``recording_accuracy``, ``per_class``, ``confusion``, ``labels``."""

from __future__ import annotations

import sys

from audionet_gui.cli.term import TerminalProgress, fail, print_json
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
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(run=run)


def run(args) -> int:
    progress = TerminalProgress(stream=sys.stderr, quiet=args.quiet or args.json)
    try:
        metrics = evaluate_folder(args.model_dir, args.data_dir, progress=progress)
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
        width = max(len(l) for l in metrics["labels"])
        print(f"{'class':<{width}}  precision  recall     f1  support")
        for label, s in metrics["per_class"].items():
            print(f"{label:<{width}}  {s['precision']:9.3f}  {s['recall']:6.3f}  {s['f1']:5.3f}  {s['support']:7d}")
        for f in metrics["failed"]:
            print(f"skipped {f['path']}: {f['reason']}")
    if metrics["files"] == 0:
        return fail("no file could be evaluated", status=1)
    return 0
