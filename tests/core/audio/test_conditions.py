"""Test-time conditions: the SNR is what was asked, a room adds a tail, a cheap microphone removes the band edges."""

import numpy as np
import pytest

from audionet_gui.core.audio.conditions import (
    band_limit,
    synthetic_room_response,
    with_cheap_microphone,
    with_noise,
    with_room,
)

SR = 16000


def _rms(x):
    return float(np.sqrt(np.mean(np.square(x, dtype=np.float64))))


def _band_energy(x, lo, hi):
    spec = np.abs(np.fft.rfft(x)) ** 2
    f = np.fft.rfftfreq(x.size, 1 / SR)
    return float(spec[(f >= lo) & (f < hi)].sum())


@pytest.mark.parametrize("snr", [20.0, 5.0, 0.0])
def test_noise_is_mixed_at_the_requested_snr(snr):
    rng = np.random.default_rng(1)
    clean = np.sin(2 * np.pi * 440 * np.arange(SR) / SR).astype(np.float32) * 0.3
    noise = rng.standard_normal(SR // 3).astype(np.float32)  # shorter than the signal: looped
    mixed = with_noise(clean, noise, snr, rng)
    assert 20 * np.log10(_rms(clean) / _rms(mixed - clean)) == pytest.approx(snr, abs=0.1)


def test_a_room_response_starts_with_the_direct_sound_and_decays():
    rir = synthetic_room_response(SR, np.random.default_rng(0), rt60_s=0.5)
    assert np.argmax(np.abs(rir)) == 0
    early, late = _rms(rir[100:1600]), _rms(rir[-1600:])
    assert late < early / 10


def test_a_room_smears_a_click_over_time_and_keeps_the_length():
    click = np.zeros(SR, np.float32)
    click[1000] = 1.0
    wet = with_room(click, SR, np.random.default_rng(0), rt60_s=0.6)
    assert wet.shape == click.shape
    assert np.count_nonzero(np.abs(wet[1200:]) > 1e-3) > 1000


def test_band_limit_and_cheap_microphone_remove_the_edges():
    rng = np.random.default_rng(0)
    x = rng.standard_normal(SR).astype(np.float32) * 0.1
    y = band_limit(x, SR, 300, 3400)
    assert _band_energy(y, 0, 150) < 1e-3 * _band_energy(x, 0, 150)
    assert _band_energy(y, 4000, 8000) < 1e-3 * _band_energy(x, 4000, 8000)
    assert _band_energy(y, 800, 3000) == pytest.approx(_band_energy(x, 800, 3000), rel=0.05)
    cheap = with_cheap_microphone(x, SR, rng)
    assert _rms(cheap) < _rms(x)  # quieter: far from the mouth
    assert _band_energy(cheap, 5000, 8000) < 0.01 * _band_energy(cheap, 800, 3000)


def test_conditions_are_repeatable_per_seed():
    x = np.random.default_rng(3).standard_normal(SR).astype(np.float32)
    a = with_room(x, SR, np.random.default_rng(7))
    b = with_room(x, SR, np.random.default_rng(7))
    c = with_room(x, SR, np.random.default_rng(8))
    assert np.array_equal(a, b) and not np.array_equal(a, c)


def test_held_back_test_noises_are_unit_rms_deterministic_and_distinct():
    from audionet_gui.core.audio import conditions  # noqa: PLC0415 - the module, so pytest does not collect test_noises

    noises = conditions.test_noises(8000, seed=3, seconds=2.0)
    assert set(noises) == {"fan", "traffic", "rain", "babble", "hum"}
    again = conditions.test_noises(8000, seed=3, seconds=2.0)
    other = conditions.test_noises(8000, seed=4, seconds=2.0)
    for name, x in noises.items():
        assert x.dtype == np.float32 and x.size == 16000 and np.all(np.isfinite(x))
        assert _rms(x) == pytest.approx(1.0, rel=1e-3)
        assert np.array_equal(x, again[name])
        assert not np.allclose(x, other[name])
    # each family has its own spectrum: rain mostly above 1.5 kHz (hiss; drops are broadband), hum and traffic below
    def high_share(x):
        spec = np.abs(np.fft.rfft(x)) ** 2
        return float(spec[np.fft.rfftfreq(x.size, 1 / 8000) >= 1500].sum() / spec.sum())
    assert high_share(noises["rain"]) > 0.5
    assert high_share(noises["hum"]) < 0.05 and high_share(noises["traffic"]) < 0.05
    assert 0.0 < high_share(noises["babble"]) < 0.5


def test_test_noises_are_not_used_by_augmentation():
    import importlib  # noqa: PLC0415 - only here
    import inspect  # noqa: PLC0415 - only here
    import pkgutil  # noqa: PLC0415 - only here

    from audionet_gui.core.audio import augment  # noqa: PLC0415 - only here
    from audionet_gui.core.data import convert  # noqa: PLC0415 - only here

    modules = [augment, convert] + [importlib.import_module(f"{convert.__name__}.{m.name}")
                                    for m in pkgutil.iter_modules(convert.__path__)]
    assert len(modules) > 3  # the convert package's modules are all read
    for module in modules:
        assert "conditions" not in inspect.getsource(module)
