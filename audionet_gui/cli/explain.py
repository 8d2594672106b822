"""``audionet explain MODEL_DIR AUDIO_FILE [--window-index N] [--png OUT.png] [--json]``: which time and frequency
regions of one window decided the model's answer (core/model/explain.py). JSON: ``label``, ``p``, ``start``,
``end``, ``saliency`` {``times_s``, ``freqs_hz``, ``values`` (one row per frequency, one column per time)}, and
``method``, ``window_index``."""

from __future__ import annotations

import sys

import numpy as np

from audionet_gui.cli.term import fail, print_json
from audionet_gui.core.base.errors import AudioNetError
from audionet_gui.core.model.bundle import load_bundle
from audionet_gui.core.model.explain import DEFAULT_METHOD, METHODS, explain_file, save_overlay_png


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "explain", help="show which time and frequency regions decided a model's answer",
        description="Explain the answer of MODEL_DIR for one window of AUDIO_FILE (by default the window the "
                    "model is surest about): a saliency map over time and frequency.")
    p.add_argument("model_dir", metavar="MODEL_DIR")
    p.add_argument("audio", metavar="AUDIO_FILE")
    p.add_argument("--window-index", type=int, default=None, metavar="N", help="explain window N (0 = the first)")
    p.add_argument("--method", choices=METHODS, default=DEFAULT_METHOD,
                   help=f"saliency method (default {DEFAULT_METHOD}: the more faithful one by the deletion test, "
                        "see DEVELOPERS.md)")
    p.add_argument("--png", default=None, metavar="OUT.png", help="also draw the window with the map over it")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(run=run)


def run(args) -> int:
    try:
        bundle = load_bundle(args.model_dir)
        e = explain_file(bundle, args.audio, window_index=args.window_index, method=args.method)
        if args.png:
            save_overlay_png(e, args.png)
    except (AudioNetError, ValueError, OSError) as exc:
        return fail(str(exc), status=1)
    if args.json:
        print_json(e.to_dict(), stream=sys.stdout)
        return 0
    row, col = np.unravel_index(int(np.argmax(e.values)), e.values.shape)
    print(f"window {e.window_index} ({e.start:.2f}-{e.end:.2f} s): {e.label} (p = {e.p:.2f})")
    print(f"most decisive region ({e.method}): around {e.freqs_hz[row]:.0f} Hz at {e.times_s[col]:.2f} s")
    if args.png:
        print(f"map drawn in {args.png}")
    return 0
