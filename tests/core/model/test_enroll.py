"""Enrolment: a new speaker from a few files, the head retrained on cached features, the others kept; naming an
unknown voice of a timeline; the CLI."""

import json

import numpy as np
import pytest

from audionet_gui.cli.entry import main
from audionet_gui.core.base.errors import BundleError
from audionet_gui.core.model.bundle import load_bundle
from audionet_gui.core.model.enroll import enroll_speaker, name_voice
from audionet_gui.core.model.predict import predict_samples
from audionet_gui.core.model.timeline import timeline_file
from tests.audio_factory import write
from tests.tiny_models import voice_bundle_with_workspace, write_bundle
from tests.tone_dataset import SR, tone_clip

VOICES = {"anna": 300.0, "ben": 800.0, "xavier": 1400.0, "yolanda": 2500.0}
ENROLLED = ["anna", "ben", "yolanda"]


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    root = tmp_path_factory.mktemp("enroll")
    model_dir = voice_bundle_with_workspace(root, VOICES, ENROLLED)
    rng = np.random.default_rng(7)
    clips = [write(root / "xavier" / f"clip{i}.wav", tone_clip(VOICES["xavier"], 2.0, rng), SR) for i in range(4)]
    return model_dir, clips, root


@pytest.mark.slow  # trains heads (seconds each)
def test_a_new_speaker_is_learnt_and_the_others_keep_their_accuracy(model, tmp_path):
    model_dir, clips, root = model
    old = load_bundle(model_dir)
    assert predict_samples(old, tone_clip(VOICES["xavier"], 3.0, np.random.default_rng(1))).label == "unknown"
    report = enroll_speaker(model_dir, "xavier", clips, tmp_path / "new", feature_cache=root / "fc")
    assert report.new_speaker and report.labels == [*ENROLLED, "xavier"]
    assert report.windows["train"] > 0 and report.windows["val"] > 0 and report.windows["test"] > 0
    new = load_bundle(tmp_path / "new")  # a complete, loadable model folder
    assert new.labels == report.labels and new.config["enrolled"] == ["xavier"]
    metrics = json.loads((tmp_path / "new" / "metrics.json").read_text())
    assert metrics["test"]["per_class"]["xavier"]["recall"] >= 0.9
    assert set(metrics["test"]["per_class"]) == set(report.labels)
    assert 0 < new.unknown_threshold < 1 and metrics["calibration"]["threshold"] == new.unknown_threshold
    # every other speaker is recognised as well as before, on the same test windows
    assert set(report.before) == set(ENROLLED)
    for label in ENROLLED:
        assert report.after[label] >= report.before[label] - 0.05, label
        assert report.after[label] >= 0.9, label
    # a fresh recording of the newcomer is named, and the others still are
    rng = np.random.default_rng(99)
    for name in ("xavier", *ENROLLED):
        assert predict_samples(new, tone_clip(VOICES[name], 3.0, rng)).label == name
    assert load_bundle(model_dir, load_model=False).labels == ENROLLED  # the original is untouched


@pytest.mark.slow  # trains heads (seconds each)
def test_a_second_enrolment_keeps_the_first_enrolled_speaker(model, tmp_path):
    model_dir, clips, root = model
    enroll_speaker(model_dir, "xavier", clips, tmp_path / "one", feature_cache=root / "fc")
    more = [write(tmp_path / f"more{i}.wav", tone_clip(VOICES["xavier"], 2.0, np.random.default_rng(50 + i)), SR)
            for i in range(2)]
    report = enroll_speaker(tmp_path / "one", "xavier", more, tmp_path / "two", feature_cache=root / "fc")
    assert not report.new_speaker and report.labels == [*ENROLLED, "xavier"]
    assert report.after["anna"] >= 0.9
    assert report.metrics["test"]["per_class"]["xavier"]["recall"] >= 0.9


@pytest.mark.slow  # trains heads (seconds each)
def test_naming_an_unknown_voice_of_a_timeline_enrols_it(model, tmp_path):
    model_dir, _, root = model
    rng = np.random.default_rng(3)
    talk = write(tmp_path / "talk.wav", np.concatenate([tone_clip(VOICES[v], 3.0, rng) for v in
                                                         ("anna", "xavier", "ben", "xavier", "anna")]), SR)
    bundle = load_bundle(model_dir)
    turns = timeline_file(bundle, talk)
    assert turns.speakers == ["anna", "unknown-1", "ben"]
    report = name_voice(model_dir, talk, turns.segments, "unknown-1", "Xavier X", out_dir=tmp_path / "named")
    assert report.name == "Xavier X" and report.labels[-1] == "Xavier X"
    again = timeline_file(load_bundle(tmp_path / "named"), talk)
    assert again.speakers == ["anna", "Xavier X", "ben"]


@pytest.mark.slow  # trains heads (seconds each)
def test_cli_enroll_json_has_the_check_and_the_report(model, tmp_path, capsys):
    model_dir, clips, root = model
    status = main(["enroll", str(model_dir), "xavier", *map(str, clips), "--out", str(tmp_path / "cli"), "--json",
                   "--cache-dir", str(root / "fc")])
    out = json.loads(capsys.readouterr().out)
    assert status == 0
    assert out["name"] == "xavier" and out["labels"][-1] == "xavier"
    assert {"status", "items", "advice"} <= set(out["check"])
    assert {i["key"] for i in out["check"]["items"]} == {"speech", "level", "clipping", "noise", "agreement"}


def test_a_model_without_frozen_features_is_refused(tmp_path):
    model_dir = write_bundle(tmp_path / "tiny")
    with pytest.raises(BundleError, match="frozen backbone"):
        enroll_speaker(model_dir, "x", [], tmp_path / "out")
