"""End to end through the CLI, in-process: train on synthetic tones, then evaluate, predict and export the model.
The JSON keys asserted here are contracts that scripts rely on."""

import contextlib
import io
import json
import shutil

import numpy as np
import pytest
import soundfile as sf

from audionet_gui.cli.entry import main
from audionet_gui.core.model import backbones
from tests.tiny_models import write_bundle
from tests.tone_dataset import PITCHES, SR, make_tone_dataset, tone_clip

TRAIN_FLAGS = ["--window", "1", "--hop", "0.5", "--n-mels", "64", "--seed", "3", "--quiet"]


def run_cli(*argv):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main([str(a) for a in argv])
    return status, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def tones(tmp_path_factory):
    return make_tone_dataset(tmp_path_factory.mktemp("data") / "tones", files_per_class=8, seconds=2.0)


@pytest.fixture(scope="module")
def trained(tmp_path_factory, tones):
    """A small_cnn model trained through ``audionet train`` (module-wide: trained once)."""
    root = tmp_path_factory.mktemp("cli")
    mp = pytest.MonkeyPatch()
    mp.setenv("AUDIONET_CACHE_DIR", str(root / "cache"))  # never the user's cache
    try:
        status, out, err = run_cli("train", tones, "--out", root / "model", "--backbone", "small_cnn",
                                   "--weights", "none", "--image-size", "64x64", "--epochs", "12", *TRAIN_FLAGS)
    finally:
        mp.undo()
    assert status == 0, err
    return root / "model", out


@pytest.mark.slow
def test_train_writes_a_bundle_with_the_metric_contract(trained):
    model_dir, out = trained
    assert "test accuracy" in out and str(model_dir) in out  # the short summary
    metrics = json.loads((model_dir / "metrics.json").read_text())
    assert metrics["labels"] == sorted(PITCHES)
    test = metrics["test"]
    for key in ("accuracy", "recording_accuracy", "per_class", "confusion"):
        assert key in test
    assert test["accuracy"] >= 0.8 and test["recording_accuracy"] >= 0.8  # chance is 1/3
    assert set(test["per_class"]) == set(PITCHES)
    assert len(test["confusion"]) == 3 and all(len(r) == 3 for r in test["confusion"])
    assert (model_dir / "confusion.png").exists()


@pytest.mark.slow
def test_evaluate_json_contract(trained, tones):
    status, out, _ = run_cli("evaluate", trained[0], tones, "--json")
    assert status == 0
    m = json.loads(out)
    for key in ("accuracy", "recording_accuracy", "per_class", "confusion", "labels"):
        assert key in m
    assert m["accuracy"] >= 0.8 and m["recordings"] == 24


@pytest.mark.slow
def test_evaluate_names_classes_the_model_does_not_know(trained, tones, tmp_path):
    data = tmp_path / "data"
    shutil.copytree(tones / "low", data / "low")
    shutil.copytree(tones / "mid", data / "kettle")
    status, out, err = run_cli("evaluate", trained[0], data, "--json")
    assert status != 0 and out == ""
    assert "kettle" in err


@pytest.mark.slow
def test_predict_json_lines_and_a_bad_file_does_not_stop_the_others(trained, tmp_path):
    rng = np.random.default_rng(7)
    files = []
    for label in ("high", "low"):
        path = tmp_path / f"{label}.wav"
        sf.write(path, tone_clip(PITCHES[label], 2.0, rng), SR)
        files.append(path)
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"not audio at all")
    status, out, _ = run_cli("predict", trained[0], files[0], bad, files[1], "--json")
    assert status == 0
    lines = [json.loads(line) for line in out.splitlines()]
    assert [row["file"] for row in lines] == [str(files[0]), str(bad), str(files[1])]
    assert "error" in lines[1] and "label" not in lines[1]
    for line, label in ((lines[0], "high"), (lines[2], "low")):
        assert set(line) >= {"file", "label", "probabilities", "timeline"}
        assert line["label"] in (label, "unknown")
        assert max(line["probabilities"], key=line["probabilities"].get) == label
        assert line["timeline"][0]["start"] == 0.0


@pytest.mark.slow
def test_predict_long_file_timeline(trained, tmp_path):
    rng = np.random.default_rng(8)
    path = tmp_path / "two_speakers.wav"
    sf.write(path, np.concatenate([tone_clip(PITCHES["low"], 4.0, rng), tone_clip(PITCHES["high"], 4.0, rng)]), SR)
    status, out, _ = run_cli("predict", trained[0], path, "--json")
    timeline = json.loads(out)["timeline"]
    assert status == 0
    named = [s["label"] for s in timeline if s["label"] != "unknown"]
    assert named[0] == "low" and named[-1] == "high"
    assert timeline[-1]["end"] == pytest.approx(8.0)


def test_predict_all_files_bad_is_an_error(tmp_path):
    model = write_bundle(tmp_path / "m")
    (tmp_path / "x.wav").write_bytes(b"")
    status, out, _ = run_cli("predict", model, tmp_path / "x.wav", "--json")
    assert status != 0
    assert json.loads(out)["file"].endswith("x.wav") and "error" in json.loads(out)


def test_predict_refuses_a_broken_bundle(tmp_path):
    (tmp_path / "m").mkdir()
    status, _, err = run_cli("predict", tmp_path / "m", tmp_path / "a.wav")
    assert status != 0 and "format_version: missing" in err


@pytest.mark.slow
def test_export_tflite(trained, tmp_path):
    status, out, _ = run_cli("export", trained[0], "--tflite", tmp_path / "model.tflite", "--json")
    assert status == 0
    info = json.loads(out)
    assert info["bytes"] == (tmp_path / "model.tflite").stat().st_size > 1000
    assert info["labels"] == sorted(PITCHES)


def test_train_reports_a_missing_folder(tmp_path):
    status, _, err = run_cli("train", tmp_path / "nope", "--out", tmp_path / "m", "--backbone", "small_cnn")
    assert status != 0 and "nope" in err
    assert not (tmp_path / "m").exists()


def test_train_offline_without_weights_says_what_to_do(tones, tmp_path, monkeypatch):
    def offline(*_a, **_k):
        raise OSError("Name or service not known")

    monkeypatch.setattr(backbones, "_download", offline)
    monkeypatch.setenv("AUDIONET_CACHE_DIR", str(tmp_path / "cache"))
    status, _, err = run_cli("train", tones, "--out", tmp_path / "m", "--backbone", "mobilenet_v2", "--quiet")
    assert status != 0 and "--weights" in err and "small_cnn" in err
    assert not (tmp_path / "cache").exists()  # refused before converting anything


@pytest.mark.slow
def test_train_inception_v3_without_weights_at_a_small_size(tones, tmp_path, monkeypatch):
    monkeypatch.setenv("AUDIONET_CACHE_DIR", str(tmp_path / "cache"))
    status, out, err = run_cli("train", tones, "--out", tmp_path / "model", "--backbone", "inception_v3",
                               "--weights", "none", "--image-size", "75", "--epochs", "30", "--json", "--no-robustness",
                               # the backbone at its smallest size is what this tests
                               "--no-feature-map", "--no-augment", *TRAIN_FLAGS)
    assert status == 0, err
    result = json.loads(out)
    assert result["test"]["accuracy"] >= 0.8
    config = json.loads((tmp_path / "model" / "config.json").read_text())
    assert config["backbone"] == {"name": "inception_v3", "weights": "none", "preprocessing": "minus1_1"}
    assert config["settings"]["image_size"] == [75, 75]  # resolved for the backbone, stored once
