"""Screen-sized views of long signals: a waveform min/max envelope and a peak-pooled spectrogram.

An hour at 16 kHz is 57.6 M samples and 360 k spectrogram frames; a plot a thousand pixels wide needs a
thousand columns. Both classes keep a pyramid of coarser levels (each 4x coarser, built once off the GUI
thread), so any zoom is answered from the level closest to screen resolution at a cost bounded by the
number of pixels, not by the file length. Pooling keeps extremes (min/max, max), as Audacity and Sonic
Visualiser do, so a click or a short tone never vanishes from the overview.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

_FACTOR = 4          # each pyramid level is this much coarser than the one below
_ENVELOPE_BLOCK = 64  # samples per bucket of the first envelope level


def _ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def _pool(values: np.ndarray, size: int, reduce: Callable, axis: int) -> np.ndarray:
    """Reduce consecutive groups of ``size`` along ``axis`` (0 or 1); a ragged last group is reduced on its own.

    Works through about a million values at a time: one call over an hour of samples would hold the GIL (and
    so stall the GUI thread) for tens of milliseconds.
    """
    n = values.shape[axis]
    groups = _ceil_div(n, size)
    rows = values.shape[0] if axis == 1 else 1
    piece = max(1, (1 << 20) // (size * rows))
    out_shape = list(values.shape)
    out_shape[axis] = groups
    out = np.empty(out_shape, dtype=values.dtype)
    for g0 in range(0, groups, piece):
        g1 = min(g0 + piece, groups)
        a, b = g0 * size, min(g1 * size, n)
        chunk = values[a:b] if axis == 0 else values[:, a:b]
        whole = (b - a) // size * size
        head = chunk[:whole] if axis == 0 else chunk[:, :whole]
        shape = list(head.shape)
        shape[axis:axis + 1] = [whole // size, size]
        pooled = reduce(head.reshape(shape), axis=axis + 1)
        if whole < b - a:  # the ragged last group
            tail = chunk[whole:] if axis == 0 else chunk[:, whole:]
            pooled = np.concatenate([pooled, reduce(tail, axis=axis, keepdims=True)], axis=axis)
        if axis == 0:
            out[g0:g1] = pooled
        else:
            out[:, g0:g1] = pooled
    return out


@dataclass
class EnvelopeView:
    """Points to draw: ``x`` (s) and ``y`` alternate min/max per bucket (or are the samples themselves)."""

    x: np.ndarray
    y: np.ndarray


class WaveformEnvelope:
    """Min/max pyramid of a mono signal for drawing it at any zoom."""

    def __init__(self, samples: np.ndarray, sample_rate: int):
        self.samples = np.asarray(samples, dtype=np.float32)
        self.sample_rate = int(sample_rate)
        self._levels: list[tuple[int, np.ndarray, np.ndarray]] = []  # (samples per bucket, mins, maxs)
        if self.samples.size >= 2 * _ENVELOPE_BLOCK:
            block = _ENVELOPE_BLOCK
            mins = _pool(self.samples, block, np.min, 0)
            maxs = _pool(self.samples, block, np.max, 0)
            self._levels.append((block, mins, maxs))
            while mins.size > 2 * _FACTOR:
                block *= _FACTOR
                mins, maxs = _pool(mins, _FACTOR, np.min, 0), _pool(maxs, _FACTOR, np.max, 0)
                self._levels.append((block, mins, maxs))

    @property
    def duration_s(self) -> float:
        return self.samples.size / self.sample_rate

    @property
    def peak(self) -> float:
        """Largest absolute sample value (0 for an empty signal)."""
        if self._levels:
            _, mins, maxs = self._levels[-1]
            return float(max(-mins.min(), maxs.max()))
        return float(np.max(np.abs(self.samples))) if self.samples.size else 0.0

    def view(self, t0: float, t1: float, max_points: int = 2000) -> EnvelopeView:
        """What to draw between ``t0`` and ``t1`` seconds with at most about ``2 * max_points`` points."""
        sr, n = self.sample_rate, self.samples.size
        i0 = int(np.clip(np.floor(t0 * sr), 0, n))
        i1 = int(np.clip(np.ceil(t1 * sr), i0, n))
        if i1 - i0 <= max_points:
            return EnvelopeView(np.arange(i0, i1) / sr, self.samples[i0:i1].copy())
        bucket = (i1 - i0) / max_points
        # the coarsest level still at least as fine as the bucket we want
        source_block, mins, maxs = 1, self.samples, self.samples
        for block, lmins, lmaxs in self._levels:
            if block <= bucket:
                source_block, mins, maxs = block, lmins, lmaxs
        group = max(1, int(np.ceil(bucket / source_block)))  # never more points than asked for
        b0 = i0 // source_block // group * group  # a fixed bucket grid: panning does not make the trace jitter
        b1 = _ceil_div(i1, source_block)
        mins = _pool(mins[b0:b1], group, np.min, 0)
        maxs = _pool(maxs[b0:b1], group, np.max, 0)
        starts = (b0 + np.arange(mins.size) * group) * source_block / sr
        width = group * source_block / sr
        x = np.repeat(starts, 2)
        x[1::2] += width / 2  # min then max within each bucket reads as a vertical stroke
        y = np.empty(2 * mins.size, dtype=np.float32)
        y[0::2], y[1::2] = mins, maxs
        return EnvelopeView(x, y)


@dataclass
class SpectrogramTile:
    """dB values to show as one image: (bins, columns), covering ``t0``..``t1`` seconds (cell edges)."""

    values_db: np.ndarray
    t0: float
    t1: float


class SpectrogramOverview:
    """Max-pooled pyramid over the frames of a (bins, frames) dB array, for drawing it at any zoom."""

    def __init__(self, values_db: np.ndarray, frame_s: float, first_frame_s: float = 0.0):
        self.frame_s = float(frame_s)
        # frame k's cell spans first_frame_s + (k - 0.5 .. k + 0.5) * frame_s
        self.origin_s = float(first_frame_s) - self.frame_s / 2
        self._levels: list[tuple[int, np.ndarray]] = [(1, values_db)]
        frames, values = 1, values_db
        while values.shape[1] > 2048:
            frames *= _FACTOR
            values = _pool(values, _FACTOR, np.max, 1)
            self._levels.append((frames, values))

    @property
    def n_frames(self) -> int:
        return self._levels[0][1].shape[1]

    @property
    def end_s(self) -> float:
        return self.origin_s + self.n_frames * self.frame_s

    def tile(self, t0: float, t1: float, max_columns: int = 2000) -> SpectrogramTile:
        """The frames between ``t0`` and ``t1`` seconds, pooled to at most about ``max_columns`` columns."""
        n = self.n_frames
        k0 = int(np.clip(np.floor((t0 - self.origin_s) / self.frame_s), 0, max(n - 1, 0)))
        k1 = int(np.clip(np.ceil((t1 - self.origin_s) / self.frame_s), k0 + 1, n))
        want = (k1 - k0) / max_columns
        source_frames, values = 1, self._levels[0][1]
        for frames, level in self._levels:
            if frames <= want:
                source_frames, values = frames, level
        group = max(1, int(np.ceil(want / source_frames)))  # never more columns than asked for
        # columns on a grid fixed by the group size, so panning does not make the image shimmer
        c0 = k0 // source_frames // group * group
        c1 = _ceil_div(k1, source_frames)
        c1 = min(_ceil_div(c1, group) * group, values.shape[1])
        pooled = _pool(values[:, c0:c1], group, np.max, 1) if group > 1 else values[:, c0:c1]
        span = group * source_frames * self.frame_s  # every column drawn this wide (a ragged last one too)
        t_first = self.origin_s + c0 * source_frames * self.frame_s
        return SpectrogramTile(np.ascontiguousarray(pooled), t_first, t_first + pooled.shape[1] * span)
