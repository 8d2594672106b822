"""Every number in the settings has its bounds declared with its field, and they are enforced wherever settings
are made (the form, the flags, a project, a model folder): a value just outside either bound is refused."""

from __future__ import annotations

import math

import pytest

from audionet_gui.core.settings import ImageSettings, setting_fields

NUMERIC = [f for f in setting_fields() if f.kind in ("int", "float", "size")]


@pytest.mark.parametrize("field", NUMERIC, ids=lambda f: f.name)
def test_every_numeric_setting_declares_finite_bounds(field):
    assert field.info.min is not None and field.info.max is not None
    assert math.isfinite(field.info.min) and math.isfinite(field.info.max) and field.info.min < field.info.max


@pytest.mark.parametrize("field", NUMERIC, ids=lambda f: f.name)
def test_a_value_outside_the_bounds_is_refused(field):
    step = 1 if field.kind in ("int", "size") else max(1e-3, abs(field.info.max) * 1e-3)
    for value in (field.info.min - step, field.info.max + step, math.nan):
        if field.kind in ("int", "size") and not math.isfinite(value):
            continue
        if field.kind == "int":
            value = int(value)
        if field.kind == "size":
            value = (int(value), 64)
        with pytest.raises(ValueError):
            ImageSettings().with_values({field.name: value})


@pytest.mark.parametrize("name, value", [("n_mels", True), ("n_fft", 512.5), ("skip_silent", 1), ("window_s", "2"),
                                         ("gate", "sometimes")])
def test_wrong_kinds_are_refused(name, value):
    with pytest.raises(ValueError, match=name):
        ImageSettings().with_values({name: value})
