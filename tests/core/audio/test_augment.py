"""Audio- and image-domain augmentation: right levels, repeatable, and the frequency axis never moves."""

from __future__ import annotations

import json

import numpy as np
import pytest

from audionet_gui.core.audio.augment import (
    AugmentConfig,
    add_noise,
    augment_audio,
    augment_image,
    babble,
    change_gain,
    colored_noise,
    image_time_shift,
    mic_response,
    random_mic,
    reverberate,
    simulate_rooms,
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


# ---------------------------------------------------------------------------------- rooms, microphones, babble

def _band_power(x, sr, lo, hi):
    p = np.abs(np.fft.rfft(x)) ** 2
    f = np.fft.rfftfreq(x.size, 1 / sr)
    return float(p[(f >= lo) & (f < hi)].sum())


def test_reverberation_keeps_timing_and_level_and_adds_a_tail():
    x = np.zeros(16000, np.float32)
    x[4000:4400] = _tone(400, 1000)
    delta = np.zeros(300, np.float32)
    delta[50] = 1.0
    np.testing.assert_allclose(reverberate(x, delta), x, atol=1e-6)  # a pure delay is no change at all
    rir = np.zeros(4000, np.float32)
    rir[10] = 1.0
    rir[10:] += 0.3 * np.exp(-np.arange(3990) / 800.0) * np.random.default_rng(0).standard_normal(3990)
    y = reverberate(x, rir)
    assert y.shape == x.shape and abs(_rms(y) - _rms(x)) < 1e-4
    assert _rms(y[:3990]) < 1e-3 * _rms(x)  # nothing before the sound
    assert _rms(y[5000:7000]) > 0.05 * _rms(x[4000:4400])  # the room rings on after it


def test_microphone_response_limits_the_band_and_tilts():
    sr = 16000
    x = colored_noise(1 << 15, np.random.default_rng(2), "white")
    y = mic_response(x, sr, 300.0, 3400.0, 0.0)
    assert abs(_rms(y) - _rms(x)) < 1e-3
    inside = _band_power(y, sr, 800, 2000) / _band_power(x, sr, 800, 2000)
    assert _band_power(y, sr, 20, 120) / _band_power(x, sr, 20, 120) < 0.01 * inside
    assert _band_power(y, sr, 6000, 8000) / _band_power(x, sr, 6000, 8000) < 0.01 * inside
    bright, dark = mic_response(x, sr, 50, 7500, 3.0), mic_response(x, sr, 50, 7500, -3.0)
    assert _band_power(bright, sr, 3000, 6000) / _band_power(bright, sr, 200, 500) > \
        4 * _band_power(dark, sr, 3000, 6000) / _band_power(dark, sr, 200, 500)
    a = random_mic(x, sr, np.random.default_rng(5))
    np.testing.assert_array_equal(a, random_mic(x, sr, np.random.default_rng(5)))
    assert not np.array_equal(a, random_mic(x, sr, np.random.default_rng(6)))


def test_babble_mixes_several_talkers_at_unit_level():
    pool = [_tone(4000, hz) for hz in (150.0, 210.0, 330.0, 470.0)]
    b = babble(pool, 16000, np.random.default_rng(1), (3, 3))
    assert b.shape == (16000,) and abs(_rms(b) - 1.0) < 1e-3
    spectrum = np.abs(np.fft.rfft(b))
    peaks = {hz for hz in (150, 210, 330, 470) if spectrum[hz - 4:hz + 5].max() > 0.2 * spectrum.max()}
    assert len(peaks) >= 2  # more than one voice (three draws from four)
    np.testing.assert_array_equal(b, babble(pool, 16000, np.random.default_rng(1), (3, 3)))
    assert not np.any(babble([], 100, np.random.default_rng(1)))


def test_simulated_rooms_are_repeatable_per_seed():
    a = simulate_rooms(1, 16000, count=2, rt60_s=(0.2, 0.35))
    b = simulate_rooms(1, 16000, count=2, rt60_s=(0.2, 0.35))
    c = simulate_rooms(2, 16000, count=2, rt60_s=(0.2, 0.35))
    assert len(a) == 2 and all(np.array_equal(x, y) for x, y in zip(a, b))
    assert not all(x.shape == y.shape and np.array_equal(x, y) for x, y in zip(a, c))
    for h in a:
        assert h.dtype == np.float32 and np.max(np.abs(h)) == pytest.approx(1.0)
        peak = int(np.argmax(np.abs(h)))
        assert np.sum(h[peak + 1:] ** 2) > 0.05  # reflections after the direct sound


def test_full_audio_augmentation_is_repeatable_per_seed():
    x = _tone(32000, 200.0)
    rooms = [np.r_[1.0, np.zeros(20), 0.5, np.zeros(100), 0.25].astype(np.float32)]
    pool = [_tone(8000, 300.0), _tone(8000, 520.0)]
    cfg = AugmentConfig(room_probability=1.0, babble_probability=1.0, mic_probability=1.0)

    def run(seed):
        return augment_audio(x, 16000, np.random.default_rng(seed), cfg, rooms=rooms, babble_pool=pool, mic=True)

    np.testing.assert_array_equal(run(4), run(4))
    assert not np.array_equal(run(4), run(5))
    assert run(4).shape == x.shape and np.all(np.abs(run(4)) <= 1.0)
    assert AugmentConfig.from_dict(json.loads(json.dumps(cfg.to_dict()))) == cfg
