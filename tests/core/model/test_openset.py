"""The open-set score of "unknown": a voice the head never met is told apart in feature space even when the softmax
names an enrolled class with confidence; calibrated on left-out classes; stored in the model folder and used by
every answer; a model folder without it answers as before."""

import json

import numpy as np
import pytest

from audionet_gui.core.answers import UNKNOWN
from audionet_gui.core.audio.spectrogram import load_png
from audionet_gui.core.data.convert.manifest import load_manifest
from audionet_gui.core.model.bundle import CONFIG_FILE, load_bundle
from audionet_gui.core.model.calibration import FeatureSplits, ScoredWindows, calibrate_unknown
from audionet_gui.core.model.enroll import enroll_speaker
from audionet_gui.core.model.openset import (
    CONFIG_KEY,
    OpenSet,
    centroid_cosine,
    class_centroids,
    fit_open_set,
    fit_platt,
    fit_space,
)
from audionet_gui.core.model.predict import predict_images, predict_samples
from audionet_gui.core.model.timeline import head_parts, timeline_file
from audionet_gui.core.model.training import TrainConfig
from tests.audio_factory import write
from tests.tiny_models import voice_bundle_with_workspace
from tests.tone_dataset import SR, tone_clip

VOICES = {"anna": 300.0, "ben": 800.0, "stranger": 1400.0}
ENROLLED = ["anna", "ben"]


ANNA, BEN = [3, 0, 0, 0, 0, 0, 0, 0], [0, 3, 0, 0, 0, 0, 0, 0]  # two voices apart on two axes of 8-d features


def voice_maker(rng):
    def voice(centre, n, spread=0.3):
        return (np.asarray(centre, np.float32) + rng.normal(0, spread, (n, 8))).astype(np.float32)
    return voice


def head_on_two_axes(z):
    """A softmax head that sees only the first two axes (anna's and ben's)."""
    logits = z[:, :2] * 2.0
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def test_platt_fit_puts_tau_between_the_groups_and_the_score_round_trips():
    rng = np.random.default_rng(0)
    known, strangers = rng.normal(0.6, 0.1, 200), rng.normal(0.2, 0.1, 300)
    slope, tau = fit_platt(known, strangers)
    assert slope > 5 and 0.3 < tau < 0.5
    # groups that never overlap (tones) keep a finite slope
    slope, tau = fit_platt(np.full(10, 0.9), np.full(10, 0.1))
    assert np.isfinite(slope) and 0.1 < tau < 0.9

    centroids = class_centroids(rng.normal(size=(6, 4)), np.array([0, 0, 1, 1, 2, 2]), 3)
    np.testing.assert_allclose(np.linalg.norm(centroids, axis=1), 1.0, atol=1e-6)
    score = OpenSet(centroids, 0.25, 12.0)
    again = OpenSet.from_config(json.loads(json.dumps({CONFIG_KEY: score.to_config()})))
    np.testing.assert_allclose(again.centroids, centroids, atol=1e-6)
    assert (again.tau, again.slope) == (0.25, 12.0)
    assert OpenSet.from_config({}) is None and OpenSet.from_config({CONFIG_KEY: {"kind": "other"}}) is None
    p = np.array([[0.9, 0.05, 0.05], [0.0, 0.0, 0.0]], np.float32)  # the second: no speech, stays a row of zeros
    z = np.stack([centroids[0] * 3, centroids[1]])
    answered = score.apply(p, z)
    assert answered[0, 0] == pytest.approx(0.9 * score.known(z[:1], p[:1])[0]) and not answered[1].any()


