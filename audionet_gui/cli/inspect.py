"""``audionet inspect AUDIO_FILE --png OUT.png``: the spectrogram image of a file."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from audionet_gui.cli.flags import add_settings_flags, settings_from
from audionet_gui.cli.term import fail, print_json, shown
from audionet_gui.core.audio.files import load_audio
from audionet_gui.core.audio.spectrogram import compute_spectrogram, render_image, save_png, spectrogram_image
from audionet_gui.core.audio.windows import cut_windows
from audionet_gui.core.base.errors import AudioNetError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("inspect", help="write the spectrogram image of an audio file",
                       description="Write the spectrogram of AUDIO_FILE as a PNG. By default the whole file at the "
                                   "configured image size; with --window-index N, exactly the image the CNN sees for "
                                   "window N.")
    p.add_argument("audio_file", type=Path, metavar="AUDIO_FILE")
    p.add_argument("--png", type=Path, required=True, metavar="OUT.png")
    p.add_argument("--window-index", type=int, metavar="N", help="write the CNN image of window N instead")
    p.add_argument("--json", action="store_true", help="print what was written as JSON")
    add_settings_flags(p, without_network=True)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    try:
        settings = settings_from(args)
        spec_cfg, win_cfg = settings.spectrogram, settings.window
    except (ValueError, OSError) as exc:
        return fail(str(exc))
    try:
        samples = load_audio(args.audio_file, spec_cfg.sample_rate)
        if args.window_index is not None:
            windows = cut_windows(samples, spec_cfg.sample_rate, win_cfg)
            if not 0 <= args.window_index < len(windows):
                return fail(f"{args.audio_file}: window {args.window_index} does not exist "
                            f"(the file has {len(windows)} windows)")
            w = windows[args.window_index]
            image, span = spectrogram_image(w.samples, spec_cfg), (w.start_s, w.end_s)
        else:
            image = render_image(compute_spectrogram(samples, spec_cfg).values_db, spec_cfg)
            span = (0.0, samples.size / spec_cfg.sample_rate)
        save_png(np.ascontiguousarray(image), args.png)
    except AudioNetError as exc:
        return fail(str(exc), 1)
    if args.json:
        print_json({"file": str(args.audio_file), "png": str(args.png), "start_s": span[0], "end_s": span[1],
                    "width": int(image.shape[1]), "height": int(image.shape[0]), "spectrogram": spec_cfg.to_dict()})
    else:
        print(f"wrote {shown(args.png)} ({image.shape[1]}x{image.shape[0]}, {span[0]:.2f}-{span[1]:.2f} s)")
    return 0
