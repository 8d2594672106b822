"""``audionet convert DATA_DIR --out WORKSPACE``: window images and a manifest for a dataset."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from audionet_gui.cli.flags import add_augment_flags, add_settings_flags, augment_plan_from, settings_from
from audionet_gui.cli.term import TerminalProgress, fail, print_json, shown
from audionet_gui.core.base.errors import AudioNetError
from audionet_gui.core.data.convert import convert_dataset
from audionet_gui.core.data.dataset import DatasetSpec, SplitConfig


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("convert", help="cut a dataset into windows and write their spectrogram images",
                       description="Convert DATA_DIR (one subfolder per class) into window images plus manifest.csv. "
                                   "Unchanged files are skipped on a re-run; bad files are listed and skipped.")
    p.add_argument("data_dir", type=Path, metavar="DATA_DIR")
    p.add_argument("--out", type=Path, required=True, metavar="WORKSPACE", help="workspace folder to write")
    p.add_argument("--test-dir", type=Path, metavar="DIR", help="class subfolders that form the test split")
    p.add_argument("--workers", type=int, metavar="N", help="processes to use (default: every core)")
    p.add_argument("--val-fraction", type=float, default=SplitConfig.val_fraction, metavar="F")
    p.add_argument("--test-fraction", type=float, default=SplitConfig.test_fraction, metavar="F")
    p.add_argument("--json", action="store_true", help="print a JSON summary on stdout")
    add_augment_flags(p)
    add_settings_flags(p, without_network=True)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    try:
        settings = settings_from(args)
        spec = DatasetSpec.from_root(args.data_dir, args.test_dir)
        augment = augment_plan_from(args)
    except (ValueError, OSError, AudioNetError) as exc:
        return fail(str(exc))
    progress = TerminalProgress(quiet=args.json)
    try:
        summary = convert_dataset(spec, args.out, settings.spectrogram, settings.window, progress=progress,
                                  workers=args.workers,
                                  split_cfg=SplitConfig(args.val_fraction, args.test_fraction), augment=augment)
    except AudioNetError as exc:
        progress.close()
        return fail(str(exc), 1)
    progress.close()
    if args.json:
        print_json(summary.to_dict())
    else:
        rate = summary.seconds_of_audio / summary.wall_seconds if summary.wall_seconds else 0.0
        print(f"converted {summary.files} files ({summary.cached} unchanged) into {summary.windows} windows, "
              f"{summary.seconds_of_audio:.1f} s of audio in {summary.wall_seconds:.1f} s ({rate:.0f}x real time)")
        print("windows per split: " + ", ".join(f"{k} {v}" for k, v in sorted(summary.splits.items()))
              + (f" (+{summary.augmented_windows} augmented training copies)" if summary.augmented_windows else ""))
        print(f"workspace: {shown(summary.workspace)}")
    for f in summary.skipped + summary.failed:
        print(f"skipped {shown(f['path'])}: {shown(f['reason'])}", file=sys.stderr)
    return 0 if summary.files else 1