def test_the_within_class_space_whitens_what_varies_inside_a_voice_and_round_trips():
    rng = np.random.default_rng(3)
    # three voices apart on axes 0-2; every window also varies a lot along axes 3-5 (words, rooms, noise)
    centres = np.eye(3, 12) * 2.0
    y = np.repeat([0, 1, 2], 60)
    noise_scale = np.r_[np.full(3, 0.3), np.full(3, 5.0), np.full(6, 0.3)]
    z = centres[y] + rng.normal(size=(180, 12)) * noise_scale
    space = fit_space(z, y, dims=8)
    p = space.project(z)
    assert p.shape == (180, 8)
    within = np.concatenate([p[y == c] - p[y == c].mean(axis=0) for c in range(3)])
    # whitened: the axes vary within a voice by 5 : 0.3 before, by less than 3 : 1 after (Ledoit-Wolf's
    # shrinkage toward the mean variance keeps some of the difference)
    spread = within.std(axis=0)
    assert spread.max() / spread.min() < 3
    # the number of axes is capped by what the windows can estimate
    assert fit_space(z[:10], y[:10], dims=64).basis.shape[1] == 9 and fit_space(z, y, 500).basis.shape[1] == 12
    # stored exactly in config.json, and used by the stored score
    score = OpenSet(class_centroids(p, y, 3), 0.3, 5.0, True, space)
    again = OpenSet.from_config(json.loads(json.dumps({CONFIG_KEY: score.to_config()})))
    np.testing.assert_array_equal(again.space.basis, space.basis)
    np.testing.assert_array_equal(again.space.mean, space.mean)
    probs = np.tile([0.8, 0.1, 0.1], (5, 1))
    np.testing.assert_allclose(again.known(z[:5], probs), score.known(z[:5], probs), rtol=1e-6)

    # a stranger near voice 0 on its own axes but off on an axis that varies little inside a voice: the raw
    # cosine loses it among the words and rooms, the whitened one does not
    stranger = centres[0] + np.eye(1, 12, 8)[0] * 2.0 + rng.normal(size=(60, 12)) * noise_scale
    own = centres[0] + rng.normal(size=(60, 12)) * noise_scale
    named = np.zeros(60, np.int64)

    def separation(project):
        cen = class_centroids(project(z), y, 3)
        known, strange = (centroid_cosine(project(x), cen, named, cohort=True) for x in (own, stranger))
        return (known[:, None] > strange[None, :]).mean()  # AUC

    assert separation(lambda x: x) < 0.75
    assert separation(fit_space(z, y, dims=12).project) > 0.9  # every axis kept: axis 8 is among them


def test_calibration_rejects_a_held_out_class_the_softmax_names_with_confidence():
    # features: anna and ben apart on two axes; the stranger shares anna's axis (the head names it anna at
    # p ~ 0.98) but lies mostly on a third axis the head ignores
    rng = np.random.default_rng(1)
    voice, head = voice_maker(rng), head_on_two_axes
    anna, ben, stranger = ANNA, BEN, [2, 0, 8, 0, 0, 0, 0, 0]

    x_tr, y_tr = np.concatenate([voice(anna, 40), voice(ben, 40)]), np.repeat([0, 1], 40)
    x_va, y_va = np.concatenate([voice(anna, 10), voice(ben, 10)]), np.repeat([0, 1], 10)
    x_te, y_te = np.concatenate([voice(anna, 10), voice(ben, 10)]), np.repeat([0, 1], 10)
    x_st = voice(stranger, 30)
    assert head(x_st).max(axis=1).min() > 0.9  # the softmax alone is sure the stranger is anna
    result = calibrate_unknown(ScoredWindows(head(x_va), x_va), y_va, 2, TrainConfig(),
                               noisy=ScoredWindows(head(x_va + rng.normal(0, 0.5, x_va.shape)), x_va),
                               splits=FeatureSplits(x_tr, y_tr, np.ones(80, bool), x_va, y_va, x_te, y_te),
                               standardise=lambda x: np.asarray(x, np.float32))
    assert result.open_set is not None and result.open_set.slope > 0
    rejected = result.open_set.apply(head(x_st), x_st).max(axis=1) < result.threshold
    accepted = result.open_set.apply(head(x_te), x_te).max(axis=1) >= result.threshold
    assert rejected.mean() >= 0.9 and accepted.mean() >= 0.9
    record = result.record
    assert record["threshold"] == result.threshold and record["negatives"]["strangers"] == 20
    for key in ("false_unknown_rate", "false_accept_rate", "false_unknown_rate_clean", "false_accept_rate_strangers"):
        assert 0.0 <= record[key] <= 1.0, key
    assert {"tau", "slope", "method"} <= set(record["open_set"]) and "softmax_only" in record
    # without the open-set score (an older model's gate) the same calibration cannot reject the stranger
    softmax = calibrate_unknown(ScoredWindows(head(x_va), x_va), y_va, 2, TrainConfig(), open_set=False)
    assert softmax.open_set is None and (head(x_st).max(axis=1) >= softmax.threshold).all()


