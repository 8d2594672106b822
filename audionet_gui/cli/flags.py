"""Flags for the audio-to-image settings, made from their ``setting(...)`` metadata (core/settings.py), so every
setting has a flag and a new one gets its flag without code here; and the augmentation flags.

Names kept from before: ``--window``, ``--hop``, ``--keep-silent`` (skip_silent false) and ``--image-size WxH``
come from the metadata's ``flag``; the others are ``--`` + the field name with dashes. ``--config JSON`` reads
settings from a file first; flags given override it.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path
from typing import Any

from audionet_gui.core.audio.files import is_audio_file
from audionet_gui.core.base.fields import settings_fields
from audionet_gui.core.data.convert.augmentation import AugmentPlan
from audionet_gui.core.settings import (
    PARTS,
    ImageSettings,
    SettingField,
    TrainingPlan,
    setting_fields,
    settings_from_json,
    training_plan_fields,
)

GROUPS = {"window": "windows", "spectrogram": "spectrogram", "": "spectrogram"}
_METAVARS = {"s": "S", "Hz": "HZ", "dB": "DB"}
_AUTO_WORDS = ("auto", "none")


class _Auto:
    """What an optional setting's flag parses "auto" to (None would read as "flag not given")."""


AUTO = _Auto()


def add_settings_flags(parser: argparse.ArgumentParser, without_network: bool = False) -> None:
    """The ``windows`` and ``spectrogram`` groups: one flag per setting, plus ``--config``. ``without_network``:
    the command makes images for no particular network (convert, inspect), so an image size left on auto is
    the spectrogram's default."""
    groups = {part: parser.add_argument_group(GROUPS[part]) for part, _ in PARTS}
    groups["spectrogram"].add_argument(
        "--config", type=Path, metavar="JSON",
        help="settings from a JSON file: a project, a model's config.json, a workspace.json or a spectrogram "
             "object; flags given override it")
    for f in setting_fields():
        _add_flag(groups[f.part or "spectrogram"], f, without_network)


def _add_flag(group, f: SettingField, without_network: bool = False) -> None:
    info = f.info
    if f.kind == "bool":
        # The declared flag sets the opposite of the default (--keep-silent); --<name> sets the default back.
        group.add_argument(f.flag, dest=f.name, action="store_const", const=not f.default, default=None,
                           help=_escape(f"{info.label}: {'no' if f.default else 'yes'}. {info.help}"))
        if f.flag != "--" + f.name.replace("_", "-"):
            group.add_argument("--" + f.name.replace("_", "-"), dest=f.name, action="store_const",
                               const=f.default, default=None, help=f"undo {f.flag} (the default)")
        return
    kwargs: dict[str, Any] = {"dest": f.name, "default": None, "help": _escape(_help(f))}
    if f.kind == "size" and without_network:
        size = "x".join(str(v) for v in ImageSettings().effective_value(f.name))
        kwargs["help"] = f"width x height of the images in pixels, e.g. 299x299 (default {size})"
    if f.kind == "choice":
        kwargs["choices"] = list(info.choices)
        if info.optional:
            kwargs["choices"].append("auto")
    elif f.kind == "size":
        kwargs.update(type=_optional(parse_image_size, info.optional), metavar="WxH")
    else:
        convert = {"int": int, "float": float, "str": str}[f.kind]
        metavar = _METAVARS.get(info.unit or "", "N" if f.kind == "int" else "X")
        kwargs.update(type=_optional(_typed(convert, f.kind), info.optional), metavar=metavar)
    group.add_argument(f.flag, **kwargs)


def _escape(text: str) -> str:
    """argparse formats help with %: a setting's own "%" must reach the screen as written."""
    return text.replace("%", "%%")


def _help(f: SettingField) -> str:
    info = f.info
    unit = f" {info.unit}" if info.unit and f.kind != "size" else ""
    if f.default is None:
        default = info.auto_text + (" (auto)" if info.auto_text != "auto" else "")
    elif f.kind == "size":
        default = "x".join(str(v) for v in f.default)
    else:
        default = f"{f.default}{unit}"
    text = f"{info.help} (default {default}"
    if info.optional and f.default is not None:
        text += "; auto: " + info.auto_text
    return text + ")"


