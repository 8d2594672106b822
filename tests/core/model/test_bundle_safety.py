"""Model folders that cannot be destroyed and cannot stall: a copy never replaces a user's folder unasked and never
follows a link out of the model folder; an interrupted swap is recovered; every setting is checked on load; a
damaged model file says so; an export never overwrites the model or a user's file; modes follow the umask."""

from __future__ import annotations

import json
import os
import shutil
import stat

import pytest

from audionet_gui.core.base.errors import BundleError
from audionet_gui.core.data.project import ProjectError, copy_model_folder
from audionet_gui.core.model.bundle import (
    CONFIG_FILE,
    MODEL_FILE,
    check_bundle_target,
    check_export_target,
    load_bundle,
)
from tests.tiny_models import write_bundle


@pytest.fixture(scope="module")
def good_bundle(tmp_path_factory):
    return write_bundle(tmp_path_factory.mktemp("b") / "model")


@pytest.fixture
def bundle_copy(good_bundle, tmp_path):
    return shutil.copytree(good_bundle, tmp_path / "copy")


def test_save_model_does_not_replace_a_users_folder_unless_told(good_bundle, tmp_path):
    target = tmp_path / "model"
    (target / "recordings").mkdir(parents=True)
    (target / "thesis.txt").write_text("years of work")
    with pytest.raises(ProjectError, match="not a model folder"):
        copy_model_folder(good_bundle, target)
    assert (target / "thesis.txt").read_text() == "years of work"
    copy_model_folder(good_bundle, target, replace=True)  # the user confirmed
    assert not (target / "thesis.txt").exists() and load_bundle(target, load_model=False)
    copy_model_folder(good_bundle, target)  # now a model folder of ours: replaced without a question


def test_a_copy_never_follows_links_out_of_the_model_folder(bundle_copy, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("the shadow file's text")
    (bundle_copy / "notes.txt").symlink_to(secret)
    (bundle_copy / "more").symlink_to(tmp_path, target_is_directory=True)
    out = copy_model_folder(bundle_copy, tmp_path / "saved")
    copied = {p.relative_to(out).as_posix() for p in out.rglob("*")}
    assert "notes.txt" not in copied and not any(c.startswith("more") for c in copied)
    assert all("shadow" not in p.read_text(errors="replace") for p in out.rglob("*") if p.is_file())
    assert load_bundle(out, load_model=False).labels == ["a", "b", "c"]


def test_an_interrupted_swap_is_recovered_when_the_model_is_next_used(bundle_copy):
    os.replace(bundle_copy, bundle_copy.with_name(f".{bundle_copy.name}.old"))  # killed between the renames
    assert load_bundle(bundle_copy, load_model=False).labels == ["a", "b", "c"]
    assert not bundle_copy.with_name(f".{bundle_copy.name}.old").exists()


@pytest.mark.parametrize("part, key, value, words", [
    ("window", "window_s", 1e7, "Window length"),
    ("window", "hop_s", 1e-9, "Step between windows"),
    ("spectrogram", "n_fft", 10 ** 9, "FFT size"),
    ("spectrogram", "hop_length", 160.5, "whole number"),
    ("spectrogram", "n_mels", 100000, "Mel bands"),
    ("spectrogram", "sample_rate", 10 ** 8, "Sample rate"),
    ("window", "silence_db", "loud", "number"),
    (None, "image_size", [100000, 100000], "Image size"),
])
def test_every_setting_is_bounded_on_load(bundle_copy, part, key, value, words):
    config = json.loads((bundle_copy / CONFIG_FILE).read_text())
    (config["settings"][part] if part else config["settings"])[key] = value
    (bundle_copy / CONFIG_FILE).write_text(json.dumps(config))
    with pytest.raises(BundleError, match=words) as info:
        load_bundle(bundle_copy, load_model=False)
    assert str(bundle_copy / CONFIG_FILE) in str(info.value)


def test_a_damaged_model_file_is_called_damaged_not_missing(bundle_copy):
    data = (bundle_copy / MODEL_FILE).read_bytes()
    (bundle_copy / MODEL_FILE).write_bytes(data[: len(data) // 2])
    with pytest.raises(BundleError, match="damaged or truncated") as info:
        load_bundle(bundle_copy)
    assert "not found" not in str(info.value).lower()


def test_an_export_never_overwrites_the_model_a_folder_or_a_users_file(bundle_copy, tmp_path):
    with pytest.raises(BundleError, match="file of the model folder"):
        check_export_target(bundle_copy, bundle_copy / MODEL_FILE)
    with pytest.raises(BundleError, match="is a folder"):
        check_export_target(bundle_copy, tmp_path)
    letter = tmp_path / "letter.tflite"
    letter.write_text("Dear ...")
    with pytest.raises(BundleError, match="not a file this writes"):
        check_export_target(bundle_copy, letter)
    earlier = tmp_path / "earlier.tflite"
    earlier.write_bytes(b"\x1c\x00\x00\x00TFL3" + bytes(32))  # an earlier export: may be replaced
    check_export_target(bundle_copy, earlier)
    check_export_target(bundle_copy, bundle_copy / "model.tflite")  # a new file beside the model is fine


def test_the_current_folder_is_refused_before_any_work(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(BundleError, match="current folder"):
        check_bundle_target(".")


def test_a_model_folder_follows_the_umask(tmp_path):
    before = os.umask(0o022)
    try:
        path = write_bundle(tmp_path / "m")
    finally:
        os.umask(before)
    assert stat.S_IMODE(path.stat().st_mode) == 0o755
    assert {stat.S_IMODE(p.stat().st_mode) for p in path.iterdir()} == {0o644}
