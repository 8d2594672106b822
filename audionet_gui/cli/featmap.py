"""``audionet featmap MODEL_DIR [--json] [--no-cache]``: every window the model was trained and tested on as a
point in 2-D (core/model/featmap.py). JSON: ``model``, ``labels``, ``method``, ``points`` [{``file``, ``start``,
``end``, ``class``, ``predicted``, ``p``, ``split``, ``misclassified``, ``suspect``, ``x``, ``y``}], ``suspects``
(the label judge's ``suspect_label`` findings), ``seconds`` and ``made_by`` ("training" when training made the map
and kept it, else "map")."""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

from audionet_gui.cli.term import print_json, run_job, shown
from audionet_gui.core.base.errors import AudioNetError
from audionet_gui.core.model.featmap import feature_map


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "featmap", help="place every training and test window of a model in 2-D (PCA + t-SNE of its features)",
        description="The feature map of MODEL_DIR: each window of its training workspace as a point in 2-D, with "
                    "its file, time, class, the model's answer, whether that answer is wrong and whether the "
                    "file sounds like another class. Uses the features cached at training.")
    p.add_argument("model_dir", metavar="MODEL_DIR")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--no-cache", action="store_true", help="compute the map again even if it was made before")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(run=run)


def run(args) -> int:
    fmap, status = run_job(lambda progress: feature_map(args.model_dir, use_cache=not args.no_cache,
                                                         progress=progress),
                           quiet=args.quiet or args.json, errors=(AudioNetError, ValueError, OSError))
    if status is not None:
        return status
    if args.json:
        print_json(fmap.to_dict(), stream=sys.stdout)
        return 0
    wrong = fmap.misclassified
    print(f"{len(fmap)} windows of {len(set(fmap.files))} files mapped ({fmap.method}) in "
          f"{fmap.seconds.get('total', 0.0):.1f} s{' (from the cache)' if fmap.cached else ''}")
    by_split = Counter(s for s, w in zip(fmap.splits, wrong) if w)
    print(f"misclassified: {int(wrong.sum())} windows" +
          (f" ({', '.join(f'{n} {s}' for s, n in sorted(by_split.items()))})" if by_split else ""))
    for s in fmap.suspects:
        print(f"suspect: {shown(Path(s['paths'][0]).name)}: {shown(s['message'])}")
    return 0
