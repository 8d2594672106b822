"""Spectrogram columns of a live stream, computed incrementally for a scrolling display.

Uses ``compute_spectrogram`` with the model's own ``SpectrogramConfig``, so the display shows the same bands and
levels the CNN is given. Each ``push(samples)`` returns the columns that became complete: frame ``j`` is centred
on stream sample ``j * hop_length`` exactly as in an offline spectrogram of the whole stream (minus the first few
frames, which would need the reflect padding of the stream's start).
"""

from __future__ import annotations

import numpy as np

from audionet_gui.core.audio.spectrogram import SpectrogramConfig, compute_spectrogram


class LiveSpectrogram:
    def __init__(self, cfg: SpectrogramConfig):
        self.cfg = cfg
        self._half = cfg.n_fft // 2
        hop = cfg.hop_length
        # frames of a segment start one centre per hop from its first sample; keep whole hops of left context
        self._lead_frames = -(-self._half // hop)
        self._lead = self._lead_frames * hop
        self._buf = np.zeros(0, dtype=np.float32)
        self._buf_start = 0                 # stream index of _buf[0]
        self._next_centre = self._lead      # stream index of the next column's centre
        self.columns_emitted = 0
        self.freqs_hz = compute_spectrogram(np.zeros(cfg.n_fft, dtype=np.float32), cfg).freqs_hz

    @property
    def n_bins(self) -> int:
        return len(self.freqs_hz)

    @property
    def next_column_time_s(self) -> float:
        return self._next_centre / self.cfg.sample_rate

    def push(self, samples: np.ndarray) -> tuple[np.ndarray, float]:
        """Append samples; return ``(columns_db, t0_s)``: (bins, k) dB values (k may be 0) and the stream time of
        the first returned column's centre."""
        x = np.asarray(samples, dtype=np.float32).reshape(-1)
        if x.size:
            self._buf = np.concatenate([self._buf, x]) if self._buf.size else x.copy()
        hop = self.cfg.hop_length
        end = self._buf_start + self._buf.size
        # columns whose whole frame (centre +- n_fft/2) has arrived
        last_centre = end - self._half
        t0 = self._next_centre / self.cfg.sample_rate
        if last_centre < self._next_centre:
            return np.zeros((self.n_bins, 0), dtype=np.float32), t0
        count = (last_centre - self._next_centre) // hop + 1
        seg_start = self._next_centre - self._lead
        seg_end = self._next_centre + (count - 1) * hop + self._half
        seg = self._buf[seg_start - self._buf_start: seg_end - self._buf_start]
        spec = compute_spectrogram(seg, self.cfg).values_db
        columns = spec[:, self._lead_frames: self._lead_frames + count]
        self._next_centre += count * hop
        self.columns_emitted += count
        # keep only the left context the next column needs
        keep_from = self._next_centre - self._lead
        drop = keep_from - self._buf_start
        if drop > 0:
            self._buf = self._buf[drop:]
            self._buf_start = keep_from
        return np.ascontiguousarray(columns), t0
