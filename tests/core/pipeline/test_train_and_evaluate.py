import dataclasses
import json
import shutil

import numpy as np
import pytest
from PIL import Image

from audionet_gui.core.answers import NO_SPEECH
from audionet_gui.core.audio.spectrogram import SpectrogramConfig, load_png
from audionet_gui.core.audio.windows import WindowConfig
from audionet_gui.core.base.errors import BundleError, DatasetError
from audionet_gui.core.base.jobs import Cancelled, CancelToken
from audionet_gui.core.data.convert.manifest import load_manifest
from audionet_gui.core.data.dataset import DatasetSpec
from audionet_gui.core.model.bundle import load_bundle
from audionet_gui.core.model.featmap import feature_map
from audionet_gui.core.model.predict import predict_images, predict_samples
from audionet_gui.core.model.training import TrainConfig
from audionet_gui.core.pipeline import cache_root, default_workspace, evaluate_folder, train_from_folders
from audionet_gui.core.pipeline.scoring import cached_feature_probabilities
from audionet_gui.core.settings import ImageSettings
from tests.audio_factory import fan_hum, make_class_tree, speech_like
from tests.tiny_models import pitch_classifier, small_spec, write_bundle
from tests.tone_dataset import PITCHES, make_tone_dataset

SPEC = SpectrogramConfig(n_mels=64)  # its 299x299 image size is replaced by the model's
WINDOW = WindowConfig(window_s=1.0, hop_s=0.5)
SETTINGS = ImageSettings(WINDOW, SPEC)


@pytest.fixture(scope="module")
def tones(tmp_path_factory):
    return make_tone_dataset(tmp_path_factory.mktemp("data") / "tones", files_per_class=8, seconds=2.0)


@pytest.fixture(scope="module")
def pitch_bundle(tmp_path_factory):
    spec = small_spec()
    path = write_bundle(tmp_path_factory.mktemp("m") / "pitch", model=pitch_classifier(PITCHES, spec),
                        labels=list(PITCHES), spec=spec, window=WINDOW, threshold=0.5)
    return load_bundle(path)


# ------------------------------------------------------------------------------------------- evaluate_folder

def test_evaluate_folder_measures_every_file(pitch_bundle, tones):
    m = evaluate_folder(pitch_bundle, tones)
    assert m["files"] == 24 and m["recordings"] == 24
    assert m["windows"] == 24 * 3  # 2 s files, 1 s windows, 0.5 s hop
    assert m["accuracy"] == 1.0 and m["recording_accuracy"] == 1.0
    assert m["labels"] == list(PITCHES)
    assert np.trace(np.array(m["confusion"])) == 72
    assert m["failed"] == [] and m["misclassified"] == []
    json.dumps(m, allow_nan=False)


def test_evaluate_folder_lists_misclassified_windows(tmp_path, tones):
    spec = small_spec()
    swapped = {"low": PITCHES["high"], "mid": PITCHES["mid"], "high": PITCHES["low"]}  # low and high mixed up
    bundle = load_bundle(write_bundle(tmp_path / "swapped", model=pitch_classifier(swapped, spec),
                                      labels=list(swapped), spec=spec, window=WINDOW))
    shutil.copytree(tones / "low", tmp_path / "data" / "low")
    m = evaluate_folder(bundle, tmp_path / "data")
    assert m["accuracy"] == 0.0 and len(m["misclassified"]) == m["windows"] == 24
    first = m["misclassified"][0]
    assert first["true"] == "low" and first["predicted"] == "high" and first["file"].endswith(".wav")
    assert 0.0 <= first["start"] < first["end"] <= 2.0


def test_evaluate_folder_skips_bad_files_and_names_them(pitch_bundle, tones, tmp_path):
    data = tmp_path / "data"
    shutil.copytree(tones, data)
    (data / "low" / "broken.wav").write_bytes(b"RIFF....WAVEfmt garbage")
    m = evaluate_folder(pitch_bundle, data)
    assert m["files"] == 24
    assert [f["path"].endswith("broken.wav") for f in m["failed"]] == [True]


