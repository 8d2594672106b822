"""Feature extraction with its content-keyed on-disk cache."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from audionet_gui.core.base.errors import UnreadableFileError
from audionet_gui.core.base.jobs import Cancelled, CancelToken
from audionet_gui.core.model.backbones import build_feature_extractor
from audionet_gui.core.model.features import DerivedImage, FeatureKey, content_hash, extract_features, feature_key

SIZE = (16, 12)


class CountingModel:
    """A stand-in extractor: features = per-channel means and a corner pixel; counts the images it sees."""

    def __init__(self):
        self.images_seen = 0
        self.calls = 0

    def __call__(self, batch):
        self.calls += 1
        self.images_seen += len(batch)
        b = np.asarray(batch, np.float32)
        return np.concatenate([b.mean(axis=(1, 2)), b[:, 0, 0, :]], axis=1)


def _key(**changes) -> FeatureKey:
    base = dict(backbone="inception_v3", weights_id="imagenet", feature_layers=("mixed5",),
                preprocessing="minus1_1", image_size=SIZE)
    base.update(changes)
    return FeatureKey(**base)


def _images(n, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.integers(0, 256, (SIZE[1], SIZE[0], 3)).astype(np.uint8) for _ in range(n)]


def test_features_are_right_and_a_cache_hit_skips_the_model(tmp_path):
    images = _images(10)
    model = CountingModel()
    first = extract_features(images, _key(), model, tmp_path, batch_size=4)
    assert first.shape == (10, 6) and first.dtype == np.float32
    np.testing.assert_allclose(first, CountingModel()(np.stack(images)), rtol=1e-6)
    assert model.images_seen == 10

    again = CountingModel()
    stats = {}
    second = extract_features(images, _key(), again, tmp_path, batch_size=4, stats=stats)
    assert again.calls == 0
    assert stats == {"cached": 10, "computed": 0, "seconds": 0.0}
    np.testing.assert_array_equal(first, second)

    # one new image among cached ones: only it is computed, order is kept
    mixed = images[:3] + _images(1, seed=9) + images[3:]
    third = CountingModel()
    out = extract_features(mixed, _key(), third, tmp_path, batch_size=4)
    assert third.images_seen == 1
    np.testing.assert_array_equal(out[4:], first[3:])


@pytest.mark.parametrize("change", [dict(weights_id="file:abc"), dict(weights_id="none"),
                                    dict(feature_layers=("mixed7",)), dict(preprocessing="zero_1"),
                                    dict(backbone="mobilenet_v2")])
def test_changed_backbone_settings_miss_the_cache(tmp_path, change):
    images = _images(3)
    extract_features(images, _key(), CountingModel(), tmp_path)
    model = CountingModel()
    extract_features(images, _key(**change), model, tmp_path)
    assert model.images_seen == 3


def test_png_files_are_keyed_by_their_bytes_not_their_names(tmp_path):
    img = _images(1)[0]
    a, b = tmp_path / "a.png", tmp_path / "b.png"
    Image.fromarray(img).save(a)
    Image.fromarray(img).save(b)
    assert content_hash(a) == content_hash(b)
    model = CountingModel()
    out = extract_features([a, b], _key(), model, tmp_path / "cache")
    np.testing.assert_array_equal(out[0], out[1])
    Image.fromarray(255 - img).save(b)  # same name, new content
    model = CountingModel()
    extract_features([a, b], _key(), model, tmp_path / "cache")
    assert model.images_seen == 1


def test_corrupt_cache_entries_are_recomputed(tmp_path):
    images = _images(4)
    good = extract_features(images, _key(), CountingModel(), tmp_path)
    entries = sorted(tmp_path.rglob("*.npy"))
    assert len(entries) == 4
    entries[0].write_bytes(b"\x93NUMPY garbage")  # truncated / garbled
    np.save(entries[1], np.zeros(3, np.float32))  # wrong width
    model = CountingModel()
    out = extract_features(images, _key(), model, tmp_path)
    assert model.images_seen == 2
    np.testing.assert_allclose(out, good)
    model = CountingModel()
    extract_features(images, _key(), model, tmp_path)
    assert model.images_seen == 0  # repaired on disk
    assert not list(tmp_path.rglob("*.tmp")) and not [p for p in tmp_path.rglob(".*") if p.is_file()]


def test_derived_images_are_cached_by_source_and_transform(tmp_path):
    img = _images(1)[0]
    flip = lambda arr, source_hash: arr[:, ::-1].copy()  # noqa: E731
    d1 = DerivedImage(img, flip, "flip-time")
    d2 = DerivedImage(img.copy(), flip, "flip-time")
    d3 = DerivedImage(img, flip, "flip-time-v2")
    assert d1.content_id() == d2.content_id() != d3.content_id() != content_hash(img)
    model = CountingModel()
    out = extract_features([img, d1, d2], _key(), model, tmp_path)
    np.testing.assert_allclose(out[1], CountingModel()(img[None, :, ::-1])[0])
    model = CountingModel()
    extract_features([d2], _key(), model, tmp_path)
    assert model.images_seen == 0


def test_progress_and_cancel(tmp_path):
    images = _images(12)
    reports = []
    extract_features(images, _key(), CountingModel(), None, batch_size=4, progress=reports.append)
    assert reports[-1].done == 12 and reports[-1].total == 12 and reports[-1].stage == "features"

    token = CancelToken()

    class CancelAfterFirstBatch(CountingModel):
        def __call__(self, batch):
            token.cancel()
            return super().__call__(batch)

    model = CancelAfterFirstBatch()
    with pytest.raises(Cancelled):
        extract_features(images, _key(), model, tmp_path, batch_size=4, cancel=token)
    assert model.images_seen == 4
    model = CountingModel()
    extract_features(images, _key(), model, tmp_path, batch_size=4)
    assert model.images_seen == 8  # the finished batch was kept


def test_images_of_another_size_are_resized(tmp_path):
    big = np.zeros((SIZE[1] * 2, SIZE[0] * 2, 3), np.uint8)
    model = CountingModel()
    assert extract_features([big], _key(), model, None).shape == (1, 6)


def test_feature_key_follows_the_weights_file(tmp_path):
    w1, w2 = tmp_path / "a.weights.h5", tmp_path / "b.weights.h5"
    w1.write_bytes(b"one")
    w2.write_bytes(b"two")
    k1, k2 = feature_key("inception_v3", str(w1), 75), feature_key("inception_v3", str(w2), 75)
    assert k1.weights_id.startswith("file:") and k1.digest() != k2.digest()
    assert feature_key("inception_v3", "none", 75).weights_id == "none"
    assert feature_key("inception_v3", "none", 75, "mixed5+mixed7").feature_layers == ("mixed5", "mixed7")


def test_real_extractor_through_the_fast_path(tmp_path):
    model = build_feature_extractor("small_cnn", "none", 32, seed=0)
    key = feature_key("small_cnn", "none", 32)
    rng = np.random.default_rng(5)
    images = [rng.integers(0, 256, (32, 32, 3)).astype(np.uint8) for _ in range(5)]
    out = extract_features(images, key, model, tmp_path, batch_size=4)
    np.testing.assert_allclose(out, model.predict(np.stack(images).astype(np.float32), verbose=0), rtol=1e-4,
                               atol=1e-4)


def test_unreadable_images_name_the_file(tmp_path):
    with pytest.raises(UnreadableFileError) as err:
        extract_features([tmp_path / "gone.png"], _key(), CountingModel(), tmp_path / "cache")
    assert "gone.png" in str(err.value)
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"not a png at all")
    with pytest.raises(UnreadableFileError, match="bad.png"):
        extract_features([bad], _key(), CountingModel(), tmp_path / "cache")


def test_an_unwritable_cache_is_skipped_not_fatal(tmp_path):
    blocker = tmp_path / "cache"
    blocker.write_text("a file where the cache folder should be")
    out = extract_features(_images(3), _key(), CountingModel(), blocker)
    assert out.shape == (3, 6)
