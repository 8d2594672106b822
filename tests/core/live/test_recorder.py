"""Recording into a class folder: correct WAV, written in one step, never over a user's file."""

from __future__ import annotations

import os
import threading
import time

import numpy as np
import pytest
import soundfile as sf

from audionet_gui.core.base.jobs import Cancelled, CancelToken
from audionet_gui.core.live.input import PushSource
from audionet_gui.core.live.recorder import (
    BACKGROUND_CLASS,
    RecordingError,
    SampleRecorder,
    record_background_noise,
    record_into_class,
    save_recording,
)
from tests.core.live.fakes import tone


def test_save_recording_writes_a_readable_wav(tmp_path):
    x = tone(440, 0.5)
    path = save_recording(x, 16000, tmp_path / "alice", stem="take")
    assert path == tmp_path / "alice" / "take.wav"
    data, sr = sf.read(path, dtype="float32")
    assert sr == 16000 and data.shape == x.shape
    assert np.max(np.abs(data - x)) < 1e-4  # 16-bit PCM
    assert sorted(os.listdir(tmp_path / "alice")) == ["take.wav"]  # no temporary file left behind


def test_save_recording_never_overwrites(tmp_path):
    cls = tmp_path / "bob"
    cls.mkdir()
    (cls / "take.wav").write_bytes(b"the user's own file")
    (cls / "take_2.wav").write_bytes(b"another one")
    path = save_recording(tone(300, 0.2), 16000, cls, stem="take")
    assert path.name == "take_3.wav"
    assert (cls / "take.wav").read_bytes() == b"the user's own file"
    assert (cls / "take_2.wav").read_bytes() == b"another one"


def test_concurrent_recordings_get_distinct_names(tmp_path):
    paths, errors = [], []

    def save(i):
        try:
            paths.append(save_recording(tone(300 + i, 0.1), 16000, tmp_path / "c", stem="same"))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=save, args=(i,)) for i in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert not errors and len(set(paths)) == 8
    assert all(sf.info(p).frames == 1600 for p in paths)


def test_the_default_name_says_the_class_and_time(tmp_path):
    path = save_recording(tone(300, 0.1), 16000, tmp_path / "Ann Lee")
    assert path.name.startswith("Ann_Lee_") and path.suffix == ".wav"


def test_nothing_recorded_is_an_error_and_leaves_no_file(tmp_path):
    with pytest.raises(RecordingError):
        save_recording(np.zeros(0, np.float32), 16000, tmp_path / "x")
    assert os.listdir(tmp_path / "x") == []


def test_sample_recorder_takes_exactly_n_samples():
    rec = SampleRecorder(1000)
    for _ in range(5):
        rec(np.ones(300, np.float32))
    assert rec.done.is_set() and rec.samples().size == 1000


def _feeder(src, seconds, stop, sr=48000):
    def run():
        block = tone(440, 0.02, sr=sr)
        end = time.monotonic() + seconds
        while not stop.is_set() and time.monotonic() < end:
            src.push(block)
            time.sleep(0.005)  # faster than real time: the test stays short
    th = threading.Thread(target=run, daemon=True)
    th.start()
    return th


def test_record_into_class_from_a_live_source(tmp_path):
    src = PushSource(48000, sample_rate=16000)
    stop = threading.Event()
    _feeder(src, 5.0, stop)
    reports = []
    try:
        path = record_into_class(tmp_path / "carol", 1.0, source=src, progress=reports.append)
    finally:
        stop.set()
    data, sr = sf.read(path, dtype="float32")
    assert sr == 16000 and data.size == 16000
    assert reports and reports[-1].done == reports[-1].total == 16000


def test_record_background_noise_uses_the_background_class(tmp_path):
    src = PushSource(16000, sample_rate=16000)
    stop = threading.Event()
    _feeder(src, 5.0, stop, sr=16000)
    try:
        path = record_background_noise(tmp_path, 0.5, source=src)
    finally:
        stop.set()
    assert path.parent == tmp_path / BACKGROUND_CLASS


def test_cancel_keeps_nothing(tmp_path):
    src = PushSource(16000, sample_rate=16000)
    token = CancelToken()
    threading.Timer(0.1, token.cancel).start()
    with pytest.raises(Cancelled):
        record_into_class(tmp_path / "dave", 30.0, source=src, cancel=token)
    assert not (tmp_path / "dave").exists() or os.listdir(tmp_path / "dave") == []