def test_evaluate_folder_refuses_classes_the_model_does_not_know(pitch_bundle, tones, tmp_path):
    data = tmp_path / "data"
    shutil.copytree(tones, data)
    shutil.copytree(data / "low", data / "whistle")
    with pytest.raises(DatasetError, match="whistle"):
        evaluate_folder(pitch_bundle, data)


def test_evaluate_folder_accepts_a_subset_of_classes(pitch_bundle, tones, tmp_path):
    shutil.copytree(tones / "high", tmp_path / "data" / "high")
    m = evaluate_folder(pitch_bundle, tmp_path / "data")
    assert m["per_class"]["high"]["support"] == 24 and m["per_class"]["low"]["support"] == 0


# ------------------------------------------------------------------------------------------ train_from_folders

def test_default_workspace_is_in_the_cache_and_stable(monkeypatch, tmp_path, tones):
    monkeypatch.setenv("AUDIONET_CACHE_DIR", str(tmp_path / "cache"))
    assert cache_root() == tmp_path / "cache"
    ws = default_workspace(DatasetSpec.from_root(tones))
    assert ws.parent == tmp_path / "cache" / "workspaces"
    assert ws == default_workspace(DatasetSpec.from_root(tones))
    assert ws.name.startswith("tones-")  # named after the dataset folder
    monkeypatch.chdir(tones.parent)
    assert default_workspace(DatasetSpec.from_root(tones.name)) == ws  # a relative path is the same data


def test_train_refuses_a_single_class(tmp_path):
    make_tone_dataset(tmp_path / "one", {"only": 440.0}, files_per_class=2, seconds=1.0)
    with pytest.raises(DatasetError, match="two classes"):
        train_from_folders(tmp_path / "one", tmp_path / "model", SETTINGS,
                           TrainConfig(backbone="small_cnn", weights="none", image_size=(64, 64)),
                           workspace=tmp_path / "ws", feature_cache=tmp_path / "fc")


@pytest.mark.slow
def test_cancel_during_training_leaves_no_bundle_and_images_use_the_backbone_size(tones, tmp_path):
    token = CancelToken()
    stages = []

    def progress(p):
        stages.append(p.stage)
        if p.stage == "training":
            token.cancel()

    cfg = TrainConfig(backbone="small_cnn", weights="none", epochs=3)  # no image size: small_cnn's 128x128
    with pytest.raises(Cancelled):
        train_from_folders(tones, tmp_path / "model", SETTINGS, cfg, workspace=tmp_path / "ws",
                           feature_cache=tmp_path / "fc", progress=progress, cancel=token)
    leftovers = [p.name for p in tmp_path.iterdir() if "model" in p.name]
    assert leftovers == []  # neither the model folder nor a half-built temporary one
    assert stages[0] == "converting" and "training" in stages
    image = next((tmp_path / "ws").rglob("*.png"))
    assert Image.open(image).size == (128, 128)


