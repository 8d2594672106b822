"""``audionet predict MODEL_DIR FILE... [--json]``: who or what is in each file. With ``--json``: one JSON
object per line and file, with ``file``, ``label``, ``probabilities``, ``timeline`` (or ``file`` and ``error``
for a file that cannot be read; the other files go on)."""

from __future__ import annotations

import sys

from audionet_gui.cli.term import fail, print_json, shown
from audionet_gui.core.answers import UNKNOWN
from audionet_gui.core.base.errors import AudioNetError
from audionet_gui.core.model.bundle import load_bundle
from audionet_gui.core.model.predict import predict_file


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "predict", help="identify the speaker or sound in audio files",
        description=f"Identify each FILE with MODEL_DIR: the most likely class (or '{UNKNOWN}' when the model is "
                    "unsure), the top classes, and for long files a timeline of who speaks when.")
    p.add_argument("model_dir", metavar="MODEL_DIR")
    p.add_argument("files", nargs="+", metavar="FILE")
    p.add_argument("--json", action="store_true", help="one JSON object per file (JSON lines)")
    p.add_argument("--top-k", type=int, default=3, metavar="K", help="how many classes to rank (3)")
    p.add_argument("--windows", action="store_true", help="include every window's probabilities in the JSON")
    p.set_defaults(run=run)


def _print_text(result) -> None:
    ranked = ", ".join(f"{shown(label)} {p:.2f}" for label, p in result.top_k)
    print(f"{shown(result.file)}: {shown(result.label)} (p={result.p:.2f}; {ranked})")
    if len(result.timeline) > 1:
        for seg in result.timeline:
            print(f"  {seg.start_s:8.1f}-{seg.end_s:8.1f} s  {shown(seg.label)} ({seg.p:.2f})")


def run(args) -> int:
    try:
        bundle = load_bundle(args.model_dir)
    except AudioNetError as exc:
        return fail(str(exc), status=1)
    failures = 0
    for path in args.files:
        try:
            result = predict_file(bundle, path, top_k=args.top_k)
        except (AudioNetError, OSError, ValueError) as exc:
            failures += 1
            reason = getattr(exc, "reason", None) or str(exc)
            if args.json:
                print_json({"file": path, "error": reason}, compact=True, stream=sys.stdout)
            else:
                print(f"audionet: {shown(path)}: {shown(reason)}", file=sys.stderr)
            continue
        if args.json:
            print_json(result.to_dict(include_windows=args.windows), compact=True, stream=sys.stdout)
        else:
            _print_text(result)
    # Like convert: bad files are reported and skipped; failure only when nothing could be identified.
    return 1 if failures == len(args.files) else 0
