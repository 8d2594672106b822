"""Audio intake: any file a user has becomes float32 mono samples at the configured rate, or a typed error.

Formats libsndfile knows (WAV of every sample type, FLAC, OGG/Vorbis, AIFF, ...) are read through soundfile;
everything else (MP3, M4A/AAC, Opus, WMA, video containers, ...) is decoded by ffmpeg, which pydub locates.
We stream ffmpeg's output ourselves instead of ``pydub.AudioSegment.from_file``: that holds the whole decoded
file as bytes and again as samples (an hour of 44.1 kHz stereo is 635 MB per copy); streaming keeps one output
array plus a block. Both paths downmix and resample block by block (soxr's streaming resampler).
"""

from __future__ import annotations

import os
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr
from pydub.utils import get_encoder_name, mediainfo_json

from audionet_gui.core.base.errors import (
    AudioFileError,
    EmptyFileError,
    InvalidSamplesError,
    NotAudioError,
    SilentAudioError,
    TruncatedAudioError,
    UnreadableFileError,
)
from audionet_gui.core.base.fsutil import NotRegularFileError, atomic_path, open_regular, regular_file_problem

PathLike = str | Path

DEFAULT_SAMPLE_RATE = 16000
# Read by libsndfile directly; anything else goes to ffmpeg.
SOUNDFILE_EXTENSIONS = frozenset({".wav", ".wave", ".flac", ".ogg", ".oga", ".aiff", ".aif", ".aifc", ".au",
                                  ".caf", ".w64", ".rf64", ".snd"})
FFMPEG_EXTENSIONS = frozenset({".mp3", ".m4a", ".aac", ".mp4", ".opus", ".wma", ".webm", ".mka", ".amr", ".3gp",
                               ".mov", ".mkv", ".ac3", ".m4b"})
SUPPORTED_EXTENSIONS = SOUNDFILE_EXTENSIONS | FFMPEG_EXTENSIONS

# A file whose peak stays under this is "silence only" (-80 dBFS: below any real recording's noise floor).
SILENCE_PEAK = 1e-4
_BLOCK_FRAMES = 1 << 16


@dataclass(frozen=True)
class AudioInfo:
    path: str
    duration_s: float
    sample_rate: int
    channels: int
    format: str


def is_audio_file(path: PathLike) -> bool:
    """True when the name says audio we can try to read (hidden files and partial downloads are not)."""
    p = Path(path)
    return p.suffix.lower() in SUPPORTED_EXTENSIONS and not p.name.startswith(".")


def _check_readable(path: Path) -> None:
    """Only regular files are audio: a named pipe would block the open for ever and a device like /dev/zero would
    never end (fsutil.regular_file_problem, the one check every reader of a user's file uses)."""
    problem = regular_file_problem(path)
    if problem == "does not exist":
        raise UnreadableFileError(path, "file does not exist")
    if problem == "is a folder, not a file":
        raise NotAudioError(path, "is a folder, not an audio file")
    if problem:
        raise NotAudioError(path, problem)
    if not os.access(path, os.R_OK):
        raise UnreadableFileError(path, "no permission to read this file")
    try:
        with open_regular(path):
            pass
    except PermissionError as exc:
        raise UnreadableFileError(path, "no permission to read this file") from exc
    except NotRegularFileError as exc:  # swapped for a pipe or a device since the check
        raise NotAudioError(path, exc.reason) from exc
    except OSError as exc:
        raise UnreadableFileError(path, f"cannot read file ({exc.strerror or exc})") from exc
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise UnreadableFileError(path, f"cannot read file ({exc.strerror or exc})") from exc
    if size == 0:
        raise EmptyFileError(path, "file is empty (0 bytes)")


def _ffmpeg() -> str:
    return get_encoder_name()