@pytest.mark.slow
def test_train_small_cnn_end_to_end(tones, tmp_path):
    stages = []
    cfg = TrainConfig(backbone="small_cnn", weights="none", image_size=(64, 64), epochs=12, seed=1)
    report = train_from_folders(tones, tmp_path / "model", SETTINGS, cfg, workspace=tmp_path / "ws",
                                feature_cache=tmp_path / "fc", progress=lambda p: stages.append(p.stage))
    order = [s for i, s in enumerate(stages) if i == 0 or stages[i - 1] != s]
    assert order == ["converting", "training", "calibrating", "evaluating", "robustness", "mapping", "saving"]
    bundle = load_bundle(report.bundle_path)
    assert bundle.image_size == (64, 64) and bundle.spectrogram_config.image_size == (64, 64)
    assert bundle.labels == sorted(PITCHES)  # class folders in name order
    assert bundle.config["backbone"]["name"] == "small_cnn" and bundle.config["train"]["epochs"] == 12
    m = json.loads((report.bundle_path / "metrics.json").read_text())
    assert m["labels"] == bundle.labels
    assert m["test"]["accuracy"] >= 0.8  # chance is 1/3
    assert m["test"]["windows"] == report.metrics["data"]["test_windows"] > 0
    assert 1 / 3 <= m["unknown_threshold"] == bundle.unknown_threshold <= 0.9
    assert (report.bundle_path / "confusion.png").stat().st_size > 1000
    assert isinstance(m["test"]["misclassified"], list)
    # "auto" was resolved once, from the training windows: tones are not speech
    assert bundle.window_config.gate == "energy" and m["data"]["convert"]["gate"] == "energy"
    # the bundle gives the same answer as the evaluation inside training did
    again = evaluate_folder(bundle, tones)
    assert again["accuracy"] >= 0.8
    # the feature map was made with the model in memory and kept beside the feature cache: the page reads it
    kept = feature_map(report.bundle_path, cache_dir=tmp_path)
    assert kept.cached and kept.made_by == "training" and "load" not in kept.seconds
    fresh = feature_map(report.bundle_path, cache_dir=tmp_path / "elsewhere", use_cache=False)
    originals = [r for r in load_manifest(tmp_path / "ws") if r.augmented == 0]
    assert not fresh.cached and len(kept) == len(fresh) == len(originals) < len(load_manifest(tmp_path / "ws"))
    assert kept.files == fresh.files and (kept.classes == fresh.classes).all()
    assert (kept.predicted == fresh.predicted).all() and np.allclose(kept.p, fresh.p, atol=1e-3)
    assert (kept.suspect == fresh.suspect).all() and np.isfinite(kept.xy).all()


@pytest.mark.slow
def test_a_cancel_while_the_feature_map_is_made_leaves_the_previous_bundle(tones, tmp_path):
    cfg = TrainConfig(backbone="small_cnn", weights="none", image_size=(64, 64), epochs=2)
    first = train_from_folders(tones, tmp_path / "model", SETTINGS, cfg, workspace=tmp_path / "ws",
                               feature_cache=tmp_path / "fc", robustness=False, feature_map=False)
    assert not list((tmp_path / "featmaps").glob("*.json"))  # not asked for: none made
    before = (first.bundle_path / "model.keras").read_bytes()
    token = CancelToken()

    def progress(p):
        if p.stage == "mapping":
            token.cancel()

    with pytest.raises(Cancelled):
        train_from_folders(tones, tmp_path / "model", SETTINGS, dataclasses.replace(cfg, seed=5),
                           workspace=tmp_path / "ws", feature_cache=tmp_path / "fc", robustness=False,
                           progress=progress, cancel=token)
    assert (first.bundle_path / "model.keras").read_bytes() == before  # the map comes before saving
    assert not list((tmp_path / "featmaps").glob("*.json"))


def test_train_refuses_a_foreign_out_folder_before_any_work(tones, tmp_path):
    precious = tmp_path / "Documents"
    precious.mkdir()
    (precious / "notes.txt").write_text("keep me")
    with pytest.raises(BundleError, match="not a model folder"):
        train_from_folders(tones, precious, SETTINGS, TrainConfig(backbone="small_cnn", weights="none"),
                           workspace=tmp_path / "ws", feature_cache=tmp_path / "fc")
    assert not (tmp_path / "ws").exists()
    assert (precious / "notes.txt").read_text() == "keep me"


