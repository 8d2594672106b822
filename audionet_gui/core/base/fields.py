"""Field metadata for typed settings: one declaration gives the form widget, the CLI flag and the check.

    n_mels: int = setting(128, "Mel bands", "How many mel bands the image has", min=8, max=512)

``setting`` returns a ``dataclasses.field`` whose metadata the settings form (ui/widgets/settings_form.py) and
the CLI flags (cli/flags.py) read; nothing else lists the fields by hand.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class SettingInfo:
    label: str
    help: str
    unit: str | None = None
    min: float | None = None
    max: float | None = None
    step: float | None = None
    choices: tuple[Any, ...] | None = None
    flag: str | None = None  # CLI flag; default "--" + the field name with dashes
    advanced: bool = False  # shown under "More settings" in the form
    optional: bool = False  # None is a valid value (e.g. fmax = Nyquist); the form offers "auto"
    auto_text: str = "auto"  # what the form and the flag's help call None
    decimals: int | None = None  # digits a float editor shows; None = 2
    doubling: bool = False  # the editor's arrows halve and double (FFT sizes)
    relevant: tuple[str, tuple[Any, ...]] | None = None  # (other field, its values) for which this one matters


def setting(default: Any, label: str, help: str, **info: Any) -> Any:
    return dataclasses.field(default=default, metadata={"setting": SettingInfo(label, help, **info)})


def setting_info(field: dataclasses.Field) -> SettingInfo | None:
    return field.metadata.get("setting")


def settings_fields(cls_or_obj: Any) -> list[tuple[dataclasses.Field, SettingInfo]]:
    """The fields of a settings dataclass that carry metadata, in declaration order."""
    return [(f, setting_info(f)) for f in dataclasses.fields(cls_or_obj) if setting_info(f) is not None]


def value_kind(cls: Any, field: dataclasses.Field) -> str:
    """What kind of editor and flag a field needs: "choice", "bool", "int", "float", "size" ((width, height))
    or "str", from its metadata and its annotation (annotations may be strings under ``from __future__``)."""
    info = setting_info(field)
    if info is not None and info.choices is not None:
        return "choice"
    annotation = field.type if isinstance(field.type, str) else getattr(field.type, "__name__", str(field.type))
    text = annotation.replace(" ", "")
    if text.startswith("Optional[") and text.endswith("]"):
        text = text[len("Optional["):-1]
    text = "|".join(part for part in text.split("|") if part != "None")
    kinds = {"tuple[int,int]": "size", "bool": "bool", "int": "int", "float": "float", "str": "str"}
    if text not in kinds:
        raise TypeError(f"{getattr(cls, '__name__', cls)}.{field.name}: no editor for the type {annotation!r}")
    return kinds[text]


def _number_text(value: float) -> str:
    return f"{value:g}"


def check_kinds(obj: Any) -> None:
    """Only the kinds (a number, text, true/false, one of the choices): what the other checks of a settings
    object need before they compare values. ``check_bounds`` does this and the ranges."""
    check_bounds(obj, ranges=False)


def check_bounds(obj: Any, ranges: bool = True) -> None:
    """Check every ``setting`` field of a settings dataclass against its own metadata (kind, choices, min, max),
    so the bounds live with the field: ValueError naming the setting, its allowed range and the value. Called by
    the settings' ``__post_init__``, so values from a project or a model folder are checked on load (a window
    of 1e7 s or a hop of 1e-9 s is refused, not a MemoryError or an endless loop later)."""
    cls = type(obj)
    for f, info in settings_fields(cls):
        value = getattr(obj, f.name)
        where = f"{info.label} ({f.name})"
        if value is None:
            if info.optional:
                continue
            raise ValueError(f"{where} must be set")
        kind = value_kind(cls, f)
        if kind == "choice":
            if value not in info.choices:
                raise ValueError(f"{where} must be one of {', '.join(map(str, info.choices))}, got {value!r}")
            continue
        if kind == "str":
            if not isinstance(value, str):
                raise ValueError(f"{where} must be text, got {value!r}")
            continue
        if kind == "bool":
            if not isinstance(value, bool):
                raise ValueError(f"{where} must be true or false, got {value!r}")
            continue
        numbers_ = value if kind == "size" else (value,)
        if kind == "size" and (not isinstance(value, (tuple, list)) or len(value) != 2):
            raise ValueError(f"{where} must be (width, height), got {value!r}")
        for number in numbers_:
            integral = kind in ("int", "size")
            if isinstance(number, bool) or not isinstance(number, numbers.Integral if integral else numbers.Real):
                raise ValueError(f"{where} must be {'a whole number' if integral else 'a number'}, got {number!r}")
            if not math.isfinite(number):
                raise ValueError(f"{where} must be a finite number, got {number!r}")
            if not ranges:
                continue
            low = -math.inf if info.min is None else info.min
            high = math.inf if info.max is None else info.max
            if not low <= number <= high:
                unit = f" {info.unit}" if info.unit else ""
                if info.min is not None and info.max is not None:
                    allowed = f"between {_number_text(info.min)} and {_number_text(info.max)}{unit}"
                elif info.min is not None:
                    allowed = f"at least {_number_text(info.min)}{unit}"
                else:
                    allowed = f"at most {_number_text(info.max)}{unit}"
                raise ValueError(f"{where} must be {allowed}, got {number!r}")
