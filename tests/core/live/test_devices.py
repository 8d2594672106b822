"""Device listing, choice, fallback and recovery, with sounddevice replaced by a fake."""

from __future__ import annotations

import builtins
import time

import numpy as np
import pytest

from audionet_gui.core.live.devices import (
    InputStreamError,
    NoInputDeviceError,
    list_input_devices,
    resolve_input_device,
)
from audionet_gui.core.live.input import MicrophoneSource
from tests.core.live.fakes import tone


def test_lists_only_inputs_with_host_api_names_and_the_default(fake_sd):
    devices = list_input_devices()
    assert [(d.id, d.name, d.hostapi, d.is_default) for d in devices] == [
        (1, "Built-in Mic", "ALSA", True), (2, "USB Headset", "JACK Audio Connection Kit", False)]
    assert devices[1].label == "2: USB Headset (JACK Audio Connection Kit)"


@pytest.mark.parametrize("choice", [2, "2", "USB Headset", "usb headset", "headset"])
def test_a_device_is_chosen_by_id_name_or_part_of_its_name(fake_sd, choice):
    device, warning = resolve_input_device(choice)
    assert device.id == 2 and warning is None


def test_a_missing_device_falls_back_to_the_default_with_a_warning_naming_it(fake_sd):
    device, warning = resolve_input_device("Blue Yeti")
    assert device.id == 1
    assert "'Blue Yeti' not found" in warning and "Built-in Mic" in warning
    device, warning = resolve_input_device(7)
    assert device.id == 1 and "7" in warning


def test_no_input_device_at_all_is_a_clear_error(fake_sd):
    fake_sd.devices = [d for d in fake_sd.devices if d["max_input_channels"] == 0]
    with pytest.raises(NoInputDeviceError, match="no audio input device"):
        resolve_input_device(None)


def test_missing_portaudio_is_a_clear_error(monkeypatch):
    def no_portaudio():
        raise OSError("PortAudio library not found")

    real_import = builtins.__import__

    def fake_import(name, *args, **kwargs):
        if name == "sounddevice":
            no_portaudio()
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", fake_import)
    with pytest.raises(NoInputDeviceError, match="libportaudio2"):
        list_input_devices()


def test_microphone_opens_at_the_native_rate_and_delivers_the_model_rate(fake_sd):
    src = MicrophoneSource("USB Headset", sample_rate=16000)
    src.start()
    stream = fake_sd.streams[-1]
    assert stream.device == 2 and stream.samplerate == 44100.0 and stream.channels == 1
    for _ in range(50):
        stream.feed(tone(440, 0.02, sr=44100))
    chunk = src.read()
    assert 16000 - 500 < chunk.samples.size <= 16000
    src.stop()
    assert stream.closed


def test_a_stream_that_stops_is_reported_and_reopened_on_the_default(fake_sd):
    events = []
    src = MicrophoneSource("USB Headset", sample_rate=16000, retry_s=0.0, on_event=lambda k, m: events.append((k, m)))
    src.start()
    first = fake_sd.streams[-1]
    first.feed(tone(440, 0.1, sr=44100))
    assert src.read().samples.size > 0
    # the headset is unplugged: PortAudio stops the stream and the device leaves the list
    fake_sd.devices = [d for d in fake_sd.devices if d["index"] != 2]
    first.active = False
    assert src.read().samples.size == 0
    assert events[0][0] == "error" and "USB Headset" in events[0][1]
    assert first.closed and not src.running
    src.read()  # retry: the headset is gone, so the default input is opened
    kinds = [k for k, _ in events]
    assert "warning" in kinds and kinds[-1] == "recovered"
    second = fake_sd.streams[-1]
    assert second is not first and second.device == 1 and second.samplerate == 48000.0
    second.feed(tone(440, 0.1, sr=48000))
    assert src.read().samples.size > 1000
    src.stop()


def test_a_stalled_stream_is_detected_and_retried_until_a_device_returns(fake_sd):
    events = []
    src = MicrophoneSource(None, sample_rate=16000, stall_timeout_s=0.05, retry_s=0.0,
                           on_event=lambda k, m: events.append((k, m)))
    src.start()
    fake_sd.streams[-1].feed(tone(440, 0.02, sr=48000))
    time.sleep(0.1)  # no callbacks for longer than the stall timeout
    src.read()
    assert events[-1][0] == "error" and "no audio" in events[-1][1]
    fake_sd.fail_open = True
    for _ in range(3):
        src.read()
    errors = [m for k, m in events if k == "error"]
    assert len(errors) == 2  # lost once, cannot reopen once: not one message per retry
    fake_sd.fail_open = False
    src.read()
    assert events[-1][0] == "recovered" and src.running
    src.stop()


def test_a_stereo_only_device_is_opened_in_stereo_and_averaged(fake_sd, monkeypatch):
    original = fake_sd.InputStream

    def stereo_only(**kw):
        if kw["channels"] != 2:
            raise RuntimeError("Invalid number of channels")
        return original(**kw)

    monkeypatch.setattr(fake_sd, "InputStream", stereo_only)
    src = MicrophoneSource(2, sample_rate=44100)
    src.start()
    stream = fake_sd.streams[-1]
    assert stream.channels == 2
    stream.feed(np.full(441, 0.25, np.float32))
    assert np.allclose(src.read().samples, 0.25)
    src.stop()


def test_overflow_is_reported(fake_sd):
    events = []
    src = MicrophoneSource(None, sample_rate=48000, on_event=lambda k, m: events.append(k))
    src.start()

    class Status:
        input_overflow = True

        def __bool__(self):
            return True

    fake_sd.streams[-1].feed(np.zeros(480, np.float32), status=Status())
    src.read()
    assert events == ["overflow"]
    src.stop()


def test_a_device_that_refuses_its_native_rate_is_opened_at_another(fake_sd, monkeypatch):
    original = fake_sd.InputStream

    def picky(**kw):
        if kw["samplerate"] == 48000.0:
            raise RuntimeError("Invalid sample rate")
        return original(**kw)

    monkeypatch.setattr(fake_sd, "InputStream", picky)
    src = MicrophoneSource(None, sample_rate=16000)
    src.start()
    stream = fake_sd.streams[-1]
    assert stream.samplerate == 44100.0 and src.in_rate == 44100.0
    for _ in range(50):
        stream.feed(tone(440, 0.02, sr=44100))
    assert 16000 - 500 < src.read().samples.size <= 16000
    src.stop()


def test_a_device_that_cannot_be_opened_at_all_names_it(fake_sd):
    fake_sd.fail_open = True
    with pytest.raises(InputStreamError, match="Built-in Mic"):
        MicrophoneSource(None, sample_rate=16000).start()
