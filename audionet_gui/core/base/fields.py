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


def setting(default: Any, label: str, help: str, **info: Any) -> Any:
    return dataclasses.field(default=default, metadata={"setting": SettingInfo(label, help, **info)})


def setting_info(field: dataclasses.Field) -> SettingInfo | None:
    return field.metadata.get("setting")


def settings_fields(cls_or_obj: Any) -> list[tuple[dataclasses.Field, SettingInfo]]:
    """The fields of a settings dataclass that carry metadata, in declaration order."""
    return [(f, setting_info(f)) for f in dataclasses.fields(cls_or_obj) if setting_info(f) is not None]
