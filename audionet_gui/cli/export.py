"""``audionet export MODEL_DIR --tflite OUT.tflite``: the model's network as a TFLite file."""

from __future__ import annotations

import sys

from audionet_gui.cli.term import fail, print_json, shown
from audionet_gui.core.base.errors import AudioNetError
from audionet_gui.core.model.bundle import check_export_target, export_tflite, load_bundle


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "export", help="export a model to TFLite",
        description="Write the network of MODEL_DIR as a TFLite flatbuffer: spectrogram images "
                    "(N, H, W, 3) with values 0..255 in, class probabilities out. Labels and audio settings stay in "
                    "MODEL_DIR "
                    "(labels.json, config.json).")
    p.add_argument("model_dir", metavar="MODEL_DIR")
    p.add_argument("--tflite", required=True, metavar="OUT.tflite")
    p.add_argument("--json", action="store_true", help="print a JSON summary")
    p.set_defaults(run=run)


def run(args) -> int:
    try:
        check_export_target(args.model_dir, args.tflite)  # before seconds of loading, and never the model itself
        bundle = load_bundle(args.model_dir)
        out = export_tflite(bundle, args.tflite)
    except AudioNetError as exc:
        return fail(str(exc), status=1)
    size = out.stat().st_size
    if args.json:
        width, height = bundle.image_size
        print_json({"tflite": str(out), "bytes": size, "labels": bundle.labels,
                    "input": [None, height, width, 3], "input_dtype": str(bundle.model.inputs[0].dtype)},
                   stream=sys.stdout)
    else:
        print(f"wrote {shown(out)} ({size / 1e6:.1f} MB)")
    return 0
