import dataclasses

import numpy as np
import pytest

from audionet_gui.core.audio.frontend import (
    FRONTEND_CHOICES,
    FRONTENDS,
    auto_frontend,
    band_norm_levels,
    floor_levels,
    pcen,
    pcen_levels,
    pcen_smoothing,
)
from audionet_gui.core.audio.spectrogram import SpectrogramConfig, compute_spectrogram, spectrogram_image
from audionet_gui.core.audio.windows import Window
from audionet_gui.core.base.fields import settings_fields
from audionet_gui.core.inspect.inspection import window_image
from tests.audio_factory import SR, noise, tone, voice


def _mel_magnitude(x: np.ndarray, cfg: SpectrogramConfig = SpectrogramConfig()) -> np.ndarray:
    """A real spectrogram: the app's mel power, as int32-scaled magnitude (librosa's advice for PCEN)."""
    return (2.0 ** 31) * 10.0 ** (compute_spectrogram(x, cfg).values_db.astype(np.float64) / 20.0)


def _speech_in_noise() -> np.ndarray:
    x = np.concatenate([noise(0.5, amp=0.01), voice(140, 1.5) + noise(1.5, amp=0.01, seed=1)])
    return x.astype(np.float32)


@pytest.mark.parametrize("kwargs", [
    {},                                                         # librosa's defaults (sr 22050, hop 512)
    {"sr": SR, "hop_length": 160},                              # the app's frames
    {"sr": SR, "hop_length": 160, "gain": 0.8, "bias": 10.0, "power": 0.25, "time_constant": 0.06, "eps": 1e-4},
    {"sr": SR, "hop_length": 160, "power": 0.0},                # log branch
    {"sr": SR, "hop_length": 160, "bias": 0.0},                 # no bias branch
    {"b": 0.3},                                                 # explicit smoothing coefficient
])
def test_pcen_equals_librosas(kwargs):
    import librosa  # noqa: PLC0415 - the reference implementation, slow to import (1.3 s)

    S = _mel_magnitude(_speech_in_noise())
    ours = pcen(S, **kwargs)
    ref = librosa.pcen(S, **kwargs)
    np.testing.assert_allclose(ours, ref, rtol=1e-9, atol=1e-12)


def test_pcen_default_smoothing_is_librosas_formula_and_bad_parameters_are_refused():
    t = 0.4 * 22050 / 512
    assert pcen_smoothing(22050, 512, 0.4) == pytest.approx((np.sqrt(1 + 4 * t ** 2) - 1) / (2 * t ** 2))
    S = np.ones((2, 5))
    for bad in ({"power": -1}, {"gain": -0.1}, {"bias": -1}, {"eps": 0}, {"time_constant": 0}, {"b": 1.5}):
        with pytest.raises(ValueError):
            pcen(S, **bad)


def test_band_norm_removes_a_fixed_channel_colouring_exactly():
    db = compute_spectrogram(voice(120, 2.0), SpectrogramConfig()).values_db.astype(np.float64)
    colouring = np.linspace(-12.0, 6.0, db.shape[0])[:, None]  # a microphone's tilt, dB per band
    plain = band_norm_levels(db, db_range=200.0)
    coloured = band_norm_levels(db + colouring, db_range=200.0)
    np.testing.assert_allclose(plain, coloured, atol=1e-5)
    # each band: mean at mid grey
    assert np.allclose(plain.mean(axis=1)[plain.std(axis=1) > 0.01], 0.5, atol=0.05)


def _tilt(x: np.ndarray, db_per_octave: float) -> np.ndarray:
    spec = np.fft.rfft(x)
    f = np.maximum(np.fft.rfftfreq(x.size, 1 / SR), 50.0)
    return np.fft.irfft(spec * (f / 1000.0) ** (db_per_octave / 6.02), x.size).astype(np.float32)


def test_band_norm_image_changes_less_than_the_plain_image_through_another_microphone():
    x = voice(150, 2.0, seed=3)
    y = 0.3 * _tilt(x, -4.0)
    plain = SpectrogramConfig(frontend="none", colormap="gray", image_width=128, image_height=128)
    normed = dataclasses.replace(plain, frontend="band_norm")
    d_plain = np.abs(spectrogram_image(x, plain).astype(float) - spectrogram_image(y, plain)).mean()
    d_norm = np.abs(spectrogram_image(x, normed).astype(float) - spectrogram_image(y, normed)).mean()
    assert d_norm < 0.5 * d_plain


def test_pcen_image_hardly_depends_on_level():
    cfg = SpectrogramConfig(frontend="pcen", colormap="gray", image_width=128, image_height=128)
    x = _speech_in_noise()
    loud, quiet = spectrogram_image(x, cfg).astype(float), spectrogram_image(0.05 * x, cfg).astype(float)
    assert np.abs(loud - quiet).mean() < 4.0  # of 255


