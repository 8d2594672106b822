"""Live audio input: a thread-safe ring buffer, a streaming resampler, and sources that fill them.

The shape follows Friture: the PortAudio callback only copies each block into a ring buffer (no allocation-heavy
work, no locks held for long, never an exception); a consumer thread drains the buffer on a timer, resamples the new
samples from the device's native rate to the model's rate and hands them on.

- ``PushSource``: anything pushed into it (a test, a benchmark feeding a file in real time) comes out of ``read()``
  resampled. ``MicrophoneSource`` is a PushSource whose pusher is a sounddevice InputStream, plus recovery: a device
  that errors, stops or goes silent-dead mid-stream is reported and reopened (falling back to the default input),
  never a crash.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import soxr

from audionet_gui.core.live.devices import (
    DeviceChoice,
    InputDevice,
    InputStreamError,
    NoInputDeviceError,
    _sounddevice,
    resolve_input_device,
)

# (kind, message): kind is "warning" (fell back to another device), "error" (stream lost or cannot open),
# "recovered" (stream running again) or "overflow" (samples were dropped because the reader fell behind).
EventCallback = Callable[[str, str], None]


class RingBuffer:
    """A fixed-size float32 ring of mono samples with a running write count.

    Writers (one audio callback) and readers (one consumer) may be on different threads. Readers keep a cursor
    (a count of samples written) and ask for everything since it; if they fell more than ``capacity`` behind, the
    oldest samples are gone and reported as ``dropped``.
    """

    def __init__(self, capacity: int):
        if capacity <= 0:
            raise ValueError("ring buffer capacity must be positive")
        self.capacity = int(capacity)
        self._data = np.zeros(self.capacity, dtype=np.float32)
        self._written = 0
        self._stamp: float | None = None
        self._lock = threading.Lock()

    @property
    def total_written(self) -> int:
        return self._written

    @property
    def last_stamp(self) -> float | None:
        """``time.monotonic()`` passed with the latest write: when its last sample arrived."""
        return self._stamp

    def write(self, samples: np.ndarray, stamp: float | None = None) -> None:
        x = np.asarray(samples, dtype=np.float32).reshape(-1)
        n = len(x)
        if n == 0:
            return
        cap = self.capacity
        with self._lock:
            new_written = self._written + n
            if n > cap:
                x = x[-cap:]
            start = (new_written - len(x)) % cap
            first = min(cap - start, len(x))
            self._data[start:start + first] = x[:first]
            if first < len(x):
                self._data[:len(x) - first] = x[first:]
            self._written = new_written
            self._stamp = stamp

    def read_since(self, cursor: int) -> tuple[np.ndarray, int, int, float | None]:
        """``(samples, new_cursor, dropped, stamp)``: every sample written after ``cursor`` that is still held."""
        with self._lock:
            written, stamp = self._written, self._stamp
            start = max(cursor, written - self.capacity)
            dropped = max(0, start - cursor)
            out = self._copy(start, written)
        return out, written, dropped, stamp

    def latest(self, n: int) -> np.ndarray:
        """A copy of the last ``n`` samples (fewer when fewer were ever written)."""
        with self._lock:
            n = min(int(n), self._written, self.capacity)
            return self._copy(self._written - n, self._written)

    def _copy(self, start: int, end: int) -> np.ndarray:
        n = end - start
        if n <= 0:
            return np.zeros(0, dtype=np.float32)
        a = start % self.capacity
        if a + n <= self.capacity:
            return self._data[a:a + n].copy()
        first = self.capacity - a
        return np.concatenate([self._data[a:], self._data[:n - first]])


class StreamResampler:
    """Resample a stream block by block (soxr's streaming resampler keeps the filter state across blocks)."""

    def __init__(self, in_rate: float, out_rate: float, quality: str = "HQ"):
        self.in_rate = float(in_rate)
        self.out_rate = float(out_rate)
        self._stream = None
        if round(self.in_rate) != round(self.out_rate):

            self._stream = soxr.ResampleStream(self.in_rate, self.out_rate, 1, dtype="float32", quality=quality)

    @property
    def passthrough(self) -> bool:
        return self._stream is None

    def process(self, samples: np.ndarray, last: bool = False) -> np.ndarray:
        x = np.ascontiguousarray(samples, dtype=np.float32).reshape(-1)
        if self._stream is None:
            return x
        return np.asarray(self._stream.resample_chunk(x, last=last), dtype=np.float32).reshape(-1)


@dataclass
class AudioChunk:
    """New samples at the model's rate. ``arrival`` is the monotonic time the last of them reached the buffer."""

    samples: np.ndarray
    arrival: float | None
    dropped: int = 0


class PushSource:
    """A source whose samples are pushed in (at ``in_rate``) and read out resampled to ``sample_rate``."""

    def __init__(self, in_rate: float, sample_rate: int = 16000, buffer_s: float = 30.0):
        self.sample_rate = int(sample_rate)
        self._swap_lock = threading.Lock()
        self._reset_rate(in_rate, buffer_s)

    def _reset_rate(self, in_rate: float, buffer_s: float = 30.0) -> None:
        with self._swap_lock:
            self.in_rate = float(in_rate)
            self._buffer_s = buffer_s
            self.ring = RingBuffer(max(1, int(round(self.in_rate * buffer_s))))
            self._resampler = StreamResampler(self.in_rate, self.sample_rate)
            self._cursor = 0

    def push(self, samples: np.ndarray, stamp: float | None = None) -> None:
        self.ring.write(samples, time.monotonic() if stamp is None else stamp)

    def start(self) -> None:
        pass

    def stop(self) -> None:
        pass

    def read(self) -> AudioChunk:
        with self._swap_lock:
            raw, self._cursor, dropped, stamp = self.ring.read_since(self._cursor)
            out = self._resampler.process(raw) if len(raw) else np.zeros(0, dtype=np.float32)
        return AudioChunk(out, stamp, int(round(dropped * self.sample_rate / self.in_rate)))

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()


class MicrophoneSource(PushSource):
    """A sounddevice InputStream at the device's native rate, resampled to ``sample_rate`` on read.

    ``read()`` is also the watchdog (call it from one thread, on a timer): when the stream has stopped, raised, or
    delivered nothing for ``stall_timeout_s``, it reports an "error" event, closes the stream and retries every
    ``retry_s`` (the chosen device if it is back, else the default input, with a "warning").
    """

    def __init__(self, device: DeviceChoice = None, sample_rate: int = 16000, buffer_s: float = 30.0,
                 block_s: float = 0.02, stall_timeout_s: float = 2.0, retry_s: float = 1.0,
                 first_data_timeout_s: float = 5.0, on_event: EventCallback | None = None):
        super().__init__(in_rate=sample_rate, sample_rate=sample_rate, buffer_s=buffer_s)
        self.choice = device
        self.block_s = block_s
        self.stall_timeout_s = stall_timeout_s
        self.first_data_timeout_s = first_data_timeout_s
        self.retry_s = retry_s
        self.on_event = on_event
        self.device: InputDevice | None = None
        self.warning: str | None = None
        self._stream = None
        self._opened_at = 0.0
        self._status_flags = 0
        self._overflows = 0
        self._reported_overflows = 0
        self._next_retry = 0.0
        self._recovering = False
        self._retry_error_reported = False
        # why the input was lost, while it has not come back (kept after stop(): `listen` exits non-zero on it)
        self.lost_problem: str | None = None

    # --- lifecycle -------------------------------------------------------------------------------------------
    def start(self) -> None:
        """Open the stream. Raises NoInputDeviceError / InputStreamError when it cannot start at all."""
        self._recovering = False
        self.lost_problem = None
        self._open()

    def stop(self) -> None:
        self._recovering = False
        self._close()

    @property
    def running(self) -> bool:
        return self._stream is not None and not self._recovering

    def _open(self) -> None:
        sd = _sounddevice()
        device, warning = resolve_input_device(self.choice)
        self.device = device
        self.warning = warning  # None when the chosen device itself was found
        if warning:
            self._emit("warning", warning)
        native = device.default_samplerate or float(self.sample_rate)
        last_exc = None
        # The native rate and mono first; some hardware only opens at another common rate or in stereo.
        for rate in [native] + [r for r in (48000.0, 44100.0, float(self.sample_rate)) if r != native]:
            for channels in _channel_options(device.channels):
                try:
                    stream = sd.InputStream(device=device.id, samplerate=rate, channels=channels, dtype="float32",
                                            blocksize=max(1, int(rate * self.block_s)), callback=self._callback)
                except Exception as exc:  # PortAudioError, ValueError for unsupported settings
                    last_exc = exc
                    continue
                self._reset_rate(rate, self._buffer_s)  # before the first callback can write
                try:
                    stream.start()
                except Exception as exc:
                    last_exc = exc
                    _quietly_close(stream)
                    continue
                self._stream = stream
                self._opened_at = time.monotonic()
                return
        raise InputStreamError(f"cannot open input device {device.label}: {last_exc}")

    def _close(self) -> None:
        stream, self._stream = self._stream, None
        if stream is not None:
            _quietly_close(stream)

    def _callback(self, indata, frames, time_info, status) -> None:
        # Runs on PortAudio's thread: copy and return, nothing else.
        if status:
            self._status_flags += 1
            if getattr(status, "input_overflow", False):
                self._overflows += 1
        if indata.ndim == 2 and indata.shape[1] > 1:
            self.push(indata.mean(axis=1))
        else:
            self.push(indata.reshape(-1))

    # --- reading and recovery ----------------------------------------------------------------------------------
    def read(self) -> AudioChunk:
        now = time.monotonic()
        if self._recovering:
            if now >= self._next_retry:
                self._try_reopen(now)
            if self._recovering:
                return AudioChunk(np.zeros(0, dtype=np.float32), None)
        problem = self._health(now)
        chunk = super().read()
        if self._overflows > self._reported_overflows:
            self._reported_overflows = self._overflows
            self._emit("overflow", f"input overflow on {self.device.label}: some samples were lost")
        if problem:
            self._lose(problem, now)
        return chunk

    def _health(self, now: float) -> str | None:
        stream = self._stream
        if stream is None:
            return "the input stream is closed"
        try:
            active = bool(stream.active)
        except Exception as exc:
            return f"the input stream failed ({exc})"
        if not active:
            return "the input stream stopped"
        last = self.ring.last_stamp
        if last is None or last < self._opened_at:
            # a stream's first data can take a second or more (a sound server waking up): more patience
            limit, since = max(self.stall_timeout_s, self.first_data_timeout_s), self._opened_at
        else:
            limit, since = self.stall_timeout_s, last
        if now - since > limit:
            return f"no audio from the device for {limit:g} s"
        return None

    def _lose(self, problem: str, now: float) -> None:
        name = self.device.label if self.device else str(self.choice)
        self._emit("error", f"input device {name} was lost: {problem}; reconnecting")
        self.lost_problem = f"input device {name} was lost ({problem}) and did not come back"
        self._close()
        self._recovering = True
        self._retry_error_reported = False
        self._next_retry = now + self.retry_s

    def _try_reopen(self, now: float) -> None:
        try:
            self._open()
        except (NoInputDeviceError, InputStreamError) as exc:
            if not self._retry_error_reported:
                self._emit("error", f"{exc}; retrying every {self.retry_s:g} s")
                self._retry_error_reported = True
            self._next_retry = now + self.retry_s
            return
        self._recovering = False
        self.lost_problem = None
        self._emit("recovered", f"input running again on {self.device.label}")

    def _emit(self, kind: str, message: str) -> None:
        if self.on_event is not None:
            try:
                self.on_event(kind, message)
            except Exception:
                pass


def _quietly_close(stream) -> None:
    for method in ("abort", "close"):
        try:
            getattr(stream, method)()
        except Exception:
            pass


def _channel_options(max_channels: int) -> list[int]:
    # Mono first; some hardware only opens in stereo (then the callback averages the channels).
    return [1] if max_channels <= 1 else [1, min(2, max_channels)]
