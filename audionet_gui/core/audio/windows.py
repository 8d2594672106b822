"""Cutting audio into the fixed-length windows that become one image each.

Rules (the same for training, files and live audio, so they can never disagree):
- Windows of ``window_s`` start every ``hop_s`` seconds. When the signal does not end on a hop, one more
  window is aligned to the end, so the last seconds are never dropped.
- A whole signal shorter than one window gives exactly one window, filled by ``short_clip``:
  ``"tile"`` repeats the clip end to end (a short word becomes continuous speech, as live windows are),
  ``"pad"`` centres it in digital silence.
- With ``skip_silent``, windows whose RMS level is under ``silence_db`` dBFS are skipped, but a signal
  always keeps at least its loudest window, so no readable file disappears from a dataset.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import numpy as np

from audionet_gui.core.audio.files import DEFAULT_SAMPLE_RATE, SILENCE_PEAK, iter_audio_blocks
from audionet_gui.core.base.errors import EmptyFileError, InvalidSamplesError, SilentAudioError
from audionet_gui.core.base.fields import check_bounds, check_kinds, setting

SHORT_CLIP_RULES = ("stream", "tile", "pad")
GATES = ("auto", "speech", "energy")
# "auto" becomes speech when at least this share of the (non-background) classes have most windows with speech
AUTO_SPEECH_CLASS_SHARE = 0.5


@dataclass(frozen=True)
class WindowConfig:
    """How audio is cut into windows. Every field is a ``setting``: the settings form and the CLI flags are
    made from these declarations (core/settings.py gathers them with the spectrogram's)."""

    window_s: float = setting(
        2.0, "Window length", "Each image shows this many seconds of audio. About 2 s suits voices and live "
        "identification; longer windows see more but answer later.", unit="s", min=0.05, max=60, step=0.1,
        flag="--window")
    hop_s: float = setting(
        1.0, "Step between windows", "A new window starts every this many seconds. Smaller steps make more "
        "(overlapping) images from the same audio.", unit="s", min=0.01, max=60, step=0.1, flag="--hop")
    short_clip: str = setting(
        "stream", "Clips shorter than a window", "stream: the clip in quiet room tone, seen by windows every step "
        "as the microphone sees a short word (several images, the clip at different places). tile: repeat the "
        "clip until the window is full. pad: one image, the clip centred in silence.", choices=SHORT_CLIP_RULES,
        advanced=True)
    skip_silent: bool = setting(
        True, "Skip silent windows", "Windows quieter than the silence threshold are left out, so pauses do not "
        "teach the network anything. A file always keeps its loudest window.", flag="--keep-silent")
    silence_db: float = setting(
        -50.0, "Silence threshold", "Windows whose RMS level is below this (dB relative to full scale) count as "
        "silence.", unit="dB", min=-200, max=0, step=1, decimals=1, relevant=("skip_silent", (True,)),
        advanced=True)
    gate: str = setting(
        "auto", "Activity gate", "Which windows are trained on and named. speech: only windows in which someone "
        "speaks (Silero VAD); any other sound is answered \"no speech\" and never gets a speaker's name (speaker "
        "projects). energy: only the silence level decides, every louder sound is classified (sound projects). "
        "auto: speech when the training data is mostly speech, decided once when training.", choices=GATES)
    speech_threshold: float = setting(
        0.15, "Speech threshold", "How sure the speech detector must be (per 32 ms) that someone speaks. Raise it "
        "in loud places so fewer noises pass as speech.", min=0.05, max=0.95, step=0.05,
        relevant=("gate", ("auto", "speech")), advanced=True)

    def __post_init__(self) -> None:
        check_kinds(self)  # a number where a number belongs, before the rules below compare
        if not self.window_s > 0:
            raise ValueError(f"window length must be positive, got {self.window_s}")
        if not self.hop_s > 0:
            raise ValueError(f"hop must be positive, got {self.hop_s}")
        if self.short_clip not in SHORT_CLIP_RULES:
            raise ValueError(f"short_clip must be one of {SHORT_CLIP_RULES}, got {self.short_clip!r}")
        if self.gate not in GATES:
            raise ValueError(f"gate must be one of {GATES}, got {self.gate!r}")
        if not 0 < self.speech_threshold < 1:
            raise ValueError(f"speech threshold must be between 0 and 1, got {self.speech_threshold}")
        check_bounds(self)  # then kind, choices and the min/max declared with each field

    @property
    def speech_gated(self) -> bool:
        """Only windows with speech are named. An unresolved "auto" (a bundle from before the gate) is the energy
        gate: training resolves "auto" and records "speech" or "energy"."""
        return self.gate == "speech"

    def images_dict(self) -> dict:
        """The fields that shape the windows' audio (the image cache key): not the gate, which only picks."""
        return {k: v for k, v in self.to_dict().items() if k not in ("gate", "speech_threshold")}

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> WindowConfig:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})

    def window_samples(self, sample_rate: int) -> int:
        return max(1, int(round(self.window_s * sample_rate)))

    def hop_samples(self, sample_rate: int) -> int:
        return max(1, int(round(self.hop_s * sample_rate)))


