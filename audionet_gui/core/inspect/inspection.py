"""What the spectrogram inspector shows for one file, without Qt.

``inspect_file`` decodes a file and computes everything the inspector draws: the samples, the full-file
spectrogram (dB re full scale, the same ``compute_spectrogram`` training uses, computed in chunks so an hour
needs no more memory than its result), screen-sized overviews of both, and the list of windows exactly as
training cuts them. The rest are the small questions the UI asks: which window is at this time, what is the
level at (t, f), where to put frequency ticks, and the CSV/PNG exports (atomic).
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from audionet_gui.core.audio.files import audio_info, iter_audio_blocks, validate_samples
from audionet_gui.core.audio.spectrogram import (
    Spectrogram,
    SpectrogramConfig,
    compute_spectrogram,
    save_png,
    spectrogram_image,
)
from audionet_gui.core.audio.windows import Window, WindowConfig, cut_windows
from audionet_gui.core.base.errors import AudioFileError, NotAudioError
from audionet_gui.core.base.fsutil import atomic_path
from audionet_gui.core.base.jobs import CancelToken, ProgressCallback, ProgressTracker, ensure_token
from audionet_gui.core.inspect.overview import SpectrogramOverview, WaveformEnvelope

PathLike = str | Path
PITCH_CLASSES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")
# frames per spectrogram chunk (20 s at a 10 ms hop): each numpy call stays short, so the GUI thread
# gets the GIL within a few ms while an hour is computed
_CHUNK_FRAMES = 2000


@dataclass
class SpectrogramDisplay:
    """A full-file spectrogram with the config that made it and its zoomable overview."""

    spectrogram: Spectrogram
    config: SpectrogramConfig
    overview: SpectrogramOverview

    @property
    def frame_s(self) -> float:
        return self.config.hop_length / self.config.sample_rate


@dataclass
class FileInspection:
    """Everything the inspector draws for one file."""

    path: str
    samples: np.ndarray
    sample_rate: int
    envelope: WaveformEnvelope
    display: SpectrogramDisplay
    windows: list[Window]
    window_config: WindowConfig

    @property
    def duration_s(self) -> float:
        return self.samples.size / self.sample_rate

    @property
    def spectrogram(self) -> Spectrogram:
        return self.display.spectrogram


@dataclass(frozen=True)
class Readout:
    """The level under the cursor: cursor time and frequency, and the spectrogram cell they fall in."""

    time_s: float
    freq_hz: float       # cursor frequency (pitch-class index for chroma)
    db: float
    frame: int
    bin: int
    bin_freq_hz: float   # centre of that cell's bin
    kind: str = "mel"

    def text(self) -> str:
        if self.kind == "chroma":
            return f"t = {self.time_s:.3f} s   pitch class {pitch_class_name(self.bin)}   {self.db:.1f} dB"
        return f"t = {self.time_s:.3f} s   f = {self.freq_hz:.0f} Hz   {self.db:.1f} dB"


@dataclass(frozen=True)
class WaveReadout:
    """The waveform under the cursor: time, the sample value there and the level (RMS) around it."""

    time_s: float
    amplitude: float
    rms_dbfs: float

    def text(self) -> str:
        level = f"{self.rms_dbfs:.1f} dBFS" if np.isfinite(self.rms_dbfs) else "silence"
        return f"t = {self.time_s:.3f} s   amplitude {self.amplitude:+.3f}   level {level}"


WAVE_LEVEL_SPAN_S = 0.02  # the level is the RMS of 20 ms around the cursor (a level meter's short window)


def wave_readout(samples: np.ndarray, sample_rate: int, time_s: float) -> WaveReadout | None:
    """What the waveform readout shows at ``time_s`` (None outside the clip)."""
    n = len(samples)
    i = int(round(time_s * sample_rate))
    if n == 0 or not 0 <= i < n:
        return None
    half = max(1, int(WAVE_LEVEL_SPAN_S * sample_rate / 2))
    part = np.asarray(samples[max(0, i - half): i + half], dtype=np.float64)
    rms = float(np.sqrt(np.mean(part * part))) if len(part) else 0.0
    return WaveReadout(float(time_s), float(samples[i]), 20 * np.log10(rms) if rms > 0 else float("-inf"))


# -- loading and computing ---------------------------------------------------------------------------------
def load_for_inspection(path: PathLike, sample_rate: int, progress: ProgressCallback | None = None,
                        cancel: CancelToken | None = None) -> np.ndarray:
    """The whole file as float32 mono, decoded block by block so a long file can be cancelled.

    Unlike training, a file of silence is still shown (it is what the user asked to look at).
    """
    token = ensure_token(cancel)
    try:
        total_s = audio_info(path).duration_s
    except AudioFileError:
        total_s = 0.0  # the decoder below names the problem
    tracker = ProgressTracker(progress, "decode", int(math.ceil(total_s)))
    parts: list[np.ndarray] = []
    decoded = 0
    try:
        for block in iter_audio_blocks(path, sample_rate, block_s=30.0):
            token.raise_if_cancelled()
            parts.append(block)
            decoded += block.size
            tracker.done = min(int(decoded / sample_rate), tracker.total)
            tracker.emit(message=f"decoded {decoded / sample_rate:.0f} s")
    except AudioFileError:
        raise
    except MemoryError as exc:
        raise AudioFileError(path, "file is too long to load at once") from exc
    except Exception as exc:
        raise NotAudioError(path, f"could not be decoded ({type(exc).__name__}: {exc})") from exc
    samples = _join(parts)
    validate_samples(path, samples, allow_silent=True)
    return samples


def _join(parts: list[np.ndarray], axis: int = 0) -> np.ndarray:
    """``np.concatenate`` as one copy per part: an hour is 230 MB, and one big copy would hold the GIL (and so
    stall the GUI thread) for about 100 ms."""
    if len(parts) == 1:
        return np.ascontiguousarray(parts[0], dtype=np.float32)
    shape = list(parts[0].shape) if parts else [0]
    shape[axis] = sum(p.shape[axis] for p in parts)
    out = np.empty(shape, dtype=np.float32)
    pos = 0
    for part in parts:
        n = part.shape[axis]
        index = [slice(None)] * out.ndim
        index[axis] = slice(pos, pos + n)
        out[tuple(index)] = part
        pos += n
    return out


def compute_file_spectrogram(samples: np.ndarray, cfg: SpectrogramConfig,
                             progress: ProgressCallback | None = None,
                             cancel: CancelToken | None = None,
                             chunk_frames: int = _CHUNK_FRAMES) -> Spectrogram:
    """``compute_spectrogram`` of a whole signal, in chunks of frames: the same values, bounded work memory.

    Each chunk is computed from a slice with enough margin that every kept frame sees exactly the samples
    (or the signal-edge zero padding) it would see in one call over the whole signal.
    """
    token = ensure_token(cancel)
    hop, n, half = cfg.hop_length, samples.size, cfg.n_fft // 2
    n_frames = (n + 2 * half - cfg.n_fft) // hop + 1  # what one centred call over the whole signal makes
    if n_frames <= chunk_frames or n < cfg.n_fft:
        return compute_spectrogram(samples, cfg)
    margin = -(-half // hop) + 1
    parts: list[np.ndarray] = []
    freqs = None
    tracker = ProgressTracker(progress, "spectrogram", n_frames)
    for k0 in range(0, n_frames, chunk_frames):
        token.raise_if_cancelled()
        k1 = min(k0 + chunk_frames, n_frames)
        s0 = max(0, k0 - margin) * hop
        s1 = min(n, (k1 - 1) * hop + cfg.n_fft - half)
        sub = compute_spectrogram(samples[s0:s1], cfg)
        offset = k0 - s0 // hop
        parts.append(sub.values_db[:, offset:offset + (k1 - k0)])
        freqs = sub.freqs_hz
        tracker.advance(k1 - k0)
    values = _join(parts, axis=1)
    times = (np.arange(values.shape[1]) * hop / cfg.sample_rate).astype(np.float32)
    return Spectrogram(values, times, freqs, cfg.kind)


def spectrogram_display(samples: np.ndarray, cfg: SpectrogramConfig, progress: ProgressCallback | None = None,
                        cancel: CancelToken | None = None) -> SpectrogramDisplay:
    spec = compute_file_spectrogram(samples, cfg, progress, cancel)
    ensure_token(cancel).raise_if_cancelled()
    frame_s = cfg.hop_length / cfg.sample_rate
    return SpectrogramDisplay(spec, cfg, SpectrogramOverview(spec.values_db, frame_s, float(spec.times_s[0])))


def inspect_file(path: PathLike, spectrogram_cfg: SpectrogramConfig, window_cfg: WindowConfig,
                 progress: ProgressCallback | None = None, cancel: CancelToken | None = None) -> FileInspection:
    """Decode ``path`` at the spectrogram's sample rate and compute everything the inspector shows."""
    token = ensure_token(cancel)
    sr = spectrogram_cfg.sample_rate
    samples = load_for_inspection(path, sr, progress, token)
    envelope = WaveformEnvelope(samples, sr)
    token.raise_if_cancelled()
    display = spectrogram_display(samples, spectrogram_cfg, progress, token)
    windows = list_windows(samples, sr, window_cfg)
    return FileInspection(str(path), samples, sr, envelope, display, windows, window_cfg)


