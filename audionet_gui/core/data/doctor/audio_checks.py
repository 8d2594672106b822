"""What the doctor measures in one file, in one streaming pass over its decoded samples: format, length,
clipping, loudness, and a compact fingerprint of the sound (for duplicates that are not byte-identical)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soxr

from audionet_gui.core.audio.files import audio_info, iter_audio_blocks
from audionet_gui.core.base.errors import EmptyFileError, InvalidSamplesError

FINGERPRINT_RATE = 8000      # duplicates are compared below 4 kHz: what survives any re-encoding or resampling
FRAME, HOP = 256, 80         # 32 ms frames every 10 ms at FINGERPRINT_RATE
BANDS = 16
SHAPE_STEPS = 32             # the fingerprint: the band-energy envelope of the trimmed sound in 32 time steps
TRIM_DB = -30.0              # leading/trailing frames this far under the loudest are trimmed (encoder padding)
MAX_FINGERPRINT_S = 600.0    # an hour-long file is fingerprinted by its first ten minutes
LEVEL_BLOCK_S = 0.5          # loudness is the RMS of the loudest half second
CLIP_RUN = 3                 # clipping: at least this many consecutive samples stuck at the peak
CLIP_TOLERANCE = 1e-4        # relative: "at the peak" (a clipped stretch is flat to the last bit)


@dataclass
class FileFacts:
    path: Path
    label: str
    sample_rate: int
    channels: int
    duration_s: float
    peak: float
    clipped_samples: int
    samples: int
    loudest_db: float            # RMS of the loudest LEVEL_BLOCK_S, dB full scale
    trim: tuple[int, int]        # first and last+1 sample at FINGERPRINT_RATE of the trimmed sound
    fingerprint: np.ndarray | None  # unit vector, None for silence

    @property
    def active_s(self) -> float:
        return (self.trim[1] - self.trim[0]) / FINGERPRINT_RATE

    @property
    def clipped_fraction(self) -> float:
        return self.clipped_samples / max(self.samples, 1)


def _band_edges() -> np.ndarray:
    freqs = np.fft.rfftfreq(FRAME, 1 / FINGERPRINT_RATE)
    edges_hz = np.geomspace(100.0, FINGERPRINT_RATE / 2, BANDS + 1)
    return np.searchsorted(freqs, edges_hz)


_EDGES = _band_edges()
_WINDOW = np.hanning(FRAME).astype(np.float32)


def band_energies(signal: np.ndarray) -> np.ndarray:
    """(frames, BANDS) power per band of a FINGERPRINT_RATE signal."""
    if signal.size < FRAME:
        signal = np.pad(signal, (0, FRAME - signal.size))
    n = 1 + (signal.size - FRAME) // HOP
    idx = np.arange(FRAME)[None, :] + HOP * np.arange(n)[:, None]
    power = np.abs(np.fft.rfft(signal[idx] * _WINDOW, axis=1)) ** 2
    cums = np.concatenate([np.zeros((n, 1)), np.cumsum(power, axis=1)], axis=1)
    return (cums[:, _EDGES[1:]] - cums[:, _EDGES[:-1]]).astype(np.float32)


def trimmed_range(energies: np.ndarray) -> tuple[int, int] | None:
    """First and last+1 frame louder than TRIM_DB under the loudest frame (None: no sound at all)."""
    total = energies.sum(axis=1)
    top = float(total.max()) if total.size else 0.0
    if top <= 1e-12:
        return None
    active = np.flatnonzero(total >= top * 10 ** (TRIM_DB / 10))
    return int(active[0]), int(active[-1]) + 1


def fingerprint(energies: np.ndarray) -> np.ndarray:
    """Gain-independent shape of the band envelope: log energies (floored 40 dB under the loudest, where lossy
    codecs throw detail away) pooled into SHAPE_STEPS time steps, centred, unit length."""
    floor = float(energies.max()) * 1e-4 + 1e-12
    logs = np.log10(energies + floor)
    steps = np.array_split(logs, min(SHAPE_STEPS, len(logs)), axis=0)
    pooled = np.stack([s.mean(axis=0) for s in steps])
    if len(pooled) < SHAPE_STEPS:  # very short sounds: repeat the last step (their lengths are compared anyway)
        pooled = np.concatenate([pooled, np.repeat(pooled[-1:], SHAPE_STEPS - len(pooled), axis=0)])
    vec = (pooled - pooled.mean()).ravel().astype(np.float32)
    norm = float(np.linalg.norm(vec))
    return vec / norm if norm > 0 else vec


def _clipped_in(block: np.ndarray, level: float) -> int:
    """Samples of ``block`` in runs of at least CLIP_RUN consecutive samples at ``level`` (in magnitude)."""
    at = np.abs(block) >= level
    if not at.any():
        return 0
    padded = np.concatenate([[False], at, [False]])
    edges = np.flatnonzero(np.diff(padded.astype(np.int8)))
    lengths = edges[1::2] - edges[0::2]
    return int(lengths[lengths >= CLIP_RUN].sum())


def fingerprint_signal(path: Path, native_rate: int, max_s: float = MAX_FINGERPRINT_S) -> np.ndarray:
    """The file as mono FINGERPRINT_RATE samples (at most ``max_s`` seconds)."""
    parts, total, limit = [], 0, int(max_s * FINGERPRINT_RATE)
    stream = soxr.ResampleStream(native_rate, FINGERPRINT_RATE, 1, dtype="float32", quality="HQ")
    for block in iter_audio_blocks(path, native_rate):
        out = stream.resample_chunk(block)
        parts.append(out)
        total += out.size
        if total >= limit:
            break
    else:
        parts.append(stream.resample_chunk(np.zeros(0, np.float32), last=True))
    signal = np.concatenate(parts) if parts else np.zeros(0, np.float32)
    return signal[:limit]


def analyse_file(path: Path, label: str) -> FileFacts:
    """Every measurement of one file. Raises ``AudioFileError`` (naming the file and why) when it cannot be read."""
    info = audio_info(path)
    rate = info.sample_rate or FINGERPRINT_RATE
    stream = soxr.ResampleStream(rate, FINGERPRINT_RATE, 1, dtype="float32", quality="HQ")
    level_block = max(1, int(LEVEL_BLOCK_S * rate))
    limit = int(MAX_FINGERPRINT_S * FINGERPRINT_RATE)
    peaks: list[tuple[float, int]] = []  # per block: its peak and its samples stuck at that peak
    low: list[np.ndarray] = []
    kept = 0
    samples = 0
    loudest = 0.0
    for block in iter_audio_blocks(path, rate):
        if not np.isfinite(block).all():
            raise InvalidSamplesError(path, "contains invalid samples (NaN or infinity)")
        samples += block.size
        peak = float(np.max(np.abs(block))) if block.size else 0.0
        peaks.append((peak, _clipped_in(block, peak * (1 - CLIP_TOLERANCE)) if peak > 0 else 0))
        usable = block[: block.size - block.size % level_block] if block.size >= level_block else block
        if usable.size:
            rms = np.sqrt(np.mean(usable.reshape(-1, min(level_block, usable.size)) ** 2, axis=1))
            loudest = max(loudest, float(rms.max()))
        if kept < limit:
            out = stream.resample_chunk(block)
            low.append(out)
            kept += out.size
    if kept < limit:
        low.append(stream.resample_chunk(np.zeros(0, np.float32), last=True))
    if samples == 0:
        raise EmptyFileError(path, "contains no audio samples")
    peak = max(p for p, _ in peaks)
    clipped = sum(n for p, n in peaks if peak > 0 and p >= peak * (1 - CLIP_TOLERANCE))
    signal = np.concatenate(low)[:limit] if low else np.zeros(0, np.float32)
    energies = band_energies(signal)
    frames = trimmed_range(energies)
    if frames is None:
        trim, fp = (0, 0), None
    else:
        trim = (frames[0] * HOP, min(signal.size, (frames[1] - 1) * HOP + FRAME))
        fp = fingerprint(energies[frames[0]:frames[1]])
    loudest_db = 20 * np.log10(max(loudest, 1e-10))
    return FileFacts(path, label, int(info.sample_rate), int(info.channels), samples / rate, peak, clipped,
                     samples, float(loudest_db), trim, fp)