@dataclass
class Window:
    start_s: float
    end_s: float
    samples: np.ndarray  # exactly window_samples long
    index: int = 0
    padded: bool = False  # filled by the short-clip rule


def rms_db(samples: np.ndarray) -> float:
    """RMS level in dBFS (full scale sine = -3 dB); -inf-safe."""
    if samples.size == 0:
        return -200.0
    rms = float(np.sqrt(np.mean(np.square(samples, dtype=np.float64))))
    return 20.0 * np.log10(max(rms, 1e-10))


def is_silent(samples: np.ndarray, silence_db: float) -> bool:
    return rms_db(samples) < silence_db


def fill_short(samples: np.ndarray, length: int, rule: str) -> np.ndarray:
    """Stretch a clip shorter than ``length`` to exactly ``length`` samples by the short-clip rule (the centred
    place for "stream" and "pad", whose other places ``stream_short_clip`` gives)."""
    out = np.zeros(length, dtype=np.float32)
    n = samples.size
    if n == 0:
        return out
    if rule == "tile":
        reps = -(-length // n)
        return np.tile(samples.astype(np.float32, copy=False), reps)[:length].copy()
    start = (length - n) // 2
    out[start:start + n] = samples
    return out


def clip_positions(n: int, win: int, hop: int) -> list[int]:
    """Where a clip of ``n`` samples starts inside windows of ``win`` samples that a stream cut every ``hop``
    samples would give, keeping those that hold at least half of the clip, and always the centred place."""
    first, last = -(n // 2), win - (n - n // 2)
    return sorted({*range(first, last + 1, hop), (win - n) // 2})


ROOM_TONE_DB = (-72.0, -52.0)  # RMS dBFS of the quiet noise around a short clip: a studio to a quiet office


def room_tone_like(n: int, rng: np.random.Generator, level_db: float) -> np.ndarray:
    """Quiet noise of a random colour (white to brown) at ``level_db`` RMS: what a microphone hears between words
    (it never hears digital zeros)."""
    spec = np.fft.rfft(rng.standard_normal(n))
    f = np.arange(spec.size, dtype=np.float64)
    f[0] = 1.0
    x = np.fft.irfft(spec / f ** rng.uniform(0.0, 1.0), n)
    rms = float(np.sqrt(np.mean(x ** 2))) or 1.0
    return (x / rms * 10 ** (level_db / 20)).astype(np.float32)


def stream_short_clip(clip: np.ndarray, win: int, hop: int, sample_rate: int, cfg: WindowConfig) -> Iterator[Window]:
    """The windows a microphone would give of a short clip said in a quiet room (the "stream" rule): training
    sees a short word as live identification does, at several places in the window and partly cut at its edges,
    with quiet room tone around it instead of digital silence, never as a repetition of itself. The tone's level
    and colour are drawn from the clip itself, so a file always gives the same windows. Silent ones are skipped
    as usual; the centred window is always kept."""
    n = clip.size
    centre = (win - n) // 2
    rng = np.random.default_rng(zlib.crc32(np.ascontiguousarray(clip, np.float32).tobytes()))
    emitted = 0
    for p in clip_positions(n, win, hop):
        data = room_tone_like(win, rng, float(rng.uniform(*ROOM_TONE_DB)))
        lo, hi = max(0, -p), min(n, win - p)
        data[max(0, p):max(0, p) + hi - lo] += clip[lo:hi]
        if p != centre and cfg.skip_silent and rms_db(data) < cfg.silence_db:
            continue
        yield Window(0.0, n / sample_rate, data, emitted, padded=True)
        emitted += 1


def _window_starts(n: int, win: int, hop: int) -> list[int]:
    starts = list(range(0, n - win + 1, hop))
    if starts and starts[-1] + win < n:
        starts.append(n - win)  # cover the tail
    return starts


def cut_windows(samples: np.ndarray, sample_rate: int, cfg: WindowConfig) -> list[Window]:
    """Windows of one whole signal (views into ``samples`` where possible)."""
    return list(iter_windows(iter([samples]), sample_rate, cfg))


def iter_windows(blocks: Iterable[np.ndarray], sample_rate: int, cfg: WindowConfig,
                 source: str | Path | None = None) -> Iterator[Window]:
    """Windows from a stream of sample blocks, holding at most about one window plus one block in memory.

    With ``source`` set, the stream is validated as a file: NaN/inf raises ``InvalidSamplesError``,
    no samples ``EmptyFileError`` and silence only ``SilentAudioError``.
    """
    win = cfg.window_samples(sample_rate)
    hop = cfg.hop_samples(sample_rate)
    buf = np.zeros(0, dtype=np.float32)
    buf_offset = 0          # absolute sample index of buf[0]
    next_start = 0          # absolute start of the next regular window
    last_end = 0
    emitted = 0
    total = 0
    peak = 0.0
    loudest: Window | None = None
    loudest_db = -np.inf

    def consider(start: int, data: np.ndarray) -> Window | None:
        nonlocal loudest, loudest_db
        w = Window(start / sample_rate, (start + win) / sample_rate, data)
        if cfg.skip_silent:
            level = rms_db(data)
            if level < cfg.silence_db:
                if level > loudest_db:
                    loudest, loudest_db = Window(w.start_s, w.end_s, data.copy()), level
                return None
        return w

    for block in blocks:
        block = np.asarray(block, dtype=np.float32)
        if source is not None and block.size:
            if not np.isfinite(block).all():
                raise InvalidSamplesError(source, "contains invalid samples (NaN or infinity)")
            peak = max(peak, float(np.max(np.abs(block))))
        total += block.size
        buf = np.concatenate([buf, block]) if buf.size else block
        while next_start + win <= buf_offset + buf.size:
            local = next_start - buf_offset
            w = consider(next_start, buf[local:local + win])
            if w is not None:
                w.index = emitted
                emitted += 1
                yield w
            last_end = next_start + win
            next_start += hop
        # keep only what later windows can still need: the next regular window and the tail window
        drop = min(next_start, max(total - win, 0)) - buf_offset
        if drop > 0:
            buf = buf[drop:]
            buf_offset += drop

    if source is not None:
        if total == 0:
            raise EmptyFileError(source, "contains no audio samples")
        if peak < SILENCE_PEAK:
            raise SilentAudioError(source, "contains only silence")

    if total < win:
        if cfg.short_clip == "stream":
            yield from stream_short_clip(buf[:total], win, hop, sample_rate, cfg)
            return
        # the only window of a short clip is kept even when quiet: it is all the file has
        yield Window(0.0, total / sample_rate, fill_short(buf[:total], win, cfg.short_clip), 0, padded=True)
        return
    if last_end < total:
        start = total - win
        tail = buf[start - buf_offset:]
        if tail.size == win:
            w = consider(start, tail)
            if w is not None:
                w.index = emitted
                emitted += 1
                yield w
    if emitted == 0 and loudest is not None:
        yield loudest


def iter_file_windows(path: str | Path, sample_rate: int = DEFAULT_SAMPLE_RATE,
                      cfg: WindowConfig = WindowConfig(), block_s: float = 30.0) -> Iterator[Window]:
    """Windows of an audio file, streamed: an hour-long file never sits in memory whole."""
    return iter_windows(iter_audio_blocks(path, sample_rate, block_s), sample_rate, cfg, source=path)