# -- windows -----------------------------------------------------------------------------------------------
def list_windows(samples: np.ndarray, sample_rate: int, cfg: WindowConfig) -> list[Window]:
    """The windows training makes of this signal (silent ones skipped, short clips filled), in order."""
    return cut_windows(samples, sample_rate, cfg)


def window_at(windows: list[Window], time_s: float) -> int | None:
    """Index of the window to select for a click at ``time_s``: among the windows covering it the one whose
    centre is closest; when none covers it (a skipped silent stretch), the closest window."""
    if not windows:
        return None
    starts = np.array([w.start_s for w in windows])
    ends = np.array([w.end_s for w in windows])
    centres = (starts + ends) / 2
    distance = np.abs(centres - time_s)
    covering = (starts <= time_s) & (time_s < ends)
    if covering.any():
        distance = np.where(covering, distance, np.inf)
    return int(np.argmin(distance))


def window_starting_at(windows: list[Window], start_s: float) -> int | None:
    """Index of the window whose start is closest to ``start_s`` (to jump to a window named by its start)."""
    if not windows:
        return None
    return int(np.argmin([abs(w.start_s - start_s) for w in windows]))


def window_image(window: Window, cfg: SpectrogramConfig) -> np.ndarray:
    """The exact (H, W, 3) uint8 image the CNN sees for this window."""
    return spectrogram_image(window.samples, cfg)


