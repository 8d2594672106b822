"""A valid value other than the default for any setting, so tests can iterate every field (a new field declared
with ``setting(...)`` is covered without editing them)."""

from __future__ import annotations

from typing import Any

from audionet_gui.core.settings import SettingField

# Settings whose valid values depend on others (fmax must stay under the Nyquist frequency of 16 kHz audio).
SPECIAL = {"fmax": 4000.0, "image_size": (64, 48)}


def other_value(f: SettingField) -> Any:
    if f.name in SPECIAL:
        return SPECIAL[f.name]
    if f.kind == "bool":
        return not f.default
    if f.kind == "choice":
        choices = list(f.info.choices)
        return choices[(choices.index(f.default) + 1) % len(choices)]
    if f.kind in ("int", "float"):
        step = f.info.step or 1
        value = f.default + step if f.info.max is None or f.default + step <= f.info.max else f.default - step
        return int(value) if f.kind == "int" else float(value)
    raise AssertionError(f"no test value for {f.name} ({f.kind})")


def flag_text(value: Any) -> str:
    if isinstance(value, tuple):
        return "x".join(str(v) for v in value)
    return str(value)