@pytest.mark.slow
def test_test_features_come_from_the_cache_and_match_the_whole_model(tones, tmp_path):
    cfg = TrainConfig(backbone="mobilenet_v2", weights="none", image_size=(48, 48), epochs=20)
    stages = []
    report = train_from_folders(tones, tmp_path / "model", SETTINGS, cfg, workspace=tmp_path / "ws",
                                feature_cache=tmp_path / "fc", robustness=False,
                                progress=lambda p: stages.append(p.stage))
    assert report.metrics["robustness"] is None and "robustness" not in stages  # skipped on request
    bundle = load_bundle(report.bundle_path)
    rows = [r for r in load_manifest(tmp_path / "ws") if r.split == "test"]
    paths = [tmp_path / "ws" / r.image for r in rows]
    whole = predict_images(bundle, np.stack([load_png(p) for p in paths]))
    stages = []
    stages = []
    cached = cached_feature_probabilities(bundle.model, cfg, paths, tmp_path / "fc",
                                           lambda p: stages.append(p.stage), None, bundle.config)
    np.testing.assert_allclose(cached, whole, atol=1e-4)  # with the open-set score, as predict answers
    assert set(stages) == {"evaluating"}
    # a fine-tuned model never takes the cached path
    assert cached_feature_probabilities(bundle.model, dataclasses.replace(cfg, fine_tune=True), paths,
                                         tmp_path / "fc", lambda p: None, None) is None


ROBUSTNESS_CONDITIONS = {"clean", "noise_20db", "noise_10db", "noise_5db", "noise_0db", "reverb", "cheap_mic",
                         "live_replay"}


@pytest.mark.slow
def test_training_writes_the_robustness_report_and_the_unknown_calibration(tmp_path):
    # four classes, so that a head on frozen features can leave one out and still tell two or more apart
    data = make_tone_dataset(tmp_path / "tones4", {**PITCHES, "top": 4000.0}, files_per_class=6, seconds=2.0)
    cfg = TrainConfig(backbone="mobilenet_v2", weights="none", image_size=(48, 48), epochs=15)
    report = train_from_folders(data, tmp_path / "model", SETTINGS, cfg, workspace=tmp_path / "ws",
                                feature_cache=tmp_path / "fc")
    m = json.loads((report.bundle_path / "metrics.json").read_text())
    robustness = m["robustness"]
    assert set(robustness["conditions"]) == ROBUSTNESS_CONDITIONS
    test_recordings = m["data"]["test_recordings"]
    for name, c in robustness["conditions"].items():
        assert {"accuracy", "unknown_rate", "recordings"} <= set(c), name
        assert 0.0 <= c["accuracy"] <= 1.0 and 0.0 <= c["unknown_rate"] <= 1.0
        assert c["recordings"] == test_recordings  # fewer than the cap of 20 a class: all of them
    assert robustness["weakest"] in ROBUSTNESS_CONDITIONS - {"clean"} and robustness["advice"]
    assert report.timings["robustness_s"] > 0

    calibration = m["calibration"]
    assert {"method", "false_unknown_rate", "false_accept_rate", "negatives"} <= set(calibration)
    assert calibration["threshold"] == m["unknown_threshold"] == load_bundle(report.bundle_path).unknown_threshold
    assert calibration["negatives"]["noise"] > 0
    assert calibration["negatives"]["strangers"] == m["data"]["val_windows"]  # every class left out once
    for block in (calibration, m["test"]):
        assert 0.0 <= block["false_unknown_rate"] <= 1.0 and 0.0 <= block["false_accept_rate"] <= 1.0
    assert m["test"]["false_unknown_rate_clean"] == pytest.approx(m["test"]["unknown_rate"])
    # the open-set score is fitted on the left-out classes and stored with the model when it tells them apart
    # (features of an untrained backbone need not: then the softmax gate alone, as the record says)
    config = json.loads((report.bundle_path / "config.json").read_text())
    assert ("open_set" in config) == ("open_set" in calibration)
    if "open_set" in config:
        assert calibration["open_set"]["slope"] > 0 and np.asarray(config["open_set"]["centroids"]).shape[0] == 4
        assert calibration["threshold"] < calibration["softmax_only"]["threshold"]