# -- reading values ----------------------------------------------------------------------------------------
def _row_centres(n_bins: int) -> np.ndarray:
    return np.arange(n_bins, dtype=np.float64) + 0.5  # bin i is drawn as rows i..i+1


def freq_of_row(freqs_hz: np.ndarray, y: float) -> float:
    """Frequency at a vertical position in bin units (bin i spans y = i..i+1), linear between bin centres."""
    freqs = np.asarray(freqs_hz, dtype=np.float64)
    if freqs.size == 1:
        return float(freqs[0])
    centres = _row_centres(freqs.size)
    if y < centres[0]:
        return float(freqs[0] - (centres[0] - y) * (freqs[1] - freqs[0]))
    if y > centres[-1]:
        return float(freqs[-1] + (y - centres[-1]) * (freqs[-1] - freqs[-2]))
    return float(np.interp(y, centres, freqs))


def row_of_freq(freqs_hz: np.ndarray, hz: float) -> float:
    """Inverse of ``freq_of_row`` (bin centres rise with the row)."""
    freqs = np.asarray(freqs_hz, dtype=np.float64)
    if freqs.size == 1:
        return 0.5
    centres = _row_centres(freqs.size)
    if hz < freqs[0]:
        return float(centres[0] - (freqs[0] - hz) / (freqs[1] - freqs[0]))
    if hz > freqs[-1]:
        return float(centres[-1] + (hz - freqs[-1]) / (freqs[-1] - freqs[-2]))
    return float(np.interp(hz, freqs, centres))


def value_at_row(spec: Spectrogram, frame_s: float, time_s: float, y: float) -> Readout | None:
    """The level of the cell under (``time_s``, row position ``y``), or None outside the spectrogram."""
    n_bins, n_frames = spec.values_db.shape
    frame = int(math.floor((time_s - float(spec.times_s[0])) / frame_s + 0.5))
    row = int(math.floor(y))
    if not (0 <= frame < n_frames and 0 <= row < n_bins):
        return None
    return Readout(float(time_s), freq_of_row(spec.freqs_hz, y), float(spec.values_db[row, frame]), frame, row,
                   float(spec.freqs_hz[row]), spec.kind)


def value_at(spec: Spectrogram, frame_s: float, time_s: float, freq_hz: float) -> Readout | None:
    """The level at (``time_s``, ``freq_hz``): the cell whose frame and bin contain that point."""
    return value_at_row(spec, frame_s, time_s, row_of_freq(spec.freqs_hz, freq_hz))


