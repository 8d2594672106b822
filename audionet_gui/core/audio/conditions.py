"""Test-time listening conditions for the robustness report: noise at a given SNR, another room, a cheap microphone.

These model the *test* side and are built differently from the training augmentation on purpose (synthetic
exponential-decay room responses here, simulated rooms there; a fixed telephone band here, random filters there),
so a model is never scored on the very transformations it was trained with. Pure numpy; every function that draws
takes a ``numpy.random.Generator``.

``test_noises`` makes the held-back test noises (fan, traffic, rain, babble, mains hum): they are generated here
for scoring only and are NEVER used for training or augmentation (augmentation draws from core/audio/augment.py,
the bundled noise library and the user's noise folder), so a noise condition always measures noise the model
has not heard.
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


# ------------------------------------------------------------------------------------------- held-back test noises
# Generated for the robustness report and the bench only; never used to train or augment a model.

def _band(x: np.ndarray, lo: float, hi: float, sr: int) -> np.ndarray:
    spec = np.fft.rfft(x)
    f = np.fft.rfftfreq(x.size, 1 / sr)
    spec[(f < lo) | (f > hi)] = 0
    return np.fft.irfft(spec, x.size)


def fan_noise(n: int, rng: np.random.Generator, sr: int) -> np.ndarray:
    """A fan: a motor hum at 120/240/360 Hz over band-limited air, slowly swelling."""
    t = np.arange(n) / sr
    hum = sum(np.sin(2 * np.pi * f * t + rng.random() * 6) / k for k, f in enumerate((120, 240, 360), start=1))
    air = _band(rng.standard_normal(n), 50, 1500, sr)
    return (0.4 * hum / np.std(hum) + air / np.std(air)) * (1 + 0.1 * np.sin(2 * np.pi * 0.7 * t))


def traffic_noise(n: int, rng: np.random.Generator, sr: int) -> np.ndarray:
    """Traffic: low rumble with cars passing (slow swells)."""
    t = np.arange(n) / sr
    rumble = _band(np.cumsum(rng.standard_normal(n)), 20, 800, sr)
    cars = sum(np.exp(-((t - c) / 1.2) ** 2) for c in rng.uniform(0, t[-1] + 1, size=max(1, n // (4 * sr))))
    return rumble / np.std(rumble) * (0.3 + cars)


def rain_noise(n: int, rng: np.random.Generator, sr: int) -> np.ndarray:
    """Rain: high hiss with random drops."""
    hiss = _band(rng.standard_normal(n), 1500, sr / 2, sr)
    drops = np.zeros(n)
    idx = rng.integers(0, n, size=n // 200)
    drops[idx] = rng.standard_normal(idx.size) * 6
    drops = np.convolve(drops, np.exp(-np.arange(40) / 6.0), mode="same")
    return hiss / np.std(hiss) + drops


def babble_noise(n: int, rng: np.random.Generator, sr: int, talkers: int = 6) -> np.ndarray:
    """Crowd-like babble: several "talkers", each a glottal pulse train (100-250 Hz, drifting pitch) through two
    formant resonances that move every syllable (~0.2 s), switched on and off at a syllable rate. No real speech,
    so no speaker of the model can hide in it."""
    t = np.arange(n) / sr
    out = np.zeros(n)
    syllable = max(1, int(0.2 * sr))
    f = np.fft.rfftfreq(syllable * 2, 1 / sr)
    for _ in range(talkers):
        f0 = rng.uniform(100, 250) * (1 + 0.05 * np.sin(2 * np.pi * rng.uniform(0.2, 1.0) * t))
        pulses = np.sign(np.sin(2 * np.pi * np.cumsum(f0) / sr)) + 0.3 * rng.standard_normal(n)
        voice = np.zeros(n)
        for start in range(0, n, syllable):
            seg = pulses[start:start + syllable]
            f1, f2 = rng.uniform(300, 900), rng.uniform(900, min(2500, sr / 2 - 200))
            gain = np.exp(-((f - f1) / 120) ** 2) + 0.6 * np.exp(-((f - f2) / 180) ** 2)
            spec = np.fft.rfft(seg, syllable * 2) * gain
            voice[start:start + seg.size] = np.fft.irfft(spec, syllable * 2)[:seg.size] * np.hanning(seg.size)
        envelope = np.repeat(rng.random(n // syllable + 1) > 0.3, syllable)[:n].astype(float)
        out += voice / (np.std(voice) or 1.0) * envelope
    return out


def hum_noise(n: int, rng: np.random.Generator, sr: int, mains_hz: float | None = None) -> np.ndarray:
    """Electrical hum: mains (50 or 60 Hz) with odd and even harmonics up to ~1 kHz and a little hiss."""
    t = np.arange(n) / sr
    base = mains_hz or float(rng.choice([50.0, 60.0]))
    hum = sum(np.sin(2 * np.pi * base * k * t + rng.random() * 6) / k ** 0.7
              for k in range(1, int(min(1000, sr / 2 - 1) // base) + 1))
    return hum / np.std(hum) + 0.05 * rng.standard_normal(n)


TEST_NOISE_MAKERS = {"fan": fan_noise, "traffic": traffic_noise, "rain": rain_noise, "babble": babble_noise,
                     "hum": hum_noise}


def _unit_rms(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, np.float64)
    r = float(np.sqrt(np.mean(x ** 2))) if x.size else 0.0
    return (x / r if r > 0 else x).astype(np.float32)


def test_noises(sample_rate: int, seed: int = 0, seconds: float = 6.0) -> dict[str, np.ndarray]:
    """The held-back test noises by name (fan, traffic, rain, babble, hum), ``seconds`` long each at
    ``sample_rate``, unit RMS, the same for the same seed. For testing only: never train or augment with them."""
    n = max(1, int(seconds * sample_rate))
    return {name: _unit_rms(make(n, np.random.default_rng([seed, i]), sample_rate))
            for i, (name, make) in enumerate(TEST_NOISE_MAKERS.items())}


test_noises.__test__ = False  # a name pytest would otherwise collect wherever it is imported
