"""The windows "unknown" is calibrated on: manifest windows cut from their source, noisy copies at the asked SNR,
noise-only windows at everyday levels (the held-out scores: test_heldout.py)."""

from types import SimpleNamespace

import numpy as np
import soundfile as sf

from audionet_gui.core.audio.windows import WindowConfig
from audionet_gui.core.model.calibration import noise_windows, noisy_copies, window_audio

SR = 16000


def _rms(x):
    return float(np.sqrt(np.mean(np.square(x, dtype=np.float64))))


def test_window_audio_cuts_manifest_windows_and_fills_a_short_clip(tmp_path):
    ramp = np.linspace(-0.5, 0.5, 3 * SR, dtype=np.float32)
    sf.write(tmp_path / "long.wav", ramp, SR, subtype="FLOAT")
    sf.write(tmp_path / "short.wav", ramp[: SR // 4], SR, subtype="FLOAT")
    rows = [SimpleNamespace(source=str(tmp_path / "long.wav"), start_s=1.5),
            SimpleNamespace(source=str(tmp_path / "missing.wav"), start_s=0.0),
            SimpleNamespace(source=str(tmp_path / "short.wav"), start_s=0.0)]
    windows, owners = window_audio(rows, SR, WindowConfig(window_s=1.0, hop_s=0.5, short_clip="tile"))
    assert owners == [0, 2]  # the unreadable source is skipped
    np.testing.assert_allclose(windows[0], ramp[int(1.5 * SR):int(2.5 * SR)], atol=1e-6)
    assert windows[1].size == SR  # tiled to a whole window, as conversion fills it
    np.testing.assert_allclose(windows[1][SR // 4: SR // 2], ramp[: SR // 4], atol=1e-6)


def test_noisy_copies_and_noise_windows_stay_in_their_ranges():
    rng = np.random.default_rng(0)
    clean = [(0.3 * np.sin(2 * np.pi * 440 * np.arange(SR) / SR)).astype(np.float32) for _ in range(20)]
    for x, y in zip(clean, noisy_copies(clean, None, rng, snr_db=(5.0, 15.0))):
        snr = 20 * np.log10(_rms(x) / _rms(y - x))
        assert 4.9 < snr < 15.1
    held = [np.random.default_rng(1).standard_normal(SR // 3).astype(np.float32)]  # shorter than a window: looped
    for noise_only in (noise_windows(10, SR, None, rng), noise_windows(10, SR, held, rng)):
        assert all(w.size == SR for w in noise_only)
        levels = [20 * np.log10(_rms(w)) for w in noise_only]
        assert -40.1 < min(levels) and max(levels) < -14.9
