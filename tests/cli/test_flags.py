"""cli/flags.py: the settings flags are made from the settings' metadata; the old flags keep their names and
meaning; every setting has a flag that parses into the one settings object."""

from __future__ import annotations

import json

import pytest

from audionet_gui.cli.entry import build_parser, main
from audionet_gui.cli.flags import settings_from, training_plan_from
from audionet_gui.cli.train import build_configs
from audionet_gui.core.data.convert.augmentation import DEFAULT_COPIES
from audionet_gui.core.data.project import Project
from audionet_gui.core.settings import ImageSettings, TrainingPlan, setting_fields, training_plan_fields
from tests.audio_factory import tone, write
from tests.settings_values import flag_text, other_value

COMMANDS = ("convert", "inspect", "train")
ARGS = {"convert": ["DATA", "--out", "WS"], "inspect": ["a.wav", "--png", "a.png"], "train": ["DATA", "--out", "M"]}
# The flags that existed before the settings were one object: their names are a contract.
CONTRACT = ("--window", "--hop", "--short-clip", "--keep-silent", "--silence-db", "--config", "--kind",
            "--sample-rate", "--n-fft", "--hop-length", "--n-mels", "--fmin", "--fmax", "--db-range", "--colormap",
            "--image-size")


def parse(command: str, *flags: str):
    return build_parser().parse_args([command, *ARGS[command], *flags])


def subparser(command: str):
    parser = build_parser()
    return next(a for a in parser._subparsers._group_actions[0].choices.items() if a[0] == command)[1]


@pytest.mark.parametrize("command", COMMANDS)
def test_every_setting_and_every_old_flag_is_in_the_help(command, capsys):
    options = {o for a in subparser(command)._actions for o in a.option_strings}
    flags = [f.flag for f in setting_fields()]
    assert {"--n-chroma", "--ref"} <= set(flags)
    missing = [flag for flag in (*CONTRACT, *flags) if flag not in options]
    assert missing == []
    with pytest.raises(SystemExit):
        main([command, "--help"])
    text = capsys.readouterr().out
    assert all(flag in text for flag in (*CONTRACT, *flags))


@pytest.mark.parametrize("field", setting_fields(), ids=lambda f: f.name)
def test_each_setting_is_set_by_its_flag(field):
    value = other_value(field)
    flags = [field.flag] if field.kind == "bool" else [field.flag, flag_text(value)]
    settings = settings_from(parse("convert", *flags))
    assert settings.value(field.name) == value
    others = {f.name: settings.value(f.name) for f in setting_fields() if f.name != field.name}
    assert others == {f.name: ImageSettings().value(f.name) for f in setting_fields() if f.name != field.name}


def test_old_flags_keep_their_meaning():
    args = parse("train", "--window", "1.5", "--hop", "0.25", "--short-clip", "pad", "--keep-silent",
                 "--silence-db", "-40", "--kind", "stft", "--sample-rate", "8000", "--n-fft", "256",
                 "--hop-length", "80", "--n-mels", "40", "--fmin", "50", "--fmax", "3000", "--db-range", "60",
                 "--colormap", "magma", "--image-size", "96x64", "--n-chroma", "24", "--ref", "absolute")
    s = settings_from(args)
    assert (s.window.window_s, s.window.hop_s, s.window.short_clip, s.window.skip_silent, s.window.silence_db) == \
        (1.5, 0.25, "pad", False, -40.0)
    sp = s.spectrogram
    assert (sp.kind, sp.sample_rate, sp.n_fft, sp.hop_length, sp.n_mels, sp.fmin, sp.fmax, sp.db_range,
            sp.colormap, sp.n_chroma, sp.ref) == ("stft", 8000, 256, 80, 40, 50.0, 3000.0, 60.0, "magma", 24,
                                                  "absolute")
    assert s.image_size == (96, 64) and sp.image_size == (96, 64)
    assert settings_from(parse("train", "--image-size", "48")).image_size == (48, 48)
    assert settings_from(parse("train")) == ImageSettings()  # no flag: defaults, image size left to the backbone
    assert settings_from(parse("inspect", "--keep-silent", "--skip-silent")).window.skip_silent is True


