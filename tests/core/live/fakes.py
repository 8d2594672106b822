"""Fakes shared by the live tests: tones, a classifier that hears pitch, a sounddevice stand-in, the virtual mic."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import threading
import time
from types import SimpleNamespace

import numpy as np
import pytest

from audionet_gui.core.audio.spectrogram import SpectrogramConfig
from audionet_gui.core.live import devices as live_devices
from audionet_gui.core.live import input as live_input
from audionet_gui.core.live.devices import NoInputDeviceError, list_input_devices

LABELS = ["high", "low"]
LOW_HZ, HIGH_HZ = 300.0, 3000.0


def tone(freq: float, seconds: float, sr: int = 16000, amp: float = 0.3) -> np.ndarray:
    t = np.arange(int(round(seconds * sr))) / sr
    return (amp * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def small_spec_cfg(sr: int = 16000):
    return SpectrogramConfig(sample_rate=sr, n_fft=512, hop_length=160, n_mels=64, image_width=64, image_height=64)


class PitchClassifier:
    """Images -> probabilities over LABELS: "low" when the brightest image row is in the lower half (low
    frequencies are at the bottom of the image), with confidence ``confidence``. Records the threads it ran on."""

    def __init__(self, confidence: float = 0.9):
        self.confidence = confidence
        self.threads: list[str] = []
        self.calls = 0

    def __call__(self, images: np.ndarray) -> np.ndarray:
        self.threads.append(threading.current_thread().name)
        self.calls += 1
        out = []
        for img in images:
            rows = img.astype(np.float64).sum(axis=(1, 2))
            low = int(np.argmax(rows)) >= img.shape[0] // 2
            c = self.confidence
            out.append([1 - c, c] if low else [c, 1 - c])
        return np.asarray(out)


# --- a stand-in for the sounddevice module -------------------------------------------------------------------
class FakeStream:
    def __init__(self, backend, device, samplerate, channels, dtype, blocksize, callback):
        if backend.fail_open:
            raise RuntimeError("Error opening InputStream: Device unavailable")
        if device not in [d["index"] for d in backend.devices if d["max_input_channels"] > 0]:
            raise RuntimeError(f"Error opening InputStream: Invalid device {device}")
        self.device, self.samplerate, self.channels = device, samplerate, channels
        self.callback = callback
        self.active = False
        self.closed = False
        backend.streams.append(self)

    def start(self):
        self.active = True

    def abort(self):
        self.active = False

    def close(self):
        self.closed = True
        self.active = False

    def feed(self, samples: np.ndarray, status=None):
        """Deliver one block as PortAudio would."""
        block = np.asarray(samples, dtype=np.float32).reshape(-1, 1)
        if self.channels > 1:
            block = np.repeat(block, self.channels, axis=1)
        self.callback(block, len(block), None, status or 0)


class FakeSoundDevice:
    def __init__(self, devices=None, default_input=1):
        self.devices = devices if devices is not None else [
            {"name": "Speakers", "index": 0, "hostapi": 0, "max_input_channels": 0, "default_samplerate": 48000.0},
            {"name": "Built-in Mic", "index": 1, "hostapi": 0, "max_input_channels": 1, "default_samplerate": 48000.0},
            {"name": "USB Headset", "index": 2, "hostapi": 1, "max_input_channels": 2, "default_samplerate": 44100.0},
        ]
        self.default = SimpleNamespace(device=[default_input, 0])
        self.streams: list[FakeStream] = []
        self.fail_open = False

    def query_devices(self):
        return list(self.devices)

    def query_hostapis(self):
        return [{"name": "ALSA"}, {"name": "JACK Audio Connection Kit"}]

    def InputStream(self, device=None, samplerate=None, channels=None, dtype=None, blocksize=None, callback=None):
        return FakeStream(self, device, samplerate, channels, dtype, blocksize, callback)


@pytest.fixture
def fake_sd(monkeypatch):
    backend = FakeSoundDevice()
    monkeypatch.setattr(live_devices, "_sounddevice", lambda: backend)
    monkeypatch.setattr(live_input, "_sounddevice", lambda: backend)
    return backend


# --- the virtual microphone (scripts/virtual_mic.sh) ----------------------------------------------------------
def virtual_mic_or_skip() -> None:
    """Skip unless a PulseAudio input is reachable (scripts/test.sh starts one; see scripts/virtual_mic.sh)."""
    if not os.environ.get("XDG_RUNTIME_DIR") and not os.environ.get("PULSE_SERVER"):
        pytest.skip("no virtual microphone: XDG_RUNTIME_DIR is not set "
                    '(start it: eval "$(bash scripts/virtual_mic.sh start)")')
    try:
        info = subprocess.run(["pactl", "info"], capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.TimeoutExpired) as exc:
        pytest.skip(f"no virtual microphone: pactl unavailable ({exc})")
    if info.returncode != 0 or "vmic" not in subprocess.run(
            ["pactl", "list", "short", "sources"], capture_output=True, text=True, timeout=5).stdout:
        pytest.skip("no virtual microphone: PulseAudio is not running with the 'vmic' source")

    try:
        devices = list_input_devices()
    except NoInputDeviceError as exc:
        pytest.skip(f"no virtual microphone: {exc}")
    if not any(d.name in ("pulse", "default") for d in devices):
        pytest.skip("no virtual microphone: PortAudio lists no PulseAudio input device")


def play(path, device: str = "vspeaker") -> subprocess.Popen:
    """Speak ``path`` into the virtual microphone, in real time, in the background."""
    return subprocess.Popen(["paplay", f"--device={device}", str(path)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)


class PrivatePulse:
    """A PulseAudio daemon of one's own (its own XDG_RUNTIME_DIR), to kill and restart without disturbing the
    shared virtual microphone: the same null sink + remapped source as scripts/virtual_mic.sh."""

    def __init__(self):
        if shutil.which("pulseaudio") is None:
            pytest.skip("pulseaudio is not installed")
        self.runtime_dir = tempfile.mkdtemp(prefix="an-pulse-", dir="/tmp")  # short: unix socket path limit
        os.chmod(self.runtime_dir, 0o700)
        self.env = dict(os.environ, XDG_RUNTIME_DIR=self.runtime_dir)
        self.env.pop("PULSE_SERVER", None)

    def start(self) -> None:
        subprocess.run(
            ["pulseaudio", "--daemonize=yes", "--exit-idle-time=-1", "-n", "--log-target=stderr",
             "--load=module-native-protocol-unix",
             "--load=module-null-sink sink_name=vspeaker rate=44100",
             "--load=module-remap-source source_name=vmic master=vspeaker.monitor channels=1"],
            env=self.env, capture_output=True, timeout=20)
        for _ in range(100):
            if subprocess.run(["pactl", "info"], env=self.env, capture_output=True).returncode == 0:
                break

            time.sleep(0.05)
        else:
            pytest.skip("could not start a private PulseAudio daemon")
        subprocess.run(["pactl", "set-default-source", "vmic"], env=self.env, capture_output=True)

    def kill(self) -> None:
        subprocess.run(["pulseaudio", "--kill"], env=self.env, capture_output=True, timeout=20)

    def close(self) -> None:
        self.kill()
        shutil.rmtree(self.runtime_dir, ignore_errors=True)


class Feeder:
    """Pushes ``samples`` (may be swapped while running) into a PushSource in 20 ms blocks, about real time,
    looping, until ``stop`` is set. Start it with ``feeder.thread.start()``."""

    def __init__(self, source, samples):
        self.source, self.samples = source, samples
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        pos = 0
        while not self.stop.is_set():
            s = self.samples
            pos = pos % max(1, s.size - 320)
            self.source.push(s[pos:pos + 320])
            pos += 320
            time.sleep(0.02)