def audio_info(path: PathLike) -> AudioInfo:
    """Duration, native rate and channels without decoding the whole file."""
    path = Path(path)
    _check_readable(path)
    if path.suffix.lower() in SOUNDFILE_EXTENSIONS:
        try:
            info = sf.info(str(path))
            if info.frames > 0:
                return AudioInfo(str(path), info.frames / info.samplerate, info.samplerate, info.channels, info.format)
        except Exception:
            pass

    try:
        meta = mediainfo_json(str(path), read_ahead_limit=-1)
    except Exception as exc:
        raise NotAudioError(path, f"not an audio file that ffmpeg can read ({exc})") from exc
    streams = [s for s in meta.get("streams", []) if s.get("codec_type") == "audio"]
    if not streams:
        raise NotAudioError(path, "not an audio file (no audio stream found)")
    s = streams[0]
    duration = float(s.get("duration") or meta.get("format", {}).get("duration") or 0.0)
    return AudioInfo(str(path), duration, int(s.get("sample_rate") or 0), int(s.get("channels") or 0),
                     str(meta.get("format", {}).get("format_name", "")))


class _Resampler:
    """Mono blocks at ``in_rate`` in, mono float32 blocks at ``out_rate`` out, with no seams between blocks."""

    def __init__(self, in_rate: int, out_rate: int):
        self._stream = None if in_rate == out_rate else soxr.ResampleStream(in_rate, out_rate, 1, dtype="float32",
                                                                             quality="HQ")

    def __call__(self, block: np.ndarray, last: bool = False) -> np.ndarray:
        block = np.ascontiguousarray(block, dtype=np.float32)
        if self._stream is None:
            return block
        return self._stream.resample_chunk(block, last=last)


def _soundfile_blocks(path: Path, sample_rate: int, block_s: float) -> Iterator[np.ndarray]:
    with sf.SoundFile(str(path)) as fh:
        resample = _Resampler(fh.samplerate, sample_rate)
        block_frames = max(1024, int(block_s * fh.samplerate))
        for block in fh.blocks(blocksize=block_frames, dtype="float32", always_2d=True):
            out = resample(block.mean(axis=1))
            if out.size:
                yield out
        tail = resample(np.zeros(0, np.float32), last=True)
        if tail.size:
            yield tail


def _ffmpeg_blocks(path: Path, sample_rate: int, block_frames: int) -> Iterator[np.ndarray]:
    # ffmpeg downmixes and resamples itself; we read float32 little-endian PCM from its stdout.
    cmd = [_ffmpeg(), "-nostdin", "-v", "warning", "-i", str(path), "-vn", "-ac", "1", "-ar", str(sample_rate),
           "-f", "f32le", "-"]
    try:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    except FileNotFoundError as exc:
        raise NotAudioError(path, "ffmpeg is not installed, so this format cannot be read") from exc
    assert proc.stdout is not None and proc.stderr is not None

    errors: list[bytes] = []
    # Drain stderr on the side so a chatty ffmpeg can never block on a full pipe.
    drain = threading.Thread(target=lambda: errors.append(proc.stderr.read()), daemon=True)
    drain.start()
    block_bytes = block_frames * 4
    pending = b""
    try:
        while True:
            chunk = proc.stdout.read(block_bytes)
            if not chunk:
                break
            chunk = pending + chunk
            usable = len(chunk) - len(chunk) % 4
            pending = chunk[usable:]
            if usable:
                yield np.frombuffer(chunk[:usable], dtype="<f4").astype(np.float32, copy=True)
    finally:
        if proc.poll() is None and not proc.stdout.closed:
            proc.stdout.close()
        returncode = proc.wait()
        drain.join(timeout=5)
    message = b"".join(errors).decode("utf-8", "replace").strip()
    if returncode != 0:
        first = message.splitlines()[-1] if message else f"ffmpeg exited with status {returncode}"
        if "Invalid data found" in message or "could not find codec" in message.lower() or "no such" in message.lower():
            raise NotAudioError(path, f"not an audio file that ffmpeg can read ({first})")
        raise NotAudioError(path, f"ffmpeg could not decode it ({first})")
    if message and _looks_truncated(message):
        raise TruncatedAudioError(path, "file is truncated or damaged (the decoder hit broken data: "
                                  f"{message.splitlines()[0][:160]})")