def _typed(convert, kind: str):
    def parse(text: str):
        try:
            return convert(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a{'n' if kind == 'int' else ''} {kind}: {text!r}") from None
    parse.__name__ = kind  # argparse names the type in its messages
    return parse


def _optional(parse, optional: bool):
    if not optional:
        return parse

    def parse_or_auto(text: str):
        return AUTO if text.strip().lower() in _AUTO_WORDS else parse(text)
    parse_or_auto.__name__ = getattr(parse, "__name__", "value")
    return parse_or_auto


def settings_from(args: argparse.Namespace, base: ImageSettings | None = None) -> ImageSettings:
    """The settings the flags describe: ``base`` (the defaults), then ``--config``, then each flag given.
    ValueError (or OSError for an unreadable --config file) with the reason when they make no sense."""
    settings = base or ImageSettings()
    config = getattr(args, "config", None)
    if config:
        try:
            data = json.loads(Path(config).read_text(encoding="utf-8"))
            settings = settings_from_json(data)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{config}: not valid JSON ({exc})") from None
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{config}: bad settings ({exc})") from None
    given = {}
    for f in setting_fields():
        value = getattr(args, f.name, None)
        if value is not None:
            given[f.name] = None if value is AUTO or (f.kind == "choice" and value == "auto") else value
    return settings.with_values(given) if given else settings


def add_augment_flags(parser: argparse.ArgumentParser, default_copies: int = 0) -> None:
    g = parser.add_argument_group("augmentation (robustness to noise, level and timing)")
    g.add_argument("--augment", type=int, default=default_copies, metavar="N",
                   help=f"augmented copies of each training window: background noise at a random SNR, level "
                        f"change, time shift, SpecAugment masks (default {default_copies}; 0 = off)")
    g.add_argument("--noise-dir", type=Path, action="append", default=[], metavar="DIR",
                   help="recordings of background noise to mix in (fan, traffic, rain, an empty room); "
                        "repeatable. A _background_noise_ class folder is used too. Without any, coloured noise")
    g.add_argument("--augment-seed", type=int, default=0, metavar="N")
    for f, info in settings_fields(AugmentPlan):  # the levers: on by default, each with a --no-<lever>
        g.add_argument("--no-" + f.name.replace("_", "-"), dest=f"augment_{f.name}", action="store_false",
                       help=_escape(f"{info.label} off. {info.help}"))


def augment_plan_from(args: argparse.Namespace):
    if not getattr(args, "augment", 0):
        return None
    noise = []
    for d in getattr(args, "noise_dir", []) or []:
        if not Path(d).is_dir():
            raise ValueError(f"{d}: noise folder does not exist")
        noise.extend(sorted(str(p) for p in Path(d).rglob("*") if p.is_file() and is_audio_file(p)))
    levers = {f.name: getattr(args, f"augment_{f.name}", f.default) for f, _ in settings_fields(AugmentPlan)}
    return AugmentPlan(copies=int(args.augment), seed=int(args.augment_seed), noise_files=tuple(noise), **levers)


def add_training_plan_flags(parser: argparse.ArgumentParser) -> None:
    """One flag per training-plan setting (core/settings.py ``TrainingPlan``), in a "training plan" group. A
    flag the command already has (``--augment`` of the augmentation group) is that setting's flag: not added
    twice, its value read by ``training_plan_from``."""
    group = parser.add_argument_group("training plan")
    dests = {}
    for f in training_plan_fields():
        existing = parser._option_string_actions.get(f.flag)  # argparse has no public lookup by flag
        if existing is not None:
            dests[f.name] = existing.dest
        else:
            _add_flag(group, f)
    parser.set_defaults(training_plan_dests=dests)


def training_plan_from(args: argparse.Namespace, base: TrainingPlan | None = None) -> TrainingPlan:
    """``base`` (the defaults) with each training-plan flag given; ValueError naming a value out of bounds."""
    dests = getattr(args, "training_plan_dests", {})
    given = {}
    for f in training_plan_fields():
        value = getattr(args, dests.get(f.name, f.name), None)
        if value is not None:
            given[f.name] = value
    return dataclasses.replace(base or TrainingPlan(), **given)


def parse_image_size(text: str) -> tuple[int, int]:
    """``299x299`` or ``299`` (square) as (width, height)."""
    try:
        w, _, h = text.lower().strip().partition("x")
        return int(w), int(h or w)
    except ValueError:
        raise argparse.ArgumentTypeError(f"image size must look like 299x299, got {text!r}") from None
