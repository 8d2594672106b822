"""core/settings.py: one typed settings object for audio -> image; every field of its parts is declared with
metadata; JSON round trip; fingerprint; resolved for a backbone; the parts' rules still hold."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys

import pytest

from audionet_gui.core.audio.spectrogram import SpectrogramConfig
from audionet_gui.core.audio.windows import WindowConfig
from audionet_gui.core.base.fields import setting_info, value_kind
from audionet_gui.core.data.convert.augmentation import DEFAULT_COPIES, AugmentPlan
from audionet_gui.core.model.training import TrainConfig
from audionet_gui.core.settings import (
    DERIVED_FIELDS,
    PARTS,
    ImageSettings,
    TrainingPlan,
    setting_fields,
    settings_from_json,
    training_plan_fields,
)
from tests.settings_values import other_value


def test_every_field_of_every_part_is_a_setting_with_metadata():
    names = []
    for _part, cls in PARTS:
        for f in dataclasses.fields(cls):
            if f.name in DERIVED_FIELDS:
                continue
            info = setting_info(f)
            assert info is not None, f"{cls.__name__}.{f.name} has no setting(...) metadata"
            assert info.label and info.help, f.name
            kind = value_kind(cls, f)
            if kind in ("int", "float"):
                assert info.min is not None and info.max is not None and info.min < info.max, f.name
                if f.default is not None:
                    assert info.min <= f.default <= info.max, f.name
            if kind in ("choice",):
                assert f.default in info.choices, f.name
            assert kind != "str", f"{f.name}: a free text setting needs choices"
            assert (f.default is None) <= info.optional, f"{f.name}: None default but not optional"
            names.append(f.name)
    listed = [f.name for f in setting_fields()]
    assert listed == [*names, "image_size"]
    assert len(set(listed)) == len(listed)  # flat names are unique across the parts


def test_round_trip_of_defaults_and_of_every_field_changed():
    assert ImageSettings.from_dict(ImageSettings().to_dict()) == ImageSettings()
    changed = ImageSettings().with_values({f.name: other_value(f) for f in setting_fields()})
    for f in setting_fields():
        assert changed.value(f.name) == other_value(f), f.name
    data = json.loads(json.dumps(changed.to_dict()))
    assert ImageSettings.from_dict(data) == changed
    assert ImageSettings.from_json(changed.to_json()) == changed
    assert data["image_size"] == [64, 48]
    assert not set(DERIVED_FIELDS) & set(data["spectrogram"])  # the image size is stored once


def test_fingerprint_is_stable_and_sees_every_field():
    base = ImageSettings()
    assert base.fingerprint() == ImageSettings.from_dict(base.to_dict()).fingerprint()
    seen = {base.fingerprint()}
    for f in setting_fields():
        seen.add(base.with_values({f.name: other_value(f)}).fingerprint())
    assert len(seen) == len(setting_fields()) + 1


def test_resolved_once_for_the_backbone():
    settings = ImageSettings().with_values({"n_mels": 64})
    assert not settings.resolved
    small = settings.for_backbone("small_cnn")
    assert small.image_size == (128, 128) and small.spectrogram.image_size == (128, 128)
    assert small.spectrogram.n_mels == 64 and small.window == settings.window
    assert settings.for_backbone("mobilenet_v2").image_size == (224, 224)
    fixed = settings.with_image_size(96, 80)
    assert fixed.for_backbone("small_cnn").image_size == (96, 80)
    with pytest.raises(ValueError, match="at least"):
        settings.with_image_size(40, 40).for_backbone("inception_v3")


def test_resolving_does_not_import_tensorflow():
    code = ("import sys; from audionet_gui.core.settings import ImageSettings;"
            "ImageSettings().for_backbone('inception_v3');"
            "sys.exit(1 if any(m.startswith(('tensorflow', 'keras')) for m in sys.modules) else 0)")
    assert subprocess.run([sys.executable, "-c", code], timeout=120).returncode == 0


@pytest.mark.parametrize("values, words", [
    ({"fmin": 9000.0}, "fmin"),                       # above the Nyquist frequency of 16 kHz
    ({"fmax": 9000.0}, "Nyquist"),
    ({"hop_s": 0.0}, "hop"),
    ({"window_s": -1.0}, "window length"),
    ({"kind": "wavelet"}, "kind"),
    ({"ref": "loud"}, "ref"),
    ({"n_chroma": 0}, "n_chroma"),
    ({"db_range": 0.0}, "dB range"),
    ({"image_size": (4, 300)}, "too small"),
    ({"nothing": 1}, "unknown settings"),
])
def test_the_parts_rules_still_hold(values, words):
    with pytest.raises(ValueError, match=words):
        ImageSettings().with_values(values)


def test_image_size_is_chosen_in_one_place():
    sized = SpectrogramConfig(image_width=64, image_height=64)
    with pytest.raises(ValueError, match="image_size"):
        ImageSettings(spectrogram=sized)
    settings = ImageSettings.from_parts(sized)
    assert settings.image_size == (64, 64)
    assert settings.with_values({"image_size": None}).spectrogram.image_size == SpectrogramConfig().image_size
    assert ImageSettings(WindowConfig(), sized, (32, 16)).spectrogram.image_size == (32, 16)


def test_settings_are_read_from_every_json_that_holds_them():
    settings = ImageSettings().with_values({"n_mels": 40, "hop_s": 0.25, "image_size": (96, 96)})
    assert settings_from_json(settings.to_dict()) == settings
    assert settings_from_json({"kind": "audionet-project", "settings": settings.to_dict()}) == settings
    workspace = {"format_version": 1, "spectrogram": settings.spectrogram.to_dict(),
                 "window": settings.window.to_dict()}  # workspace.json: the image size is the spectrogram's
    assert settings_from_json(workspace) == settings
    bare = settings_from_json({"n_mels": 40, "kind": "stft"})
    assert (bare.spectrogram.n_mels, bare.spectrogram.kind, bare.image_size) == (40, "stft", None)
    with pytest.raises(TypeError):
        settings_from_json(["not", "an", "object"])


def test_effective_values_say_what_auto_means():
    settings = ImageSettings()
    assert settings.effective_value("fmax") == 8000.0
    assert settings.for_backbone("small_cnn").effective_value("image_size") == (128, 128)
    assert settings.effective_value("n_mels") == 128


def test_the_training_plan_lives_in_the_training_section_with_defaults_and_bounds():
    assert TrainingPlan.from_training({"backbone": "small_cnn"}) == TrainingPlan()  # an older project
    assert TrainingPlan().augmented_copies == DEFAULT_COPIES and TrainingPlan().patience == TrainConfig.patience
    plan = TrainingPlan.from_training({"epochs": 20, "augmented_copies": 1, "patience": 4})
    assert plan.to_training() == {"augmented_copies": 1, "patience": 4}
    assert plan.augment_plan(seed=3) == AugmentPlan(copies=1, seed=3)
    assert TrainingPlan(augmented_copies=0).augment_plan() is None
    # the image-level "augment_copies" of TrainConfig is another setting: the plan does not read it
    assert TrainingPlan.from_training({"augment_copies": 5}).augmented_copies == DEFAULT_COPIES
    with pytest.raises(ValueError, match="augmented_copies.*-1"):
        TrainingPlan.from_training({"augmented_copies": -1})
    with pytest.raises(ValueError, match="patience"):
        TrainingPlan.from_training({"patience": 1.5})
    fields = training_plan_fields()
    assert [f.name for f in fields] == ["augmented_copies", "patience"]
    assert all(f.info.label and f.info.help and f.kind == "int" for f in fields)
    assert fields[0].flag == "--augment"  # the flag audionet train has had for it
