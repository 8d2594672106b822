"""Flags for the window and spectrogram settings, shared by every command that makes images."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from audionet_gui.core.audio.colormaps import COLORMAPS
from audionet_gui.core.audio.files import is_audio_file
from audionet_gui.core.audio.spectrogram import KINDS, SpectrogramConfig
from audionet_gui.core.audio.windows import SHORT_CLIP_RULES, WindowConfig
from audionet_gui.core.data.convert import AugmentPlan

_SPEC_DEFAULTS = SpectrogramConfig()
_WIN_DEFAULTS = WindowConfig()


def add_window_flags(parser: argparse.ArgumentParser) -> None:
    g = parser.add_argument_group("windows")
    g.add_argument("--window", type=float, metavar="S", help=f"window length in seconds (default {_WIN_DEFAULTS.window_s})")
    g.add_argument("--hop", type=float, metavar="S", help=f"hop between windows in seconds (default {_WIN_DEFAULTS.hop_s})")
    g.add_argument("--short-clip", choices=SHORT_CLIP_RULES,
                   help="how a clip shorter than a window fills it: tile (repeat it) or pad (centre it in silence)")
    g.add_argument("--keep-silent", action="store_true", help="keep windows quieter than --silence-db")
    g.add_argument("--silence-db", type=float, metavar="DB",
                   help=f"windows under this RMS level (dBFS) are silent (default {_WIN_DEFAULTS.silence_db})")


def add_spectrogram_flags(parser: argparse.ArgumentParser) -> None:
    g = parser.add_argument_group("spectrogram")
    g.add_argument("--config", type=Path, metavar="JSON",
                   help="spectrogram settings from a JSON file (as written in workspace.json); flags override it")
    g.add_argument("--kind", choices=KINDS, help="mel (default), stft (linear frequency, dB) or chroma")
    g.add_argument("--sample-rate", type=int, metavar="HZ", help=f"analysis rate (default {_SPEC_DEFAULTS.sample_rate})")
    g.add_argument("--n-fft", type=int, metavar="N", help=f"FFT size (default {_SPEC_DEFAULTS.n_fft})")
    g.add_argument("--hop-length", type=int, metavar="N", help=f"STFT hop in samples (default {_SPEC_DEFAULTS.hop_length})")
    g.add_argument("--n-mels", type=int, metavar="N", help=f"mel bands (default {_SPEC_DEFAULTS.n_mels})")
    g.add_argument("--fmin", type=float, metavar="HZ", help=f"lowest frequency (default {_SPEC_DEFAULTS.fmin})")
    g.add_argument("--fmax", type=float, metavar="HZ", help="highest frequency (default: half the sample rate)")
    g.add_argument("--db-range", type=float, metavar="DB", help=f"dynamic range shown (default {_SPEC_DEFAULTS.db_range})")
    g.add_argument("--colormap", choices=COLORMAPS, help=f"default {_SPEC_DEFAULTS.colormap}")
    g.add_argument("--image-size", metavar="WxH", help="image size in pixels, e.g. 299x299 (default: the backbone's)")


def add_augment_flags(parser: argparse.ArgumentParser, default_copies: int = 0) -> None:
    g = parser.add_argument_group("augmentation (robustness to noise, level and timing)")
    g.add_argument("--augment", type=int, default=default_copies, metavar="N",
                   help=f"augmented copies of each training window: background noise at a random SNR, level "
                        f"change, time shift, SpecAugment masks (default {default_copies}; 0 = off)")
    g.add_argument("--noise-dir", type=Path, action="append", default=[], metavar="DIR",
                   help="recordings of background noise to mix in (fan, traffic, rain, an empty room); "
                        "repeatable. A _background_noise_ class folder is used too. Without any, coloured noise")
    g.add_argument("--augment-seed", type=int, default=0, metavar="N")


def augment_plan_from(args: argparse.Namespace):
    if not getattr(args, "augment", 0):
        return None
    noise = []
    for d in getattr(args, "noise_dir", []) or []:
        if not Path(d).is_dir():
            raise ValueError(f"{d}: noise folder does not exist")
        noise.extend(sorted(str(p) for p in Path(d).rglob("*") if p.is_file() and is_audio_file(p)))
    return AugmentPlan(copies=int(args.augment), seed=int(args.augment_seed), noise_files=tuple(noise))


def parse_image_size(text: str) -> tuple[int, int]:
    try:
        w, _, h = text.lower().partition("x")
        return int(w), int(h or w)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"image size must look like 299x299, got {text!r}") from exc


def window_config_from(args: argparse.Namespace, base: WindowConfig = _WIN_DEFAULTS) -> WindowConfig:
    data = base.to_dict()
    for flag, key in (("window", "window_s"), ("hop", "hop_s"), ("short_clip", "short_clip"), ("silence_db", "silence_db")):
        if getattr(args, flag, None) is not None:
            data[key] = getattr(args, flag)
    if getattr(args, "keep_silent", False):
        data["skip_silent"] = False
    return WindowConfig.from_dict(data)


def spectrogram_config_from(args: argparse.Namespace, base: SpectrogramConfig = _SPEC_DEFAULTS) -> SpectrogramConfig:
    data = base.to_dict()
    if getattr(args, "config", None):
        loaded = json.loads(Path(args.config).read_text())
        data.update(loaded.get("spectrogram", loaded))
    for flag in ("kind", "sample_rate", "n_fft", "hop_length", "n_mels", "fmin", "fmax", "db_range", "colormap"):
        if getattr(args, flag, None) is not None:
            data[flag] = getattr(args, flag)
    if getattr(args, "image_size", None):
        data["image_width"], data["image_height"] = parse_image_size(args.image_size)
    return SpectrogramConfig.from_dict(data)
