"""The feature map job: one 2-D point per training window, with its file, time, class and the model's mistakes."""

import json
import shutil
from dataclasses import replace

import numpy as np
import pytest

from audionet_gui.core.base.errors import BundleError
from audionet_gui.core.base.jobs import Cancelled, CancelToken
from audionet_gui.core.data.convert.manifest import load_manifest, write_manifest
from audionet_gui.core.model.bundle import load_bundle
from audionet_gui.core.model.featmap import FeatureMap, embed_2d, feature_map, map_rows
from audionet_gui.core.model.featmap_make import keep_map, make_map
from tests.tiny_models import voice_bundle_with_workspace

VOICES = {"anna": 300.0, "ben": 800.0, "yolanda": 2500.0}


@pytest.fixture(scope="module")
def model_with_a_wrong_label(tmp_path_factory):
    """The tiny voice model; then one of ben's recordings is filed under anna in its workspace."""
    root = tmp_path_factory.mktemp("featmap")
    model = voice_bundle_with_workspace(root, VOICES, list(VOICES))
    rows = [replace(r, label="anna") if r.source == "ben_0.wav" else r for r in load_manifest(root / "ws")]
    write_manifest(root / "ws", rows)
    return model, root


def test_every_window_is_one_point_with_its_file_time_class_and_the_models_mistakes(model_with_a_wrong_label):
    model, root = model_with_a_wrong_label
    rows = load_manifest(root / "ws")
    fmap = feature_map(model, cache_dir=root / "cache", use_cache=False)

    assert len(fmap) == len(rows) and fmap.xy.shape == (len(rows), 2) and np.isfinite(fmap.xy).all()
    assert fmap.method == "pca+tsne"
    d = fmap.to_dict()
    assert set(d["points"][0]) >= {"file", "start", "end", "class", "misclassified", "x", "y"}
    assert [(p["file"], p["start"], p["class"]) for p in d["points"]] == \
        [(r.source, round(r.start_s, 3), r.label) for r in rows]
    planted = [p for p in d["points"] if p["file"] == "ben_0.wav"]
    assert planted and all(p["misclassified"] and p["predicted"] == "ben" and p["class"] == "anna" for p in planted)
    assert not any(p["misclassified"] for p in d["points"] if p["file"] != "ben_0.wav")
    # the doctor's label judge on the same features names the planted file, and only it
    assert [s["paths"] for s in d["suspects"]] == [["ben_0.wav"]] and d["suspects"][0]["suggested_class"] == "ben"
    assert all(p["suspect"] == (p["file"] == "ben_0.wav") for p in d["points"])
    # the classes are kept apart in 2-D: each point's nearest other point is of the same (true) voice
    voice = np.array([VOICES[p["predicted"]] for p in d["points"]])
    dist = ((fmap.xy[:, None] - fmap.xy[None]) ** 2).sum(-1) + np.eye(len(fmap)) * 1e9
    assert (voice[dist.argmin(axis=1)] == voice).mean() > 0.9


def test_a_second_open_reads_the_finished_map_from_the_cache(model_with_a_wrong_label):
    model, root = model_with_a_wrong_label
    first = feature_map(model, cache_dir=root / "cache2")
    again = feature_map(model, cache_dir=root / "cache2")
    assert not first.cached and again.cached
    assert again.files == first.files and np.allclose(again.xy, first.xy, atol=1e-3)
    assert (again.misclassified == first.misclassified).all()
    json.dumps(again.to_dict())
    assert FeatureMap.from_dict(first.to_dict()).splits == first.splits


def test_a_map_made_with_the_model_in_memory_is_the_one_the_page_reads(model_with_a_wrong_label, tmp_path):
    """What training does: make the map with its loaded model, keep it once saved; the page's job then reads it
    (no model load, no features) and it is the map the job would compute."""
    model, root = model_with_a_wrong_label
    bundle = load_bundle(model)
    workspace, rows = map_rows(bundle)
    made = make_map(bundle, workspace, rows, tmp_path / "features", stage="mapping")
    made.made_by = "training"
    assert keep_map(made, tmp_path, model, workspace) is not None
    opened = feature_map(model, cache_dir=tmp_path)
    assert opened.cached and opened.made_by == "training" and set(opened.seconds) == {"features", "embedding", "total"}
    assert opened.model == str(model)
    computed = feature_map(model, cache_dir=tmp_path / "again", use_cache=False)
    assert not computed.cached and computed.made_by == "map"
    assert opened.files == computed.files and (opened.misclassified == computed.misclassified).all()
    assert opened.misclassified.any() and (opened.suspect == computed.suspect).all() and opened.suspect.any()
    np.testing.assert_allclose(opened.xy, computed.xy, atol=1e-3)  # same features, same seed: the same picture


def test_a_kept_map_of_another_model_file_is_not_read(model_with_a_wrong_label, tmp_path):
    model, root = model_with_a_wrong_label
    bundle = load_bundle(model)
    workspace, rows = map_rows(bundle)
    made = make_map(bundle, workspace, rows[:12], None)  # a different map, kept under another model's hash
    keep_map(made, tmp_path, model, workspace, model_hash="0" * 64)
    assert not feature_map(model, cache_dir=tmp_path).cached


def test_cancel_and_a_model_whose_windows_are_gone(model_with_a_wrong_label, tmp_path):
    model, root = model_with_a_wrong_label
    token = CancelToken()
    token.cancel()
    with pytest.raises(Cancelled):
        feature_map(model, cache_dir=tmp_path / "c", use_cache=False, cancel=token)
    metrics = json.loads((model / "metrics.json").read_text())
    moved = tmp_path / "moved"
    shutil.copytree(model, moved)
    (moved / "metrics.json").write_text(json.dumps({**metrics, "data": {"workspace": str(tmp_path / "gone")}}))
    with pytest.raises(BundleError, match="no longer"):
        feature_map(moved, cache_dir=tmp_path / "c")


def test_embedding_of_few_points_falls_back_to_pca():
    rng = np.random.default_rng(0)
    xy, method = embed_2d(rng.normal(size=(6, 8)).astype(np.float32))
    assert xy.shape == (6, 2) and method == "pca"
    assert embed_2d(np.zeros((0, 8), np.float32))[0].shape == (0, 2)
