"""Augmentation that keeps what a spectrogram means: nothing here flips or moves the frequency axis.

Audio domain (before the spectrogram), in the order sound takes: circular time shift, a room (reverberation by
a simulated room impulse response), background noise at a random SNR, babble (other talkers at a low level),
a microphone (random band limits and spectral tilt) and the level. Image domain (on the spectrogram image):
SpecAugment-style time and frequency masks and a time shift (a roll along the image's width). Every function
takes a ``numpy.random.Generator`` so augmentation is repeatable.

Library or own code (measured here on 2 s windows at 16 kHz, 2 shared cores):
- Rooms: pyroomacoustics (the established image-source simulator) makes a small bank of impulse responses
  per seed (``simulate_rooms``), saved once and convolved by FFT here. audiomentations' RoomSimulator simulates
  a new room for every call: 300 ms per window against about 2 ms for a convolution with a banked response.
- Microphone, level and noise mixing: own numpy code. audiomentations' BandPassFilter + Low/HighShelfFilter
  take 3.4 ms per window against 2.8 ms for ``mic_response``, but importing audiomentations costs 1.5 s in
  every conversion process, it draws its random parameters from the global ``random``/``numpy.random``
  state (not repeatable per window without reseeding the process's globals) and it imports librosa, which
  the packaged app leaves out. A low-bitrate codec (audiomentations' Mp3Compression) needs an MP3 encoder
  per window (lameenc or ffmpeg): not cheap, left out.
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
    # rooms, other talkers and microphones (audio domain; used when the caller gives rooms / babble)
    room_probability: float = 0.5
    mic_probability: float = 0.6
    low_cut_hz: tuple[float, float] = (50.0, 400.0)      # a microphone's lower band edge (log-uniform)
    high_cut_hz: tuple[float, float] = (2500.0, 8000.0)  # its upper band edge (log-uniform, below Nyquist)
    tilt_db_per_octave: tuple[float, float] = (-3.0, 3.0)
    babble_probability: float = 0.3
    babble_snr_db: tuple[float, float] = (5.0, 20.0)
    babble_talkers: tuple[int, int] = (3, 6)

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


def add_noise(samples: np.ndarray, noise: np.ndarray, snr_db: float,
              rng: np.random.Generator | None = None) -> np.ndarray:
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


def reverberate(samples: np.ndarray, rir: np.ndarray) -> np.ndarray:
    """``samples`` heard through a room: convolved with its impulse response, aligned on the direct sound
    (so the window keeps its timing) and at the input's RMS level."""
    x = np.asarray(samples, dtype=np.float32)
    h = np.asarray(rir, dtype=np.float64)
    if x.size == 0 or h.size == 0 or not np.any(h):
        return x.copy()
    delay = int(np.argmax(np.abs(h)))
    n = 1 << int(np.ceil(np.log2(x.size + h.size)))
    y = np.fft.irfft(np.fft.rfft(x, n) * np.fft.rfft(h, n), n)[delay:delay + x.size]
    before, after = _rms(x), _rms(y)
    return (y * (before / after) if after > 0 else y).astype(np.float32)


def mic_response(samples: np.ndarray, sample_rate: int, low_hz: float, high_hz: float, tilt_db_per_octave: float,
                 order: int = 4) -> np.ndarray:
    """A microphone and its amplifier as a zero-phase filter: Butterworth-shaped band edges at ``low_hz`` and
    ``high_hz`` (slopes of ``order`` x 6 dB per octave) and a spectral tilt around 1 kHz, at the input's RMS."""
    x = np.asarray(samples, dtype=np.float32)
    if x.size < 2:
        return x.copy()
    f = np.fft.rfftfreq(x.size, 1.0 / sample_rate)
    fz = np.maximum(f, 1.0)
    gain = 1.0 / np.sqrt(1.0 + (low_hz / fz) ** (2 * order))
    gain /= np.sqrt(1.0 + (fz / high_hz) ** (2 * order))
    gain *= (np.maximum(fz, 50.0) / 1000.0) ** (tilt_db_per_octave / (20 * np.log10(2)))
    y = np.fft.irfft(np.fft.rfft(x) * gain, x.size)
    before, after = _rms(x), _rms(y)
    return (y * (before / after) if after > 0 else y).astype(np.float32)


def random_mic(samples: np.ndarray, sample_rate: int, rng: np.random.Generator,
               cfg: AugmentConfig = AugmentConfig()) -> np.ndarray:
    """A random microphone: band edges log-uniform in ``cfg.low_cut_hz`` / ``cfg.high_cut_hz``, a tilt."""
    low = float(np.exp(rng.uniform(*np.log(cfg.low_cut_hz))))
    high = float(np.exp(rng.uniform(*np.log(cfg.high_cut_hz))))
    high = min(high, 0.45 * sample_rate)
    return mic_response(samples, sample_rate, low, max(high, 2 * low), float(rng.uniform(*cfg.tilt_db_per_octave)),
                        order=int(rng.integers(2, 7)))


