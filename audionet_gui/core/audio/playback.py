"""Play samples through the sound card (sounddevice) and report where playback is, for a playhead.

No Qt here: the UI polls ``Player.position_s`` from a timer. Every failure to reach a sound device
(PortAudio missing, no output device, a device that refuses the stream) becomes a ``PlaybackError``
whose message tells the user what to do; it never crashes the caller.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import numpy as np

from audionet_gui.core.base.errors import AudioNetError

NO_DEVICE_HINT = ("Connect speakers or headphones (or start the virtual speaker, scripts/virtual_mic.sh), "
                  "then press Play again.")


class PlaybackError(AudioNetError):
    """Sound cannot be played; the message says why and what to do."""


def load_sounddevice() -> Any:
    """Import sounddevice; without the PortAudio library the import itself fails (OSError)."""
    try:
        import sounddevice  # noqa: PLC0415 - without PortAudio the import itself fails (OSError)
    except OSError as exc:  # the wheel does not bundle PortAudio on Linux
        raise PlaybackError("Cannot play sound: the PortAudio library is missing "
                            f"(on Debian/Ubuntu: apt install libportaudio2). Details: {exc}") from exc
    return sounddevice


class Player:
    """Plays one mono float32 clip at a time on the default output device.

    ``backend`` is the sounddevice module (or a stand-in with the same ``OutputStream``, ``query_devices``,
    ``CallbackStop`` names, which is how the tests run without a sound card); it is loaded on first use.
    """

    def __init__(self, backend: Any = None, blocksize: int = 1024):
        self._backend = backend
        self._blocksize = blocksize
        self._lock = threading.Lock()
        self._stream: Any = None
        self._samples = np.zeros(0, dtype=np.float32)
        self._sample_rate = 1
        self._start_frame = 0
        self._next_frame = 0          # next frame the callback hands to the device
        self._finished = threading.Event()
        self._finished.set()
        self._latency_s = 0.0
        self._first_callback_t: float | None = None

    # -- state the UI polls -------------------------------------------------------------------------------
    @property
    def playing(self) -> bool:
        return not self._finished.is_set()

    @property
    def position_s(self) -> float:
        """Time (s, from the clip start) of the sample being heard now.

        The device pulls blocks in bursts (64 ms and more), so counting frames alone moves a playhead in jumps.
        Instead: the time since the device first asked for audio, minus its output latency, but never more
        than the audio it was actually given (a stalled device stalls the playhead too).
        """
        handed = (self._next_frame - self._start_frame) / self._sample_rate
        if not self.playing:
            return self._next_frame / self._sample_rate
        first = self._first_callback_t
        elapsed = 0.0 if first is None else time.monotonic() - first - self._latency_s
        return self._start_frame / self._sample_rate + min(max(0.0, elapsed), handed)

    @property
    def duration_s(self) -> float:
        return len(self._samples) / self._sample_rate

    def wait(self, timeout: float | None = None) -> bool:
        """Block until playback ends (tests, CLI); True when it ended."""
        return self._finished.wait(timeout)

    # -- control ------------------------------------------------------------------------------------------
    def play(self, samples: np.ndarray, sample_rate: int, start_s: float = 0.0, end_s: float | None = None) -> None:
        """Play ``samples`` from ``start_s`` to ``end_s`` (default: the end); stops whatever was playing.

        Positions stay relative to the start of ``samples``. Raises ``PlaybackError``.
        """
        self.stop()
        sd = self._backend if self._backend is not None else load_sounddevice()
        self._backend = sd
        samples = np.asarray(samples, dtype=np.float32).reshape(-1)
        if end_s is not None:
            samples = samples[:max(0, int(round(end_s * sample_rate)))]  # a view: an hour is not copied
        if samples.size == 0:
            raise PlaybackError("Nothing to play: the clip is empty.")
        start = int(round(max(0.0, start_s) * sample_rate))
        if start >= samples.size:
            start = 0
        try:
            sd.query_devices(kind="output")
        except Exception as exc:  # PortAudioError or ValueError, depending on the host API
            raise PlaybackError(f"No sound output device was found. {NO_DEVICE_HINT} (Details: {exc})") from exc
        with self._lock:
            self._samples = samples
            self._sample_rate = int(sample_rate)
            self._start_frame = start
            self._next_frame = start
            self._first_callback_t = None
            self._finished.clear()
        try:
            stream = sd.OutputStream(samplerate=sample_rate, channels=1, dtype="float32", blocksize=self._blocksize,
                                     callback=self._callback, finished_callback=self._finished.set)
            self._latency_s = float(getattr(stream, "latency", 0.0) or 0.0)
            stream.start()
        except Exception as exc:
            self._finished.set()
            raise PlaybackError(f"The sound output device refused to play {sample_rate} Hz mono audio. "
                                f"{NO_DEVICE_HINT} (Details: {exc})") from exc
        self._stream = stream

    def stop(self) -> None:
        """Stop and release the device; the position stays where playback stopped."""
        stream, self._stream = self._stream, None
        if stream is not None:
            try:
                stream.abort()
                stream.close()
            except Exception:  # a device that vanished while playing: nothing left to release
                pass
        self._finished.set()

    # -- audio thread -------------------------------------------------------------------------------------
    def _callback(self, outdata, frames, _time, _status) -> None:
        if self._first_callback_t is None:
            self._first_callback_t = time.monotonic()
        with self._lock:
            begin = self._next_frame
            chunk = self._samples[begin:begin + frames]
            n = len(chunk)
            outdata[:n, 0] = chunk
            outdata[n:] = 0
            self._next_frame = begin + n
        if n < frames:
            raise self._backend.CallbackStop()