@pytest.fixture(scope="module")
def overconfident(tmp_path_factory):
    """The tiny voice model (features: the brightness of each voice's band) whose head was led astray: the
    stranger's band votes for anna, so the softmax names the stranger anna with confidence."""
    root = tmp_path_factory.mktemp("openset")
    model_dir = voice_bundle_with_workspace(root, VOICES, ENROLLED)
    bundle = load_bundle(model_dir)
    dense = bundle.model.get_layer("head").get_layer("classes")
    w, b = dense.get_weights()
    w[list(VOICES).index("stranger"), 0] = 2.0
    dense.set_weights([w, b])
    bundle.model.save(model_dir / "model.keras")
    return model_dir, root


def _calibrate_into(model_dir, root) -> dict:
    """What training does after the head: the model's own windows' features -> calibrate_unknown -> config."""
    bundle = load_bundle(model_dir)
    parts = head_parts(bundle)
    index = {label: i for i, label in enumerate(bundle.labels)}
    rows = load_manifest(root / "ws")
    split = {s: [r for r in rows if r.split == s] for s in ("train", "val", "test")}
    x = {s: parts.extract(np.stack([load_png(root / "ws" / r.image) for r in split[s]])) for s in split}
    y = {s: np.array([index[r.label] for r in split[s]]) for s in split}
    z_val = parts.standardise(x["val"])
    result = calibrate_unknown(ScoredWindows(parts.probabilities(z_val), z_val), y["val"], 2, TrainConfig(),
                               splits=FeatureSplits(x["train"], y["train"], np.ones(len(y["train"]), bool),
                                                    x["val"], y["val"], x["test"], y["test"]),
                               standardise=parts.standardise)
    config = json.loads((model_dir / CONFIG_FILE).read_text())
    config["unknown_threshold"] = result.threshold
    config[CONFIG_KEY] = result.open_set.to_config()
    (model_dir / CONFIG_FILE).write_text(json.dumps(config))
    return config


def test_an_old_model_folder_answers_with_the_softmax_gate_and_a_calibrated_one_rejects_the_stranger(
        overconfident, tmp_path):
    model_dir, root = overconfident
    rng = np.random.default_rng(5)
    stranger, anna, ben = (tone_clip(VOICES[v], 3.0, rng) for v in ("stranger", "anna", "ben"))
    old = load_bundle(model_dir)  # no open_set in config.json: today's gate
    assert CONFIG_KEY not in old.config
    assert predict_samples(old, stranger).label == "anna"  # the overconfident softmax
    assert predict_samples(old, anna).label == "anna" and predict_samples(old, ben).label == "ben"
    images = np.zeros((1, *old.model.input_shape[1:]), np.uint8)
    np.testing.assert_allclose(predict_images(old, images), old.model.predict(images, verbose=0), atol=1e-5)

    _calibrate_into(model_dir, root)
    new = load_bundle(model_dir)
    assert predict_samples(new, stranger).label == UNKNOWN
    assert predict_samples(new, anna).label == "anna" and predict_samples(new, ben).label == "ben"
    # the timeline answers alike: the stranger's turn is an unknown voice
    talk = write(tmp_path / "talk.wav", np.concatenate([anna, stranger, ben]), SR)
    assert timeline_file(new, talk).speakers == ["anna", "unknown-1", "ben"]


@pytest.mark.slow  # trains heads (seconds each)
def test_enrolment_recalibrates_the_open_set_score(overconfident, tmp_path):
    model_dir, root = overconfident
    if CONFIG_KEY not in load_bundle(model_dir, load_model=False).config:
        _calibrate_into(model_dir, root)
    rng = np.random.default_rng(11)
    clips = [write(tmp_path / f"s{i}.wav", tone_clip(VOICES["stranger"], 2.0, rng), SR) for i in range(4)]
    report = enroll_speaker(model_dir, "stranger", clips, tmp_path / "new", feature_cache=root / "fc")
    new = load_bundle(tmp_path / "new")
    score = OpenSet.from_config(new.config)
    assert score is not None and score.centroids.shape[0] == len(new.labels) == 3
    assert report.metrics["calibration"]["open_set"]["slope"] > 0
    for name in VOICES:
        assert predict_samples(new, tone_clip(VOICES[name], 3.0, rng)).label == name