def babble(pool: Sequence[np.ndarray], n: int, rng: np.random.Generator,
           talkers: tuple[int, int] = (3, 6)) -> np.ndarray:
    """Several other people talking at once: ``talkers`` recordings from ``pool`` (each at a random offset,
    tiled when short) at equal level, summed; unit RMS (silence if the pool is empty)."""
    out = np.zeros(n, dtype=np.float64)
    usable = [p for p in pool if p.size and _rms(p) > 0]
    if not usable or n == 0:
        return out.astype(np.float32)
    for _ in range(int(rng.integers(talkers[0], talkers[1] + 1))):
        voice = np.asarray(usable[int(rng.integers(len(usable)))], dtype=np.float64)
        if voice.size < n:
            voice = np.tile(voice, int(np.ceil(n / voice.size)) + 1)
        start = int(rng.integers(0, voice.size - n + 1))
        part = voice[start:start + n]
        r = _rms(part)
        out += part / r if r > 0 else part
    r = _rms(out)
    return (out / r if r > 0 else out).astype(np.float32)


def augment_audio(samples: np.ndarray, sample_rate: int, rng: np.random.Generator,
                  cfg: AugmentConfig = AugmentConfig(), noise_bank: Sequence[np.ndarray] = (),
                  rooms: Sequence[np.ndarray] = (), babble_pool: Sequence[np.ndarray] = (),
                  mic: bool = False) -> np.ndarray:
    """One random, plausible variant of a window: shifted, in a room, noisier, with other talkers, through
    another microphone, louder or quieter.

    ``noise_bank`` holds background recordings (e.g. a room's silence); without one, coloured noise is used.
    ``rooms`` holds room impulse responses (``simulate_rooms``), ``babble_pool`` other classes' speech; each
    step happens only when given (``mic``: when true) and then with its probability in ``cfg``.
    """
    x = np.asarray(samples, dtype=np.float32)
    max_shift = int(cfg.max_shift_s * sample_rate)
    if max_shift > 0 and x.size > 1:
        x = time_shift(x, int(rng.integers(-max_shift, max_shift + 1)))
    if rooms and rng.random() < cfg.room_probability:
        x = reverberate(x, rooms[int(rng.integers(len(rooms)))])
    if rng.random() < cfg.noise_probability:
        if noise_bank:
            noise = noise_bank[int(rng.integers(len(noise_bank)))]
        else:
            noise = colored_noise(x.size, rng, ("white", "pink", "brown")[int(rng.integers(3))])
        x = add_noise(x, noise, float(rng.uniform(*cfg.snr_db)), rng)
    if babble_pool and rng.random() < cfg.babble_probability:
        x = add_noise(x, babble(babble_pool, x.size, rng, cfg.babble_talkers), float(rng.uniform(*cfg.babble_snr_db)),
                      rng)
    if mic and rng.random() < cfg.mic_probability:
        x = random_mic(x, sample_rate, rng, cfg)
    return change_gain(x, float(rng.uniform(*cfg.gain_db)))


ROOM_SIZE_M = ((3.0, 10.0), (2.5, 8.0), (2.4, 3.5))  # length, width, height of the simulated rooms
ROOM_MAX_ORDER = 60  # image-source reflections; more adds seconds per room for a tail already 60 dB down
ROOM_MAX_S = 1.0     # impulse responses are cut here


def simulate_rooms(seed: int, sample_rate: int, count: int = 8,
                   rt60_s: tuple[float, float] = (0.2, 0.9)) -> list[np.ndarray]:
    """``count`` room impulse responses, the same for the same arguments: shoebox rooms of random size and
    reverberation time (``rt60_s``), talker and microphone 0.5-3 m apart, by pyroomacoustics' image-source
    method (about 0.1-3 s per room). Each is cut at ``ROOM_MAX_S`` and scaled to a direct-sound peak of 1."""
    import pyroomacoustics as pra  # noqa: PLC0415 - 1.5-3 s to import (scipy); only when rooms are simulated

    rng = np.random.default_rng([int(seed), 0x524F4F4D])  # "ROOM": rooms do not follow the windows' draws
    out = []
    while len(out) < count:
        dims = np.array([rng.uniform(*r) for r in ROOM_SIZE_M])
        rt60 = float(rng.uniform(*rt60_s))
        try:
            absorption, max_order = pra.inverse_sabine(rt60, dims)
        except ValueError:  # this room cannot be that reverberant or that dry: draw another
            continue
        room = pra.ShoeBox(dims, fs=sample_rate, materials=pra.Material(absorption),
                           max_order=int(min(max_order, ROOM_MAX_ORDER)))
        talker = rng.uniform(0.5, dims - 0.5)
        direction = rng.normal(size=3)
        direction[2] *= 0.2
        mic = np.clip(talker + direction / np.linalg.norm(direction) * rng.uniform(0.5, 3.0), 0.3, dims - 0.3)
        room.add_source(talker)
        room.add_microphone(mic)
        room.compute_rir()
        h = np.asarray(room.rir[0][0], dtype=np.float64)[: int(ROOM_MAX_S * sample_rate)]
        peak = float(np.max(np.abs(h)))
        if peak > 0:
            out.append((h / peak).astype(np.float32))
    return out


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