def test_config_file_then_flags(tmp_path):
    project = Project(settings=ImageSettings().with_values({"n_mels": 40, "fmax": 5000.0, "window_s": 1.0}))
    path = project.save(tmp_path / "p.audionet.json")
    s = settings_from(parse("convert", "--config", str(path), "--fmax", "auto", "--n-fft", "1024"))
    assert (s.spectrogram.n_mels, s.spectrogram.fmax, s.spectrogram.n_fft, s.window.window_s) == (40, None, 1024, 1.0)
    workspace = tmp_path / "workspace.json"  # as convert writes it: the image size is the spectrogram's
    workspace.write_text(json.dumps({"spectrogram": {"n_mels": 32, "image_width": 64, "image_height": 64},
                                     "window": {"hop_s": 0.5}}))
    s = settings_from(parse("inspect", "--config", str(workspace)))
    assert (s.spectrogram.n_mels, s.image_size, s.window.hop_s) == (32, (64, 64), 0.5)
    (tmp_path / "bad.json").write_text(json.dumps({"spectrogram": {"kind": "wavelet"}}))
    with pytest.raises(ValueError, match="bad.json: bad settings"):
        settings_from(parse("inspect", "--config", str(tmp_path / "bad.json")))


def test_refused_values_are_a_clear_error(tmp_path, capsys):
    wav = write(tmp_path / "a.wav", tone(440, 1.0))
    assert main(["inspect", str(wav), "--png", str(tmp_path / "a.png"), "--fmin", "9000"]) == 2
    assert "fmin" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        parse("inspect", "--image-size", "wide")
    assert "299x299" in capsys.readouterr().err


def test_inspect_makes_the_image_the_flags_describe(tmp_path, capsys):
    wav = write(tmp_path / "a.wav", tone(440, 2.0))
    out = tmp_path / "a.png"
    assert main(["inspect", str(wav), "--png", str(out), "--window-index", "0", "--kind", "chroma",
                 "--n-chroma", "24", "--image-size", "40x30", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert (result["width"], result["height"]) == (40, 30)
    assert result["spectrogram"]["n_chroma"] == 24 and result["spectrogram"]["kind"] == "chroma"


def test_each_augmentation_lever_has_a_no_flag():
    import argparse  # noqa: PLC0415

    from audionet_gui.cli.flags import add_augment_flags, augment_plan_from  # noqa: PLC0415 - local to this test

    parser = argparse.ArgumentParser()
    add_augment_flags(parser, default_copies=1)
    plan = augment_plan_from(parser.parse_args([]))
    assert plan.room and plan.mic and plan.babble and plan.bundled_noise
    plan = augment_plan_from(parser.parse_args(["--no-room", "--no-bundled-noise"]))
    assert not plan.room and not plan.bundled_noise and plan.mic and plan.babble


def test_train_makes_two_augmented_copies_by_default_and_augment_sets_them():
    from audionet_gui.cli.flags import augment_plan_from  # noqa: PLC0415 - local to this test

    assert augment_plan_from(parse("train")).copies == 2  # the robustness bench's choice (DEVELOPERS.md)
    assert augment_plan_from(parse("train", "--augment", "1")).copies == 1
    assert augment_plan_from(parse("train", "--augment", "0")) is None


def test_the_training_plan_has_its_flags_and_augment_keeps_its_meaning():
    options = [o for a in subparser("train")._actions for o in a.option_strings]
    assert all(options.count(f.flag) == 1 for f in training_plan_fields())  # --augment not added twice
    default = parse("train")
    assert training_plan_from(default) == TrainingPlan(augmented_copies=DEFAULT_COPIES)
    assert build_configs(default)[1].patience == TrainingPlan().patience
    args = parse("train", "--augment", "1", "--patience", "3")
    assert training_plan_from(args) == TrainingPlan(augmented_copies=1, patience=3)
    assert build_configs(args)[1].patience == 3
    assert main(["train", "DATA", "--out", "M", "--patience", "-2"]) == 2