def test_robustness_answers_a_short_clip_as_predict_does(pitch_bundle, tmp_path):
    import soundfile as sf  # noqa: PLC0415 - only here

    from audionet_gui.core.audio.files import load_audio  # noqa: PLC0415 - only here
    from audionet_gui.core.model.predict import predict_file  # noqa: PLC0415 - only here
    from audionet_gui.core.model.robustness import answer_with_bundle  # noqa: PLC0415 - only here

    rng = np.random.default_rng(0)
    for hz, name in ((800.0, "mid"), (2000.0, "high")):
        path = tmp_path / f"{name}.wav"  # 0.4 s: shorter than the model's 1 s window
        sf.write(path, (0.3 * np.sin(2 * np.pi * hz * np.arange(6400) / 16000)
                        + 0.01 * rng.standard_normal(6400)).astype(np.float32), 16000)
        said = answer_with_bundle(pitch_bundle)(load_audio(path, pitch_bundle.sample_rate))
        assert said == predict_file(pitch_bundle, path).label == name


def test_robustness_recordings_are_capped_per_class_and_chosen_the_same_way_every_time(tmp_path):
    import soundfile as sf  # noqa: PLC0415 - only here

    from audionet_gui.core.pipeline import load_recordings  # noqa: PLC0415 - only here

    rng = np.random.default_rng(0)
    paths = []
    for i in range(7):
        paths.append(tmp_path / f"a{i}.wav")
        sf.write(paths[-1], (0.1 * rng.standard_normal(1600)).astype(np.float32), 16000)
    sources = {"a": list(reversed(paths)), "b": [paths[0], tmp_path / "gone.wav"]}
    recordings, failed = load_recordings(sources, 16000, per_class=3)
    assert [label for _, label in recordings] == ["a", "a", "a", "b"]
    again, _ = load_recordings({"a": paths, "b": sources["b"]}, 16000, per_class=3)
    assert all(np.array_equal(x, y) for (x, _), (y, _) in zip(recordings, again))  # order of listing: same pick
    np.testing.assert_array_equal(recordings[0][0], sf.read(paths[0], dtype="float32")[0])  # first, middle, last
    np.testing.assert_array_equal(recordings[2][0], sf.read(paths[6], dtype="float32")[0])
    assert [f["path"] for f in failed] == [str(tmp_path / "gone.wav")]


@pytest.mark.slow
def test_training_with_the_speech_gate_leaves_speakers_non_speech_out_and_records_the_gate(tmp_path):
    speaker = lambda seed, f0: np.concatenate([speech_like(4.0, seed=seed, f0=f0), fan_hum(2.0, seed=seed)])  # noqa: E731
    data = make_class_tree(tmp_path / "data", {
        "ann": [speaker(i, 120.0) for i in range(6)],
        "bob": [speaker(i + 10, 200.0) for i in range(6)],
        "_background_noise_": [fan_hum(6.0, seed=20 + i) for i in range(6)],
    })
    settings = ImageSettings(WindowConfig(), SPEC)  # gate "auto"
    cfg = TrainConfig(backbone="small_cnn", weights="none", image_size=(64, 64), epochs=3, seed=1)
    report = train_from_folders(data, tmp_path / "model", settings, cfg, workspace=tmp_path / "ws",
                                feature_cache=tmp_path / "fc", augment=None, robustness=False)
    bundle = load_bundle(report.bundle_path)
    assert bundle.window_config.gate == "speech"  # resolved once, recorded in the bundle's settings
    left_out = report.metrics["data"]["convert"]["no_speech_windows"]
    assert left_out > 0 and any(f"{left_out} windows without speech left out" in w for w in report.warnings)
    rows = load_manifest(tmp_path / "ws")
    trained = [r for r in rows if r.split in ("train", "val")]
    assert all(r.speech for r in trained if r.label != "_background_noise_")
    assert any(not r.speech for r in trained if r.label == "_background_noise_")  # the background keeps its own
    assert predict_samples(bundle, fan_hum(4.0, seed=99)).label == NO_SPEECH
