"""``audionet doctor DATA_DIR [--weights PATH|imagenet | --backbone NAME] [--json]``: what is wrong with a folder
of class subfolders before a network learns it. Reads the files, never changes them. JSON: ``{"findings": [...]}``,
each finding with ``kind``, ``paths``, ``class``, ``message`` and ``fix`` (core/data/doctor)."""

from __future__ import annotations

import argparse
import sys
from collections import Counter

from audionet_gui.cli.flags import add_settings_flags, settings_from
from audionet_gui.cli.term import fail, print_json, run_job
from audionet_gui.core.base.errors import AudioNetError
from audionet_gui.core.data.dataset import DatasetSpec
from audionet_gui.core.data.doctor.findings import KINDS
from audionet_gui.core.data.doctor.run import doctor_dataset
from audionet_gui.core.model.backbones import BACKBONES, DEFAULT_BACKBONE

MAX_PATHS_SHOWN = 5


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "doctor", help="find problems in a dataset (unreadable, silent, clipped, duplicate, mislabelled files...)",
        description="Examine every audio file of DATA_DIR (one subfolder per class) and report unreadable files, "
                    "silence, clips too short to learn from, clipping, the same audio twice (in one class or "
                    "in two; decoded audio is compared, so a re-encoded copy counts), a class recorded at "
                    "another sample rate or channel count, imbalanced classes and, with --weights or "
                    "--backbone, files that sound like another class (suspect_label). Nothing is changed.")
    p.add_argument("data_dir", metavar="DATA_DIR")
    p.add_argument("--weights", default=None, metavar="PATH|imagenet",
                   help=f"also judge every file's label with this backbone's features (default backbone "
                        f"{DEFAULT_BACKBONE}): a Keras weights file, or 'imagenet'")
    p.add_argument("--backbone", default=None, choices=list(BACKBONES),
                   help="also judge every file's label with this backbone (weights: --weights, else imagenet)")
    p.add_argument("--test-dir", default=None, metavar="DIR", help="a test folder to examine as well")
    p.add_argument("--workspace", default=None, metavar="DIR", help="where window images are kept (with a backbone)")
    p.add_argument("--cache-dir", default=None, metavar="DIR", help="feature cache (with a backbone)")
    p.add_argument("--json", action="store_true", help='print {"findings": [...]} as JSON')
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    add_settings_flags(p)
    p.set_defaults(run=run)


def run(args) -> int:
    try:
        settings = settings_from(args)
        spec = DatasetSpec.from_root(args.data_dir, test_dir=args.test_dir)
    except (ValueError, OSError, argparse.ArgumentTypeError, AudioNetError) as exc:
        return fail(str(exc))
    backbone = args.backbone or (DEFAULT_BACKBONE if args.weights else None)
    report, status = run_job(
        lambda progress: doctor_dataset(spec, backbone=backbone, weights=args.weights or "imagenet",
                                        settings=settings, workspace=args.workspace, feature_cache=args.cache_dir,
                                        progress=progress),
        quiet=args.quiet or args.json)
    if status is not None:
        return status
    if args.json:
        print_json(report.to_dict(), stream=sys.stdout)
        return 0
    counts = Counter(f.kind for f in report.findings)
    print(f"examined {report.files} files in {report.seconds:.1f} s: "
          + (", ".join(f"{counts[k]} {k}" for k in KINDS if counts[k]) or "no problems found"))
    for f in report.findings:
        where = f" [{f.cls}]" if f.cls else ""
        print(f"\n{f.kind}{where}: {f.message}")
        if len(f.paths) > 1 or f.kind in ("imbalance", "sample_rate_mismatch"):
            shown = f.paths[:MAX_PATHS_SHOWN]
            more = f" (and {len(f.paths) - len(shown)} more)" if len(f.paths) > len(shown) else ""
            print("  files: " + ", ".join(shown) + more)
        print(f"  fix: {f.fix}")
    return 0