def test_a_score_that_does_not_tell_strangers_apart_is_not_used():
    rng = np.random.default_rng(2)
    z = rng.normal(size=(20, 4))
    # strangers score higher than known windows: the fit is refused, the softmax gate stays alone
    assert fit_open_set(z, np.repeat([0, 1], 10), 2, [rng.normal(0.1, 0.1, 30)], [rng.normal(0.6, 0.1, 30)]) is None
    assert fit_open_set(z, np.repeat([0, 1], 10), 2, [rng.normal(0.6, 0.1, 30)], [rng.normal(0.1, 0.1, 30)])


def test_the_threshold_keeps_enrolled_voices_in_noise_named():
    # anna and ben as above; in noise their windows drift off their centroids, and windows of noise alone look
    # just like them (the head and the score cannot tell them apart): the fewest errors would reject many enrolled
    # windows in noise; the cap keeps 90 % of the correct ones named
    voice, head = voice_maker(np.random.default_rng(4)), head_on_two_axes
    anna, ben = ANNA, BEN

    x_tr, y_tr = np.concatenate([voice(anna, 40), voice(ben, 40)]), np.repeat([0, 1], 40)
    x_va, y_va = np.concatenate([voice(anna, 20), voice(ben, 20)]), np.repeat([0, 1], 20)
    x_no = np.concatenate([voice(anna, 20, 2.0), voice(ben, 20, 2.0)])
    x_noise = np.concatenate([voice(anna, 300, 2.0), voice(ben, 300, 2.0)])
    splits = FeatureSplits(x_tr, y_tr, np.ones(80, bool), x_va, y_va, x_va, y_va)

    def calibrated(noisy_true):
        return calibrate_unknown(ScoredWindows(head(x_va), x_va), y_va, 2, TrainConfig(),
                                 noisy=ScoredWindows(head(x_no), x_no), noise=ScoredWindows(head(x_noise), x_noise),
                                 splits=splits, standardise=lambda x: np.asarray(x, np.float32),
                                 noisy_true=noisy_true)

    def named_in_noise(result):
        answered = result.open_set.apply(head(x_no), x_no)
        correct = answered.argmax(axis=1) == y_va
        return (answered[correct].max(axis=1) >= result.threshold).mean()

    capped, uncapped = calibrated(y_va), calibrated(None)
    assert named_in_noise(capped) >= 0.9 > named_in_noise(uncapped)
    assert capped.threshold < uncapped.threshold
    assert capped.record["false_unknown_rate_noise"] < uncapped.record["false_unknown_rate_noise"]


@pytest.mark.slow  # trains a head per fold
def test_training_windows_scored_without_their_fold_join_the_known_side():
    voice, head = voice_maker(np.random.default_rng(6)), head_on_two_axes
    # ten recordings of each voice: a clean window and an augmented copy further off
    x_tr = np.concatenate([np.concatenate([voice(c, 10), voice(c, 10, 1.0)]) for c in (ANNA, BEN)])
    y_tr = np.repeat([0, 1], 20)
    clean = np.tile(np.r_[np.ones(10, bool), np.zeros(10, bool)], 2)
    groups = [f"{c}-{i % 10}" for c, i in zip(y_tr, range(40))]
    x_va, y_va = np.concatenate([voice(ANNA, 5), voice(BEN, 5)]), np.repeat([0, 1], 5)
    splits = FeatureSplits(x_tr, y_tr, clean, x_va, y_va, x_va, y_va, train_groups=groups)
    result = calibrate_unknown(ScoredWindows(head(x_va), x_va), y_va, 2, TrainConfig(learning_rate=0.05), splits=splits,
                               standardise=lambda x: np.asarray(x, np.float32))
    record = result.record
    assert record["open_set"]["cross_fitted_known"] == 40
    assert record["known"] == {"clean": 10 + 20, "noise": 20}  # validation windows + the clean and augmented ones
