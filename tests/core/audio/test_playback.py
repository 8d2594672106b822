"""Player against a fake sounddevice: the callback is pulled from a thread like a real device would."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from audionet_gui.core.audio.playback import PlaybackError, Player


class FakeCallbackStop(Exception):
    pass


class FakeStream:
    """Pulls blocks from the callback in real time (block/rate seconds apart) and records what it played."""

    def __init__(self, backend, samplerate, channels, dtype, blocksize, callback, finished_callback):
        self.backend = backend
        self.samplerate, self.blocksize = samplerate, blocksize
        self.callback, self.finished_callback = callback, finished_callback
        self.latency = 0.0
        self._stop = threading.Event()
        self.played = []
        backend.streams.append(self)

    def start(self):
        def run():
            try:
                while not self._stop.is_set():
                    out = np.empty((self.blocksize, 1), dtype=np.float32)
                    try:
                        self.callback(out, self.blocksize, None, None)
                    except FakeCallbackStop:
                        self.played.append(out.copy())
                        break
                    self.played.append(out.copy())
                    time.sleep(self.blocksize / self.samplerate)
            finally:
                self.finished_callback()
        self._thread = threading.Thread(target=run, daemon=True)
        self._thread.start()

    def abort(self):
        self._stop.set()
        self._thread.join(2)

    def close(self):
        pass


class FakeSoundDevice:
    CallbackStop = FakeCallbackStop

    def __init__(self, has_output=True):
        self.has_output = has_output
        self.streams = []

    def query_devices(self, kind=None):
        if not self.has_output:
            raise ValueError("Error querying device -1")
        return {"name": "fake speaker", "max_output_channels": 2}

    def OutputStream(self, **kwargs):
        return FakeStream(self, **kwargs)


def test_position_advances_while_playing_and_stops_at_the_end():
    sr = 8000
    samples = np.linspace(-0.5, 0.5, sr // 2, dtype=np.float32)  # 0.5 s
    backend = FakeSoundDevice()
    player = Player(backend=backend, blocksize=400)  # 50 ms blocks
    player.play(samples, sr)
    assert player.playing
    time.sleep(0.15)
    mid = player.position_s
    assert 0.0 < mid < 0.5
    assert player.wait(3.0)
    assert not player.playing
    assert player.position_s == pytest.approx(0.5)
    played = np.concatenate(backend.streams[0].played)[:, 0]
    np.testing.assert_array_equal(played[: samples.size], samples)  # every sample, in order
    assert not played[samples.size:].any()                         # the last block is padded with silence


def test_play_from_an_offset_and_stop_midway():
    sr = 8000
    samples = np.zeros(sr * 2, dtype=np.float32)
    player = Player(backend=FakeSoundDevice(), blocksize=400)
    player.play(samples, sr, start_s=1.0)
    assert player.position_s >= 1.0
    time.sleep(0.1)
    player.stop()
    stopped_at = player.position_s
    assert 1.0 < stopped_at < 2.0
    time.sleep(0.1)
    assert player.position_s == stopped_at and not player.playing


def test_position_subtracts_output_latency():
    sr = 8000
    backend = FakeSoundDevice()
    player = Player(backend=backend, blocksize=400)
    original = backend.OutputStream

    def slow_stream(**kw):
        stream = original(**kw)
        stream.latency = 10.0  # longer than the clip: the playhead must not move past the start yet
        return stream

    backend.OutputStream = slow_stream
    player.play(np.zeros(sr, dtype=np.float32), sr)
    time.sleep(0.1)
    assert player.position_s == 0.0
    player.stop()


def test_no_output_device_gives_a_clear_error():
    player = Player(backend=FakeSoundDevice(has_output=False))
    with pytest.raises(PlaybackError, match="No sound output device"):
        player.play(np.zeros(100, dtype=np.float32), 8000)
    assert not player.playing


def test_device_that_refuses_the_stream_gives_a_clear_error():
    backend = FakeSoundDevice()

    def refuse(**kw):
        raise RuntimeError("Invalid sample rate")

    backend.OutputStream = refuse
    player = Player(backend=backend)
    with pytest.raises(PlaybackError, match="refused to play 8000 Hz"):
        player.play(np.zeros(100, dtype=np.float32), 8000)
    assert not player.playing


def test_real_sounddevice_without_a_device_raises_playback_error_not_a_crash():
    # On this machine there is no sound card; with the virtual speaker running this plays 10 ms of silence.
    player = Player()
    try:
        player.play(np.zeros(160, dtype=np.float32), 16000)
    except PlaybackError as exc:
        assert "device" in str(exc) or "PortAudio" in str(exc)
    else:
        assert player.wait(5.0)
    finally:
        player.stop()


def test_play_a_range_keeps_positions_relative_to_the_clip():
    sr = 8000
    samples = np.arange(sr * 2, dtype=np.float32) / (sr * 2)
    backend = FakeSoundDevice()
    player = Player(backend=backend, blocksize=400)
    player.play(samples, sr, start_s=0.5, end_s=0.75)
    assert player.wait(3.0)
    assert player.position_s == pytest.approx(0.75)
    played = np.concatenate(backend.streams[0].played)[:, 0]
    np.testing.assert_array_equal(played[: sr // 4], samples[sr // 2: 3 * sr // 4])


def test_a_stalled_device_stalls_the_playhead():
    sr = 8000
    backend = FakeSoundDevice()
    original = backend.OutputStream

    def stalling(**kw):
        stream = original(**kw)
        callback = stream.callback

        def one_block_then_nothing(out, frames, t, status):
            if stream.played:
                time.sleep(0.6)  # the device stops asking for audio for a while
            callback(out, frames, t, status)
        stream.callback = one_block_then_nothing
        return stream

    backend.OutputStream = stalling
    player = Player(backend=backend, blocksize=400)   # 50 ms per block
    player.play(np.zeros(sr * 2, dtype=np.float32), sr)
    time.sleep(0.3)
    assert player.position_s <= 0.1 + 1e-9   # at most the two blocks it was given, not the 0.3 s that passed
    player.stop()
