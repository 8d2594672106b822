"""``audionet train DATA_DIR --out MODEL_DIR``: from folders of audio (one subfolder per class) to a checked model
folder with ``metrics.json`` (``test.accuracy``, ``test.recording_accuracy``, ``test.per_class``,
``test.confusion``, ``labels``) and ``confusion.png``."""

from __future__ import annotations

import argparse
import sys

from audionet_gui.cli.flags import (
    add_augment_flags,
    add_settings_flags,
    add_training_plan_flags,
    augment_plan_from,
    settings_from,
    training_plan_from,
)
from audionet_gui.cli.term import fail, print_json, run_job, shown
from audionet_gui.core.data.convert.augmentation import DEFAULT_COPIES
from audionet_gui.core.data.dataset import SplitConfig
from audionet_gui.core.model.backbones import BACKBONES, DEFAULT_BACKBONE
from audionet_gui.core.model.training import TrainConfig
from audionet_gui.core.pipeline import train_from_folders


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {text}")
    return value


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "train", help="train a model from folders of audio (one subfolder per class)",
        description="Convert DATA_DIR (one subfolder of audio per class) to spectrogram images, retrain a CNN, "
                    "measure it on the test split and write the model folder MODEL_DIR.")
    p.add_argument("data_dir", metavar="DATA_DIR", help="folder with one subfolder of audio files per class")
    p.add_argument("--out", required=True, metavar="MODEL_DIR", help="model folder to write (replaced if it is one)")
    p.add_argument("--backbone", default=DEFAULT_BACKBONE, choices=list(BACKBONES),
                   help="image network to retrain (default: inception_v3)")
    p.add_argument("--weights", default="imagenet", metavar="PATH|imagenet|none",
                   help="pretrained weights: a Keras weights file, 'imagenet' (downloaded once by Keras) or 'none' "
                        "(random start; small_cnn needs none)")
    p.add_argument("--feature-layer", default=None, metavar="NAME[+NAME]",
                   help="backbone layer(s) to pool features from (default: the backbone's)")
    p.add_argument("--epochs", type=positive_int, default=None, metavar="N",
                   help="training epochs (default 60, early stop)")
    p.add_argument("--batch-size", type=positive_int, default=None, metavar="N")
    p.add_argument("--learning-rate", type=float, default=None, metavar="LR")
    p.add_argument("--fine-tune", action="store_true", help="also fine-tune the top of the backbone (slower)")
    p.add_argument("--fine-tune-epochs", type=positive_int, default=None, metavar="N")
    p.add_argument("--no-augment", action="store_true", help="train without noise/shift/mask augmentation")
    add_augment_flags(p, default_copies=DEFAULT_COPIES)
    add_training_plan_flags(p)  # --augment above is the plan's augmented copies; --patience
    p.add_argument("--test-dir", default=None, metavar="DIR",
                   help="folder of class subfolders to test on (instead of the hash test split of DATA_DIR)")
    p.add_argument("--val-fraction", type=float, default=SplitConfig.val_fraction, metavar="F",
                   help=f"share of each class's files for validation (default {SplitConfig.val_fraction})")
    p.add_argument("--test-fraction", type=float, default=SplitConfig.test_fraction, metavar="F",
                   help=f"share of each class's files for testing (default {SplitConfig.test_fraction}; "
                        "ignored with --test-dir)")
    p.add_argument("--seed", type=int, default=0, metavar="N", help="random seed (same seed, same model)")
    p.add_argument("--workspace", default=None, metavar="DIR",
                   help="where window images are kept (default: a per-dataset folder in the user cache)")
    p.add_argument("--cache-dir", default=None, metavar="DIR", help="feature cache (default: the user cache)")
    p.add_argument("--no-robustness", dest="robustness", action="store_false",
                   help="skip the robustness report (test recordings in noise, another room, a cheap microphone, live)")
    p.add_argument("--no-feature-map", dest="feature_map", action="store_false",
                   help="skip making the map of every window's features that the Feature map page shows")
    p.add_argument("--json", action="store_true", help="print the result as one JSON object")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    add_settings_flags(p)  # --image-size here is the network's input size (default: the backbone's)
    p.set_defaults(run=run)


def build_configs(args):
    """The settings (image size unresolved unless --image-size: training resolves it for the backbone) and
    the training config."""
    settings = settings_from(args)
    overrides = {"backbone": args.backbone, "weights": args.weights, "feature_layer": args.feature_layer,
                 "fine_tune": args.fine_tune, "seed": args.seed, "augment": not args.no_augment,
                 "patience": training_plan_from(args).patience}
    for name in ("epochs", "batch_size", "learning_rate", "fine_tune_epochs"):
        value = getattr(args, name)
        if value is not None:
            overrides[name] = value
    return settings, TrainConfig(**overrides)


def run(args) -> int:
    try:
        settings, train_cfg = build_configs(args)
        augment = augment_plan_from(args)
    except (ValueError, OSError, argparse.ArgumentTypeError) as exc:
        return fail(str(exc))
    report, status = run_job(
        lambda progress: train_from_folders(args.data_dir, args.out, settings, train_cfg, test_dir=args.test_dir,
                                            workspace=args.workspace, feature_cache=args.cache_dir,
                                            split_cfg=SplitConfig(args.val_fraction, args.test_fraction),
                                            progress=progress, augment=augment,
                                            robustness=getattr(args, "robustness", True),
                                            feature_map=getattr(args, "feature_map", True)),
        quiet=args.quiet or args.json, cancelled="cancelled; no model was written")
    if status is not None:
        return status
    if args.json:
        m = report.metrics
        print_json({"model": str(report.bundle_path), "labels": report.labels, "test": m.get("test"),
                    "val": m.get("val"), "unknown_threshold": report.unknown_threshold,
                    "data": m.get("data"), "wall_seconds": round(report.wall_seconds, 2),
                    "warnings": report.warnings}, stream=sys.stdout)
    else:
        for line in report.summary_lines():
            print(shown(line))
        sys.stdout.flush()
    return 0
