"""Audio- and image-domain augmentation: right levels, repeatable, and the frequency axis never moves."""

from __future__ import annotations

import json

import numpy as np

from audionet_gui.core.audio.augment import (
    AugmentConfig,
    add_noise,
    augment_audio,
    augment_image,
    change_gain,
    colored_noise,
    image_time_shift,
    spec_augment,
    time_shift,
)


def _rms(x):
    return float(np.sqrt(np.mean(np.square(x, dtype=np.float64))))


def _tone(n=16000, hz=440.0, sr=16000, amp=0.3):
    return (amp * np.sin(2 * np.pi * hz * np.arange(n) / sr)).astype(np.float32)


def test_noise_is_mixed_at_the_requested_snr():
    rng = np.random.default_rng(0)
    x = _tone()
    for snr in (0.0, 10.0, 25.0):
        noise = colored_noise(3000, rng, "pink")  # shorter than the signal: tiled
        y = add_noise(x, noise, snr, rng)
        measured = 20 * np.log10(_rms(x) / _rms(y - x))
        assert abs(measured - snr) < 0.05
        assert y.dtype == np.float32 and y.shape == x.shape
    assert np.array_equal(add_noise(np.zeros(100, np.float32), noise, 10.0), np.zeros(100, np.float32))


def test_colored_noise_has_unit_level_and_the_right_tilt():
    rng = np.random.default_rng(1)
    spectra = {}
    for color in ("white", "pink", "brown"):
        n = colored_noise(1 << 14, rng, color)
        assert abs(_rms(n) - 1.0) < 1e-3
        p = np.abs(np.fft.rfft(n)) ** 2
        spectra[color] = p[10:200].mean() / p[-2000:].mean()  # low / high frequency power
    assert spectra["white"] < spectra["pink"] < spectra["brown"]


def test_gain_and_shift():
    x = _tone()
    assert abs(20 * np.log10(_rms(change_gain(x, -6.0)) / _rms(x)) + 6.0) < 1e-3
    assert np.max(np.abs(change_gain(x, 20.0))) <= 1.0  # clipped like a real input
    np.testing.assert_array_equal(time_shift(x, 5)[5:], x[:-5])


def test_audio_augmentation_is_repeatable_and_plausible():
    x = _tone()
    a = augment_audio(x, 16000, np.random.default_rng(7))
    b = augment_audio(x, 16000, np.random.default_rng(7))
    c = augment_audio(x, 16000, np.random.default_rng(8))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    assert a.shape == x.shape and np.all(np.abs(a) <= 1.0)
    bank = [np.full(50, 0.1, np.float32)]
    d = augment_audio(x, 16000, np.random.default_rng(3), AugmentConfig(noise_probability=1.0), noise_bank=bank)
    assert d.shape == x.shape


def _band_image(h=40, w=60):
    """Each row a distinct colour, so any vertical movement of rows would show."""
    img = np.zeros((h, w, 3), np.uint8)
    img[:, :, 0] = (np.arange(h) * 5 + 20)[:, None]
    img[:, :, 1] = (np.arange(w) * 3 + 10)[None, :]
    img[:, :, 2] = 200
    return img


def test_spec_augment_masks_but_never_moves_frequencies():
    img = _band_image()
    rng = np.random.default_rng(0)
    out = spec_augment(img, rng, time_masks=2, freq_masks=2, max_time=0.2, max_freq=0.2)
    assert out.shape == img.shape and out.dtype == img.dtype
    changed = np.any(out != img, axis=2)
    assert changed.any()
    fill = out[changed][0]
    assert np.all(out[changed] == fill)  # masks are one (silence) colour ...
    assert np.array_equal(fill, img.reshape(-1, 3)[np.argmin(img.reshape(-1, 3).astype(int).sum(1))])
    assert np.array_equal(out[~changed], img[~changed])  # ... and everything else stays in place
    # masks are whole columns (time) or whole rows (frequency)
    full_cols = changed.all(axis=0)
    full_rows = changed.all(axis=1)
    assert np.array_equal(changed, full_cols[None, :] | full_rows[:, None])


def test_image_time_shift_and_augment_image_keep_rows():
    img = _band_image()
    shifted = image_time_shift(img, 7)
    np.testing.assert_array_equal(shifted[:, 7:], img[:, :-7])
    cfg = AugmentConfig(time_masks=0, freq_masks=0)
    out = augment_image(img, np.random.default_rng(4), cfg)
    # shift only: every row keeps its own red value (the frequency code)
    np.testing.assert_array_equal(out[:, :, 0], img[:, :, 0])
    a = augment_image(img, np.random.default_rng(11))
    b = augment_image(img, np.random.default_rng(11))
    np.testing.assert_array_equal(a, b)


def test_config_round_trip():
    cfg = AugmentConfig(snr_db=(5.0, 20.0), time_masks=1)
    assert AugmentConfig.from_dict(cfg.to_dict()) == cfg
    assert AugmentConfig.from_dict(json.loads(json.dumps(cfg.to_dict()))) == cfg
