import io
import json

import numpy as np
import pytest
from PIL import Image

from audionet_gui.core.audio.colormaps import COLORMAPS, colormap_lut
from audionet_gui.core.audio.spectrogram import (
    SpectrogramConfig,
    _chroma_basis,
    _mel_basis,
    _mel_centres,
    compute_spectrogram,
    encode_indexed_png,
    load_png,
    save_png,
    spectrogram_image,
    spectrogram_indices,
)
from tests.audio_factory import SR, chirp, noise, tone


def test_tone_peaks_at_its_frequency_for_every_kind():
    x = tone(1000, 2.0)
    mel = compute_spectrogram(x, SpectrogramConfig(kind="mel"))
    assert abs(mel.freqs_hz[np.argmax(mel.values_db[:, 100])] - 1000) < 40
    stft = compute_spectrogram(x, SpectrogramConfig(kind="stft"))
    assert abs(stft.freqs_hz[np.argmax(stft.values_db[:, 100])] - 1000) < 16
    chroma = compute_spectrogram(tone(440, 2.0), SpectrogramConfig(kind="chroma"))
    assert chroma.values_db.shape[0] == 12
    assert int(np.argmax(chroma.values_db[:, 100])) == 9  # A (C=0)


def test_levels_are_about_dbfs():
    loud = compute_spectrogram(tone(1000, 1.0, amp=1.0), SpectrogramConfig(kind="stft"))
    quiet = compute_spectrogram(tone(1000, 1.0, amp=0.1), SpectrogramConfig(kind="stft"))
    assert loud.values_db.max() == pytest.approx(0.0, abs=1.0)
    assert loud.values_db.max() - quiet.values_db.max() == pytest.approx(20.0, abs=0.1)


def test_axes_match_the_config():
    cfg = SpectrogramConfig(n_mels=64, hop_length=320, fmin=50, fmax=6000)
    s = compute_spectrogram(noise(3.0), cfg)
    assert s.values_db.shape == (64, 1 + 3 * SR // 320)
    assert s.times_s[1] == pytest.approx(0.02)
    assert 50 < s.freqs_hz[0] < s.freqs_hz[-1] < 6000


def test_image_is_rgb_uint8_of_the_configured_size_and_deterministic():
    cfg = SpectrogramConfig(image_width=160, image_height=96)
    x = chirp(200, 6000, 2.0)
    a, b = spectrogram_image(x, cfg), spectrogram_image(x.copy(), cfg)
    assert a.shape == (96, 160, 3) and a.dtype == np.uint8
    np.testing.assert_array_equal(a, b)


def test_low_frequencies_are_at_the_bottom_and_time_runs_right():
    cfg = SpectrogramConfig(image_width=100, image_height=100, colormap="gray")
    img = spectrogram_image(chirp(100, 7000, 2.0), cfg)[..., 0].astype(float)
    # the bright ridge of a rising chirp starts low-left and ends high-right
    assert np.argmax(img[:, 5]) > 60 and np.argmax(img[:, 94]) < 40


def test_image_ignores_level_with_ref_max_but_not_with_absolute():
    x = voice_like = chirp(300, 3000, 2.0) + noise(2.0, amp=0.01)
    rel = SpectrogramConfig(image_width=64, image_height=64, frontend="none")
    np.testing.assert_array_equal(spectrogram_image(x, rel), spectrogram_image(0.1 * x, rel))
    ab = SpectrogramConfig(image_width=64, image_height=64, ref="absolute", frontend="none")
    assert not np.array_equal(spectrogram_image(x, ab), spectrogram_image(0.1 * x, ab))
    del voice_like


def test_config_json_round_trip_determines_the_image():
    cfg = SpectrogramConfig(kind="stft", n_fft=1024, hop_length=256, colormap="magma", image_width=128,
                            image_height=64, fmax=7000.0, db_range=60)
    again = SpectrogramConfig.from_json(cfg.to_json())
    assert again == cfg and again.fingerprint() == cfg.fingerprint()
    x = noise(2.0, seed=4)
    np.testing.assert_array_equal(spectrogram_image(x, cfg), spectrogram_image(x, again))
    assert json.loads(cfg.to_json())["kind"] == "stft"


@pytest.mark.parametrize("bad", [dict(kind="cqt"), dict(colormap="jet"), dict(fmax=9000), dict(fmin=9000),
                                 dict(image_width=2), dict(db_range=0)])
def test_invalid_configs_are_refused(bad):
    with pytest.raises(ValueError):
        SpectrogramConfig(**bad)


def test_indexed_png_decodes_to_exactly_the_cnn_image(tmp_path):
    cfg = SpectrogramConfig(image_width=120, image_height=80, colormap="inferno")
    x = chirp(100, 4000, 2.0)
    png = encode_indexed_png(spectrogram_indices(x, cfg), cfg.colormap)
    decoded = np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))
    np.testing.assert_array_equal(decoded, spectrogram_image(x, cfg))
    save_png(spectrogram_image(x, cfg), tmp_path / "img.png")
    np.testing.assert_array_equal(load_png(tmp_path / "img.png"), decoded)


def test_colormaps_are_256_entry_tables():
    for name in COLORMAPS:
        lut = colormap_lut(name)
        assert lut.shape == (256, 3) and lut.dtype == np.uint8
        assert not lut.flags.writeable
    assert tuple(colormap_lut("viridis")[0]) == (68, 1, 84)


def test_tiny_and_silent_inputs_do_not_crash():
    cfg = SpectrogramConfig(image_width=32, image_height=32)
    assert spectrogram_image(np.zeros(10, np.float32), cfg).shape == (32, 32, 3)
    assert spectrogram_image(np.zeros(SR, np.float32), cfg).shape == (32, 32, 3)


@pytest.mark.parametrize("sr,n_fft,n_mels,fmin,fmax", [(16000, 512, 128, 20.0, 8000.0), (22050, 2048, 64, 0.0, 11025.0),
                                                      (8000, 256, 40, 100.0, 3000.0)])
def test_mel_filterbank_equals_librosas(sr, n_fft, n_mels, fmin, fmax):
    import librosa  # noqa: PLC0415 - the reference implementation, slow to import (1.3 s)

    np.testing.assert_allclose(_mel_basis(sr, n_fft, n_mels, fmin, fmax),
                               librosa.filters.mel(sr=sr, n_fft=n_fft, n_mels=n_mels, fmin=fmin, fmax=fmax),
                               rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(_mel_centres(n_mels, fmin, fmax),
                               librosa.mel_frequencies(n_mels=n_mels + 2, fmin=fmin, fmax=fmax)[1:-1], rtol=1e-5)


@pytest.mark.parametrize("sr,n_fft,n_chroma", [(16000, 512, 12), (8000, 256, 12), (44100, 4096, 24), (22050, 1024, 36)])
def test_chroma_filterbank_equals_librosas(sr, n_fft, n_chroma):
    import librosa  # noqa: PLC0415 - the reference implementation, slow to import (1.3 s)

    np.testing.assert_allclose(_chroma_basis(sr, n_fft, n_chroma),
                               librosa.filters.chroma(sr=sr, n_fft=n_fft, n_chroma=n_chroma), rtol=1e-5, atol=1e-7)
