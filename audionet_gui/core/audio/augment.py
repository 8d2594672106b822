"""Augmentation that keeps what a spectrogram means: nothing here flips or moves the frequency axis.

Audio domain (before the spectrogram): background noise at a random SNR, level change, circular time shift.
Image domain (on the spectrogram image): SpecAugment-style time and frequency masks and a time shift (a roll
along the image's width). Every function takes a ``numpy.random.Generator`` so augmentation is repeatable.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields

import numpy as np


@dataclass(frozen=True)
class AugmentConfig:
    # audio domain
    noise_probability: float = 0.8
    snr_db: tuple[float, float] = (0.0, 30.0)
    gain_db: tuple[float, float] = (-12.0, 6.0)
    max_shift_s: float = 0.5
    # image domain
    time_masks: int = 2
    freq_masks: int = 2
    max_time_mask: float = 0.12  # fraction of the image width per mask
    max_freq_mask: float = 0.12  # fraction of the image height per mask
    max_image_shift: float = 0.25  # fraction of the width

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> AugmentConfig:
        known = {f.name for f in fields(cls)}
        kw = {k: (tuple(v) if isinstance(v, list) else v) for k, v in d.items() if k in known}
        return cls(**kw)


# ---------------------------------------------------------------------------------------------- audio

def _rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(x, dtype=np.float64)))) if x.size else 0.0


def colored_noise(n: int, rng: np.random.Generator, color: str = "pink") -> np.ndarray:
    """Unit-RMS noise: "white" (flat), "pink" (1/f, like a room's hum and crowd) or "brown" (1/f^2, rumble)."""
    white = rng.standard_normal(n)
    if color != "white" and n > 1:
        spec = np.fft.rfft(white)
        f = np.arange(spec.size, dtype=np.float64)
        f[0] = 1.0
        spec /= np.sqrt(f) if color == "pink" else f
        white = np.fft.irfft(spec, n)
    r = _rms(white)
    return (white / r if r > 0 else white).astype(np.float32)


def add_noise(samples: np.ndarray, noise: np.ndarray, snr_db: float, rng: np.random.Generator | None = None) -> np.ndarray:
    """Mix ``noise`` under ``samples`` at the given signal-to-noise ratio (dB, by RMS).

    A noise clip shorter than the signal is tiled; a longer one is read from a random offset.
    """
    x = np.asarray(samples, dtype=np.float32)
    noise = np.asarray(noise, dtype=np.float32)
    if x.size == 0 or noise.size == 0:
        return x.copy()
    if noise.size < x.size:
        noise = np.tile(noise, int(np.ceil(x.size / noise.size)))
    start = 0
    if noise.size > x.size:
        start = int((rng or np.random.default_rng()).integers(0, noise.size - x.size + 1))
    noise = noise[start:start + x.size]
    sig, nrms = _rms(x), _rms(noise)
    if sig == 0 or nrms == 0:
        return x.copy()
    scale = sig / (nrms * 10 ** (snr_db / 20.0))
    return (x + scale * noise).astype(np.float32)


def change_gain(samples: np.ndarray, gain_db: float) -> np.ndarray:
    """Scale the level by ``gain_db``, clipping at full scale as a real recording chain would."""
    return np.clip(np.asarray(samples, dtype=np.float32) * np.float32(10 ** (gain_db / 20.0)), -1.0, 1.0)


def time_shift(samples: np.ndarray, shift: int) -> np.ndarray:
    """Circular shift by ``shift`` samples (windows are often tiled clips, so a roll stays natural)."""
    return np.roll(np.asarray(samples, dtype=np.float32), int(shift))


def augment_audio(samples: np.ndarray, sample_rate: int, rng: np.random.Generator,
                  cfg: AugmentConfig = AugmentConfig(), noise_bank: Sequence[np.ndarray] = ()) -> np.ndarray:
    """One random, plausible variant of a window: shifted, noisier, louder or quieter.

    ``noise_bank`` holds background recordings (e.g. a room's silence); without one, coloured noise is used.
    """
    x = np.asarray(samples, dtype=np.float32)
    max_shift = int(cfg.max_shift_s * sample_rate)
    if max_shift > 0 and x.size > 1:
        x = time_shift(x, int(rng.integers(-max_shift, max_shift + 1)))
    if rng.random() < cfg.noise_probability:
        if noise_bank:
            noise = noise_bank[int(rng.integers(len(noise_bank)))]
        else:
            noise = colored_noise(x.size, rng, ("white", "pink", "brown")[int(rng.integers(3))])
        x = add_noise(x, noise, float(rng.uniform(*cfg.snr_db)), rng)
    return change_gain(x, float(rng.uniform(*cfg.gain_db)))


# ---------------------------------------------------------------------------------------------- image

def _floor_colour(image: np.ndarray) -> np.ndarray:
    """The image's quietest colour (darkest pixel): what a masked band looks like as silence."""
    flat = image.reshape(-1, image.shape[-1])
    return flat[int(np.argmin(flat.astype(np.int32).sum(axis=1)))].copy()


def spec_augment(image: np.ndarray, rng: np.random.Generator, time_masks: int = 2, freq_masks: int = 2,
                 max_time: float = 0.12, max_freq: float = 0.12, fill: np.ndarray | None = None) -> np.ndarray:
    """SpecAugment masks on an (H, W, C) spectrogram image: vertical bands hide time, horizontal bands hide
    frequencies. Masks are painted with the image's silence colour so they look like a quiet gap."""
    out = np.array(image, copy=True)
    h, w = out.shape[:2]
    colour = _floor_colour(out) if fill is None else fill
    for _ in range(time_masks):
        width = int(rng.integers(0, max(1, int(max_time * w)) + 1))
        if width:
            x0 = int(rng.integers(0, w - width + 1))
            out[:, x0:x0 + width] = colour
    for _ in range(freq_masks):
        height = int(rng.integers(0, max(1, int(max_freq * h)) + 1))
        if height:
            y0 = int(rng.integers(0, h - height + 1))
            out[y0:y0 + height, :] = colour
    return out


def image_time_shift(image: np.ndarray, shift: int) -> np.ndarray:
    """Roll the image along its width (time); rows (frequencies) never move."""
    return np.roll(image, int(shift), axis=1)


def augment_image(image: np.ndarray, rng: np.random.Generator, cfg: AugmentConfig = AugmentConfig()) -> np.ndarray:
    """One random variant of a spectrogram image: time-shifted, with time and frequency masks."""
    img = np.asarray(image)
    w = img.shape[1]
    max_shift = int(cfg.max_image_shift * w)
    if max_shift > 0:
        img = image_time_shift(img, int(rng.integers(-max_shift, max_shift + 1)))
    return spec_augment(img, rng, cfg.time_masks, cfg.freq_masks, cfg.max_time_mask, cfg.max_freq_mask)


def augment_seed(seed: int, index: int, copy: int) -> np.random.Generator:
    """The generator for copy ``copy`` of item ``index``: the same inputs give the same augmented image."""
    return np.random.default_rng([int(seed), int(index), int(copy)])
