"""Enrolment: a new speaker from a few files, the head retrained on cached features, the others kept."""

import json

import numpy as np
import pytest

from audionet_gui.cli.entry import main
from audionet_gui.core.audio.spectrogram import SpectrogramConfig
from audionet_gui.core.audio.windows import WindowConfig
from audionet_gui.core.base.errors import BundleError
from audionet_gui.core.model.bundle import load_bundle
from audionet_gui.core.model.enroll import enroll_speaker
from audionet_gui.core.model.predict import predict_samples
from audionet_gui.core.model.training import TrainConfig
from audionet_gui.core.pipeline import train_from_folders
from audionet_gui.core.settings import ImageSettings
from tests.audio_factory import write
from tests.tiny_models import write_bundle
from tests.tone_dataset import PITCHES, SR, make_tone_dataset, tone_clip

SETTINGS = ImageSettings(WindowConfig(window_s=1.0, hop_s=0.5), SpectrogramConfig(n_mels=64))
NEW_HZ = 4000.0

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    root = tmp_path_factory.mktemp("enroll")
    data = make_tone_dataset(root / "tones", {**PITCHES, "top": 5500.0}, files_per_class=6, seconds=2.0)
    cfg = TrainConfig(backbone="mobilenet_v2", weights="none", image_size=(48, 48), epochs=15)
    report = train_from_folders(data, root / "model", SETTINGS, cfg, workspace=root / "ws",
                                feature_cache=root / "fc", robustness=False)
    rng = np.random.default_rng(7)
    clips = [write(root / "new" / f"clip{i}.wav", tone_clip(NEW_HZ, 2.0, rng), SR) for i in range(4)]
    return report.bundle_path, clips, root


def test_a_new_speaker_is_learnt_and_the_others_keep_their_accuracy(trained, tmp_path):
    model, clips, root = trained
    old = load_bundle(model)
    report = enroll_speaker(model, "newcomer", clips, tmp_path / "new", feature_cache=root / "fc")
    assert report.new_speaker and report.labels == [*old.labels, "newcomer"]
    assert report.windows["train"] > 0 and report.windows["val"] > 0 and report.windows["test"] > 0
    new = load_bundle(tmp_path / "new")  # a complete, loadable model folder
    assert new.labels == report.labels and new.config["enrolled"] == ["newcomer"]
    metrics = json.loads((tmp_path / "new" / "metrics.json").read_text())
    assert metrics["test"]["per_class"]["newcomer"]["recall"] >= 0.9
    assert 0 < new.unknown_threshold < 1
    # every other speaker is as well recognised as before, on the same test windows
    assert set(report.before) == set(old.labels)
    for label in old.labels:
        assert report.after[label] >= report.before[label] - 0.1, label
    # and a fresh recording of the newcomer is named
    fresh = tone_clip(NEW_HZ, 3.0, np.random.default_rng(99))
    assert predict_samples(new, fresh).label == "newcomer"
    # the original model is untouched
    assert load_bundle(model, load_model=False).labels == old.labels


def test_more_audio_for_a_known_speaker_keeps_the_labels(trained, tmp_path):
    model, clips, root = trained
    report = enroll_speaker(model, "low", clips[:1], tmp_path / "more", feature_cache=root / "fc")
    assert not report.new_speaker and report.labels == load_bundle(model, load_model=False).labels


def test_cli_enroll_json_has_the_check_and_the_report(trained, tmp_path, capsys):
    model, clips, root = trained
    status = main(["enroll", str(model), "newcomer", *map(str, clips), "--out", str(tmp_path / "cli"), "--json",
                   "--cache-dir", str(root / "fc")])
    out = json.loads(capsys.readouterr().out)
    assert status == 0
    assert out["name"] == "newcomer" and out["labels"][-1] == "newcomer"
    assert {"status", "items", "advice"} <= set(out["check"])
    assert {i["key"] for i in out["check"]["items"]} == {"speech", "level", "clipping", "noise", "agreement"}


def test_a_model_without_frozen_features_is_refused(tmp_path):
    model = write_bundle(tmp_path / "tiny")
    with pytest.raises(BundleError, match="frozen backbone"):
        enroll_speaker(model, "x", [], tmp_path / "out")