def _looks_truncated(ffmpeg_errors: str) -> bool:
    text = ffmpeg_errors.lower()
    # "filesize and duration do not match": the MP3's own header promises more frames than the file holds.
    return any(key in text for key in ("header missing", "invalid data", "error while decoding", "truncat",
                                       "partial file", "incomplete frame", "invalid frame", "packet too small",
                                       "end of file", "do not match", "invalid new backstep"))


def iter_audio_blocks(path: PathLike, sample_rate: int = DEFAULT_SAMPLE_RATE,
                      block_s: float = 30.0) -> Iterator[np.ndarray]:
    """Decoded mono float32 blocks of about ``block_s`` seconds at ``sample_rate``: for hour-long files.

    Raises the typed errors of ``load_audio`` for unreadable or non-audio files (NaN/silence checks are
    ``load_audio``'s, since they need the whole signal).
    """
    path = Path(path)
    _check_readable(path)
    block_frames = max(1024, int(block_s * sample_rate))
    if path.suffix.lower() in SOUNDFILE_EXTENSIONS or path.suffix.lower() not in FFMPEG_EXTENSIONS:
        try:
            sf.info(str(path))
        except Exception:
            pass
        else:
            try:
                yield from _soundfile_blocks(path, sample_rate, block_s)
            except sf.LibsndfileError as exc:
                raise TruncatedAudioError(path, f"file is truncated or damaged ({exc})") from exc
            return
    yield from _ffmpeg_blocks(path, sample_rate, block_frames)


def load_audio(path: PathLike, sample_rate: int = DEFAULT_SAMPLE_RATE, *, allow_silent: bool = False,
               max_seconds: float | None = None) -> np.ndarray:
    """The whole file as float32 mono at ``sample_rate``.

    Raises ``AudioFileError`` subclasses naming the file: missing/unreadable, empty, not audio, truncated,
    NaN/inf samples, silence only (unless ``allow_silent``). ``max_seconds`` stops decoding early.
    """
    path = Path(path)
    parts: list[np.ndarray] = []
    total = 0
    limit = int(max_seconds * sample_rate) if max_seconds else None
    try:
        for block in iter_audio_blocks(path, sample_rate):
            parts.append(block)
            total += block.size
            if limit is not None and total >= limit:
                break
    except AudioFileError:
        raise
    except MemoryError as exc:
        raise AudioFileError(path, "file is too long to load at once") from exc
    except Exception as exc:
        raise NotAudioError(path, f"could not be decoded ({type(exc).__name__}: {exc})") from exc
    samples = np.concatenate(parts) if len(parts) > 1 else (parts[0] if parts else np.zeros(0, np.float32))
    if limit is not None:
        samples = samples[:limit]
    validate_samples(path, samples, allow_silent=allow_silent)
    return samples


def validate_samples(path: PathLike, samples: np.ndarray, allow_silent: bool = False) -> None:
    if samples.size == 0:
        raise EmptyFileError(path, "contains no audio samples")
    if not np.isfinite(samples).all():
        raise InvalidSamplesError(path, "contains invalid samples (NaN or infinity)")
    if not allow_silent and float(np.max(np.abs(samples))) < SILENCE_PEAK:
        raise SilentAudioError(path, "contains only silence")


def write_wav(path: PathLike, samples: np.ndarray, sample_rate: int, subtype: str = "PCM_16") -> None:
    """Write mono samples as a WAV file atomically (a reader never sees half a file)."""
    path = Path(path)
    with atomic_path(path, suffix=".wav") as tmp:
        sf.write(str(tmp), np.asarray(samples, dtype=np.float32), sample_rate, subtype=subtype, format="WAV")
