"""Field metadata for typed settings: one declaration gives the form widget, the CLI flag and the check.

    n_mels: int = setting(128, "Mel bands", "How many mel bands the image has", min=8, max=512)

``setting`` returns a ``dataclasses.field`` whose metadata the settings form (ui/widgets/settings_form.py) and
the CLI flags (cli/flags.py) read; nothing else lists the fields by hand.
"""

from __future__ import annotations

import dataclasses
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