def test_floor_suppression_darkens_steady_noise_but_keeps_the_voice():
    x = np.concatenate([noise(1.0, amp=0.05), voice(130, 1.0) + noise(1.0, amp=0.05, seed=2)]).astype(np.float32)
    db = compute_spectrogram(x, SpectrogramConfig()).values_db
    levels = floor_levels(db, 80.0, 20.0)
    frames = db.shape[1]
    noise_part, voice_part = levels[:, : frames // 2 - 5], levels[:, frames // 2 + 5:]
    assert noise_part.mean() < 0.12
    assert np.percentile(voice_part, 99) > 2 * np.percentile(noise_part, 99)  # the voice's harmonics stand out
    plain = SpectrogramConfig().with_image_size(64, 64)
    plain_noise = compute_spectrogram(noise(1.0, amp=0.05), plain).values_db
    from audionet_gui.core.audio.spectrogram import normalise_db  # noqa: PLC0415 - local to this check

    assert normalise_db(plain_noise, plain).mean() > 0.5  # the plain image paints noise bright


def test_steady_noise_alone_is_not_stretched_to_full_brightness():
    db = compute_spectrogram(noise(2.0, amp=0.1), SpectrogramConfig()).values_db
    assert floor_levels(db, 80.0, 20.0).max() < 0.7


def test_frontend_is_a_setting_at_the_end_and_refuses_bad_values():
    names = [f.name for f in dataclasses.fields(SpectrogramConfig)]
    front = names[names.index("frontend"):]
    assert front == ["frontend", "pcen_gain", "pcen_bias", "pcen_power", "pcen_time_constant", "floor_percentile"]
    info = dict((f.name, i) for f, i in settings_fields(SpectrogramConfig))
    assert info["frontend"].choices == FRONTEND_CHOICES and all(name in info for name in front)
    for bad in ({"frontend": "magic"}, {"pcen_gain": 1.5}, {"pcen_bias": -1}, {"pcen_power": 2},
                {"pcen_time_constant": 0}, {"floor_percentile": 95}):
        with pytest.raises(ValueError):
            SpectrogramConfig(**bad)


def test_plain_db_configs_keep_the_dict_and_fingerprint_they_had_before_front_ends():
    old = SpectrogramConfig(frontend="none")
    d = old.to_dict()
    assert "frontend" not in d and "pcen_gain" not in d
    stored_before = {k: v for k, v in d.items()}  # what a model folder made before front ends holds
    assert SpectrogramConfig.from_dict(stored_before) == old  # it stays plain dB under today's default
    assert SpectrogramConfig(frontend="pcen").to_dict()["frontend"] == "pcen"
    assert SpectrogramConfig.from_json(SpectrogramConfig().to_json()) == SpectrogramConfig()
    cfg = SpectrogramConfig(frontend="pcen", pcen_power=0.25)
    back = SpectrogramConfig.from_json(cfg.to_json())
    assert back == cfg and back.fingerprint() != old.fingerprint()


@pytest.mark.parametrize("frontend", FRONTENDS)
def test_every_front_end_gives_the_cnn_image_the_inspector_shows(frontend):
    cfg = SpectrogramConfig(frontend=frontend, image_width=96, image_height=80)
    x = _speech_in_noise()[: 2 * SR]
    img = spectrogram_image(x, cfg)
    assert img.shape == (80, 96, 3) and img.dtype == np.uint8
    np.testing.assert_array_equal(window_image(Window(0.0, 2.0, x), cfg), img)
    if frontend != "none":
        assert not np.array_equal(img, spectrogram_image(x, SpectrogramConfig(frontend="none", image_width=96,
                                                                              image_height=80)))


@pytest.mark.parametrize("frontend", FRONTENDS)
def test_front_ends_survive_silence_and_tiny_inputs(frontend):
    cfg = SpectrogramConfig(frontend=frontend, image_width=32, image_height=32)
    for x in (np.zeros(SR, np.float32), np.zeros(10, np.float32), tone(440, 0.01)):
        img = spectrogram_image(x, cfg)
        assert img.shape == (32, 32, 3) and np.isfinite(img).all()
    for fn in (lambda d: band_norm_levels(d, 80.0), lambda d: floor_levels(d, 80.0, 20.0),
               lambda d: pcen_levels(d, SR, 160, 0.98, 2.0, 0.5, 0.4)):
        assert fn(np.zeros((4, 0))).shape == (4, 0)


def test_auto_front_end_is_pcen_for_speech_and_plain_for_sounds_and_draws_plain_until_resolved():
    assert SpectrogramConfig().frontend == "auto"
    assert auto_frontend("speech") == "pcen" and auto_frontend("energy") == "none"
    x = _speech_in_noise()[: 2 * SR]
    size = {"image_width": 64, "image_height": 48}
    np.testing.assert_array_equal(spectrogram_image(x, SpectrogramConfig(frontend="auto", **size)),
                                  spectrogram_image(x, SpectrogramConfig(frontend="none", **size)))
    assert SpectrogramConfig(frontend="auto").fingerprint() != SpectrogramConfig(frontend="none").fingerprint()
