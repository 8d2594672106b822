"""Test-time listening conditions for the robustness report: noise at a given SNR, another room, a cheap microphone.

These model the *test* side and are built differently from the training augmentation on purpose (synthetic
exponential-decay room responses here, simulated rooms there; a fixed telephone band here, random filters there),
so a model is never scored on the very transformations it was trained with. Pure numpy; every function that draws
takes a ``numpy.random.Generator``.
"""

from __future__ import annotations

import numpy as np

from audionet_gui.core.audio.augment import add_noise


def with_noise(samples: np.ndarray, noise: np.ndarray, snr_db: float, rng: np.random.Generator) -> np.ndarray:
    """``noise`` (from a random offset, looped when short) under ``samples`` at ``snr_db`` (RMS)."""
    return add_noise(samples, noise, snr_db, rng)


def synthetic_room_response(sample_rate: int, rng: np.random.Generator, rt60_s: float = 0.6,
                            direct_to_reverb_db: float = 0.0) -> np.ndarray:
    """A room impulse response: a direct path, then exponentially decaying noise (RT60 ``rt60_s``) whose high
    frequencies die faster, as in a furnished room."""
    n = max(8, int(rt60_s * 1.2 * sample_rate))
    t = np.arange(n) / sample_rate
    tail = rng.standard_normal(n) * np.exp(-6.9078 * t / rt60_s)  # -60 dB at rt60
    # crude frequency-dependent damping: a one-pole low-pass whose pole moves towards 1 along the tail
    smooth = np.empty_like(tail)
    acc = 0.0
    for i, (x, a) in enumerate(zip(tail, np.linspace(0.1, 0.7, n))):
        acc = a * acc + (1 - a) * x
        smooth[i] = acc
    smooth[: int(0.003 * sample_rate)] = 0.0  # the first reflection arrives a few ms after the direct sound
    energy = float(np.sum(smooth ** 2)) or 1.0
    smooth *= np.sqrt(10 ** (-direct_to_reverb_db / 10) / energy)
    smooth[0] += 1.0
    return (smooth / np.max(np.abs(smooth))).astype(np.float32)


def with_room(samples: np.ndarray, sample_rate: int, rng: np.random.Generator, rt60_s: float = 0.6) -> np.ndarray:
    rir = synthetic_room_response(sample_rate, rng, rt60_s)
    n = samples.size + rir.size - 1
    size = 1 << (n - 1).bit_length()
    wet = np.fft.irfft(np.fft.rfft(samples, size) * np.fft.rfft(rir, size), size)[: samples.size]
    peak_in, peak_out = float(np.max(np.abs(samples)) or 1.0), float(np.max(np.abs(wet)) or 1.0)
    return (wet * (peak_in / peak_out)).astype(np.float32)


def band_limit(samples: np.ndarray, sample_rate: int, low_hz: float, high_hz: float) -> np.ndarray:
    """Brick-wall band-pass in the frequency domain with 100 Hz raised-cosine edges."""
    spec = np.fft.rfft(samples)
    f = np.fft.rfftfreq(samples.size, 1 / sample_rate)
    edge = 100.0
    gain = np.clip((f - (low_hz - edge)) / edge, 0, 1) * np.clip(((high_hz + edge) - f) / edge, 0, 1)
    gain = 0.5 - 0.5 * np.cos(np.pi * gain)
    return np.fft.irfft(spec * gain, samples.size).astype(np.float32)


def with_cheap_microphone(samples: np.ndarray, sample_rate: int, rng: np.random.Generator,
                          low_hz: float = 300.0, high_hz: float = 3400.0, level_db: float = -20.0,
                          hiss_snr_db: float = 30.0) -> np.ndarray:
    """A telephone-band microphone far from the mouth: 300-3400 Hz, quiet, a little self-noise, soft clipping of
    the rare peaks."""
    out = band_limit(samples, sample_rate, low_hz, min(high_hz, sample_rate / 2 - 1))
    peak = float(np.max(np.abs(out))) or 1.0
    out = out / peak * 10 ** (level_db / 20)
    out = add_noise(out, rng.standard_normal(out.size).astype(np.float32), hiss_snr_db)
    return np.tanh(out * 1.5).astype(np.float32) / np.float32(np.tanh(1.5))
