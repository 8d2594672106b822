"""The live path through a real (virtual) microphone: PulseAudio null sink "vspeaker" -> source "vmic".

Skipped cleanly when the virtual microphone is not running (scripts/test.sh starts it).
"""

from __future__ import annotations

import time

import numpy as np
import pytest
import soundfile as sf

from audionet_gui.core.answers import SILENCE
from audionet_gui.core.live.engine import LiveConfig, LiveEngine, MicrophoneSource
from audionet_gui.core.live.recorder import record_into_class
from tests.core.live.fakes import (
    HIGH_HZ,
    LABELS,
    LOW_HZ,
    PitchClassifier,
    PrivatePulse,
    play,
    small_spec_cfg,
    tone,
    virtual_mic_or_skip,
)

pytestmark = pytest.mark.live


@pytest.fixture(scope="module", autouse=True)
def _mic():
    virtual_mic_or_skip()


def _wav(tmp_path, name, samples, sr=16000):
    path = tmp_path / name
    sf.write(path, samples, sr)
    return path


def _wait_for(condition, timeout=10.0):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_engine_identifies_tones_spoken_into_the_microphone(tmp_path):
    sr = 16000
    gap = np.zeros(sr, np.float32)
    clip = np.concatenate([tone(LOW_HZ, 2.5), gap, tone(HIGH_HZ, 2.5), gap])
    path = _wav(tmp_path, "tones.wav", clip)
    decisions, events = [], []
    clf = PitchClassifier()
    source = MicrophoneSource(None, sample_rate=sr)
    engine = LiveEngine(source, clf, LABELS, small_spec_cfg(),
                        LiveConfig(window_s=1.0, hop_s=0.5, silence_db=-50.0, threshold=0.6),
                        on_decision=decisions.append, on_event=lambda k, m: events.append((k, m)))
    with engine:
        _wait_for(lambda: decisions)  # a full window of (digital) silence first
        player = play(path)
        assert player.wait(timeout=20) == 0, player.stderr.read()
        time.sleep(0.5)
    labels = [d.label for d in decisions]
    assert not [e for e in events if e[0] == "error"], events
    assert labels[0] == SILENCE
    assert labels.count("low") >= 3 and labels.count("high") >= 3
    # the order is right: low before high
    assert max(i for i, lb in enumerate(labels) if lb == "low") < min(i for i, lb in enumerate(labels) if lb == "high")
    # while nothing plays, nobody is named
    assert all(d.label == SILENCE for d in decisions if d.level_db < -50.0)
    assert all(d.latency_ms < 1000 for d in decisions)
    segs = [s.label for s in engine.timeline.segments() if s.label != SILENCE]
    assert segs[:2] == ["low", "high"]


def test_quiet_room_noise_is_silence_not_a_speaker(tmp_path):
    rng = np.random.default_rng(0)
    noise = (10 ** (-62 / 20) * rng.standard_normal(16000 * 3)).astype(np.float32)  # about -62 dBFS
    path = _wav(tmp_path, "hush.wav", noise)
    decisions = []
    engine = LiveEngine(MicrophoneSource(None, sample_rate=16000), PitchClassifier(), LABELS, small_spec_cfg(),
                        LiveConfig(window_s=1.0, hop_s=0.5, silence_db=-50.0), on_decision=decisions.append)
    with engine:
        _wait_for(lambda: decisions)
        player = play(path)
        player.wait(timeout=20)
    heard = [d for d in decisions if -70.0 < d.level_db < -50.0]
    assert len(heard) >= 2  # the noise itself was heard and judged, not only digital silence
    assert {d.label for d in decisions} == {SILENCE}


def test_a_missing_device_falls_back_to_the_default_and_says_so():
    events = []
    source = MicrophoneSource("No Such Microphone 9000", sample_rate=16000, on_event=lambda k, m: events.append((k, m)))
    source.start()
    try:
        assert source.device is not None and source.device.is_default
        assert "No Such Microphone 9000" in source.warning and "not found" in source.warning
        assert events and events[0][0] == "warning"
    finally:
        source.stop()


def test_record_into_class_captures_what_is_spoken(tmp_path):
    sr = 16000
    path = _wav(tmp_path, "say.wav", tone(LOW_HZ, 3.0))
    source = MicrophoneSource(None, sample_rate=sr)
    source.start()
    player = play(path)
    try:
        # wait until the tone reaches the microphone, then record
        def loud_now():
            x = source.read().samples
            return x.size > 0 and float(np.sqrt(np.mean(x ** 2))) > 0.1

        _wait_for(loud_now)
        recorded = record_into_class(tmp_path / "dataset" / "low", 1.5, source=source)
    finally:
        source.stop()
        player.wait(timeout=20)
    assert recorded.parent == tmp_path / "dataset" / "low"
    data, rate = sf.read(recorded, dtype="float32")
    assert rate == sr and data.size == int(1.5 * sr)
    spectrum = np.abs(np.fft.rfft(data))
    assert abs(np.argmax(spectrum) * sr / data.size - LOW_HZ) < 5
    assert np.sqrt(np.mean(data ** 2)) == pytest.approx(0.3 / np.sqrt(2), rel=0.1)


def test_a_sound_server_that_dies_mid_stream_is_reported_and_recovered(monkeypatch):
    pulse = PrivatePulse()
    pulse.start()
    monkeypatch.setenv("XDG_RUNTIME_DIR", pulse.runtime_dir)  # PortAudio's ALSA-pulse plugin connects on open
    events = []
    source = MicrophoneSource(None, sample_rate=16000, retry_s=0.2, on_event=lambda k, m: events.append((k, m)))

    def read_for(seconds):
        n, end = 0, time.monotonic() + seconds
        while time.monotonic() < end:
            n += source.read().samples.size  # read() is also the watchdog
            time.sleep(0.02)
        return n

    try:
        source.start()
        _wait_for(lambda: read_for(0.1) > 0, timeout=10)  # a first stream takes about a second to flow
        pulse.kill()  # the device disappears
        read_for(1.0)
        assert events and events[0][0] == "error" and "lost" in events[0][1]
        assert not source.running
        pulse.start()  # and comes back
        _wait_for(lambda: read_for(0.1) >= 0 and source.running, timeout=10)
        assert events[-1][0] == "recovered"
        _wait_for(lambda: read_for(0.1) > 0, timeout=10)  # audio flows again
        assert read_for(1.0) > 8000
    finally:
        source.stop()
        pulse.close()