def display_levels(values_db: np.ndarray, cfg: SpectrogramConfig) -> tuple[float, float]:
    """dB range mapped onto the colormap, as the CNN image does: ``db_range`` below the loudest cell
    (``ref="max"``) or below full scale."""
    top = float(np.max(values_db)) if cfg.ref == "max" and values_db.size else 0.0
    return top - cfg.db_range, top


def pitch_class_name(index: int) -> str:
    return PITCH_CLASSES[index % 12] if 0 <= index else str(index)


def _hz_label(hz: float) -> str:
    if hz >= 1000:
        k = hz / 1000
        return f"{k:.0f}k" if abs(k - round(k)) < 1e-6 else f"{k:g}k"
    return f"{hz:.0f}"


def frequency_ticks(freqs_hz: np.ndarray, kind: str, y0: float, y1: float, max_ticks: int = 8
                    ) -> list[tuple[float, str]]:
    """Ticks (row position, label) for the visible rows y0..y1: round frequencies first (1k before 500
    before 200 ...), each at least (y1 - y0) / max_ticks rows from the others. Works for linear and mel axes."""
    n = len(freqs_hz)
    lo_y, hi_y = max(0.0, min(y0, y1)), min(float(n), max(y0, y1))
    if hi_y <= lo_y:
        return []
    if kind == "chroma":
        step = max(1, int(math.ceil((hi_y - lo_y) / max(max_ticks, 1))))
        return [(i + 0.5, pitch_class_name(i) if n == 12 else str(i))
                for i in range(0, n, step) if lo_y <= i + 0.5 <= hi_y]
    f_lo, f_hi = freq_of_row(freqs_hz, lo_y), freq_of_row(freqs_hz, hi_y)
    min_gap = (hi_y - lo_y) / max(max_ticks, 1)
    chosen: list[tuple[float, float]] = []
    for multipliers in ((1,), (5,), (2,), (3, 4, 6, 7, 8, 9), (1.5, 2.5, 3.5, 4.5)):
        for exponent in range(0, 6):
            for m in multipliers:
                hz = m * 10 ** exponent
                if not f_lo <= hz <= f_hi:
                    continue
                y = row_of_freq(freqs_hz, hz)
                if all(abs(y - other) >= min_gap for other, _ in chosen):
                    chosen.append((y, hz))
    return [(y, _hz_label(hz)) for y, hz in sorted(chosen)]


# -- exports -----------------------------------------------------------------------------------------------
def export_values_csv(spec: Spectrogram, path: PathLike, frame_s: float, t0: float | None = None,
                      t1: float | None = None, progress: ProgressCallback | None = None,
                      cancel: CancelToken | None = None) -> int:
    """Write the spectrogram values as CSV rows ``time_s, freq_hz, db`` (frame by frame, bins rising),
    optionally only the frames between ``t0`` and ``t1``. Atomic; returns the number of rows."""
    token = ensure_token(cancel)
    times = spec.times_s.astype(np.float64)
    lo = 0 if t0 is None else int(np.searchsorted(times, t0 - frame_s / 2, side="left"))
    hi = times.size if t1 is None else int(np.searchsorted(times, t1 + frame_s / 2, side="right"))
    freq_header = "pitch_class" if spec.kind == "chroma" else "freq_hz"
    n_bins = spec.values_db.shape[0]
    freq_text = [pitch_class_name(i) if spec.kind == "chroma" else f"{f:.2f}" for i, f in enumerate(spec.freqs_hz)]
    tracker = ProgressTracker(progress, "export CSV", hi - lo)
    rows = 0
    with atomic_path(path, suffix=".csv") as tmp:
        with open(tmp, "w", newline="", encoding="utf-8") as fh:
            fh.write(f"time_s,{freq_header},db\n")
            step = max(1, 20000 // max(n_bins, 1))
            for a in range(lo, hi, step):
                token.raise_if_cancelled()
                b = min(a + step, hi)
                buf = io.StringIO()
                writer = csv.writer(buf, lineterminator="\n")
                for k in range(a, b):
                    t = f"{times[k]:.4f}"
                    column = spec.values_db[:, k]
                    writer.writerows(zip([t] * n_bins, freq_text, (f"{v:.2f}" for v in column)))
                fh.write(buf.getvalue())
                rows += (b - a) * n_bins
                tracker.advance(b - a)
    return rows


def export_image_png(image: np.ndarray, path: PathLike) -> None:
    """Write the CNN image as an RGB PNG, pixel for pixel (atomic)."""
    save_png(image, path)
