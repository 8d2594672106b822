"""LiveWorker: engine callbacks arrive as Qt signals on the GUI thread; start failures and recordings are reported."""

from __future__ import annotations

import soundfile as sf
from PySide6.QtCore import QThread

from audionet_gui.core.live.devices import NoInputDeviceError
from audionet_gui.core.live.engine import LiveConfig, LiveEngine, MicrophoneSource, PushSource
from audionet_gui.qt.live_worker import DISPLAY_FPS, LiveWorker
from tests.core.live.fakes import LABELS, LOW_HZ, Feeder, PitchClassifier, small_spec_cfg, tone


def _engine(source=None):
    source = source or PushSource(16000, sample_rate=16000)
    return LiveEngine(source, PitchClassifier(), LABELS, small_spec_cfg(),
                      LiveConfig(window_s=0.5, hop_s=0.25, threshold=0.6, smoothing=1))


def test_signals_reach_the_gui_thread(qtbot, tmp_path):
    worker = LiveWorker()
    engine = _engine()
    feeder = Feeder(engine.source, tone(LOW_HZ, 1.0))
    got = {"decision": [], "level": [], "columns": [], "threads": set()}
    gui_thread = QThread.currentThread()

    def on(name):
        def slot(*args):
            got[name].append(args)
            got["threads"].add(QThread.currentThread() is gui_thread)
        return slot

    worker.decision.connect(on("decision"))
    worker.level.connect(on("level"))
    worker.columns.connect(on("columns"))
    with qtbot.waitSignal(worker.started, timeout=10000):
        worker.start_engine(engine)
    feeder.thread.start()
    try:
        qtbot.waitUntil(lambda: len(got["decision"]) >= 2, timeout=10000)
        assert got["threads"] == {True}
        d = got["decision"][-1][0]
        assert d.label == "low" and d.latency_ms >= 0
        assert got["level"] and got["columns"]
        columns, t0 = got["columns"][-1]
        assert columns.shape[0] == len(worker.freqs_hz) and t0 >= 0
        assert worker.timeline() and worker.timeline()[-1].label == "low"

        # record into a class while the live view goes on
        worker.set_threshold(0.95)
        assert worker.listening and not worker.recording
        with qtbot.waitSignal(worker.recorded, timeout=10000) as blocker:
            worker.record(tmp_path / "low", 0.5, stem="take")
            assert worker.recording
        path = blocker.args[0]
        assert path == tmp_path / "low" / "take.wav" and sf.info(path).frames == 8000
        qtbot.waitUntil(lambda: got["decision"][-1][0].label == "unknown", timeout=5000)
    finally:
        feeder.stop.set()
        with qtbot.waitSignal(worker.stopped, timeout=5000):
            worker.stop_listening()
    assert not engine.running and not worker.listening


def test_a_start_failure_is_a_signal_not_a_crash(qtbot):
    class NoMic(PushSource):
        def start(self):
            raise NoInputDeviceError("no audio input device found")

    worker = LiveWorker()
    with qtbot.waitSignal(worker.failed, timeout=10000) as blocker:
        worker.start_engine(_engine(NoMic(16000, sample_rate=16000)))
    assert "no audio input device" in blocker.args[0]
    assert worker.engine is None


def test_recording_needs_a_running_input(qtbot, tmp_path):
    worker = LiveWorker()
    with qtbot.waitSignal(worker.record_failed, timeout=1000) as blocker:
        worker.record(tmp_path / "x", 1.0)
    assert "start listening" in blocker.args[0]


def test_a_missing_device_is_a_visible_warning_and_the_default_is_used(qtbot, fake_sd):
    worker = LiveWorker()
    events = []
    worker.event.connect(lambda kind, message: events.append((kind, message)))
    with qtbot.waitSignal(worker.started, timeout=10000) as blocker:
        worker.start_engine(_engine(MicrophoneSource("Blue Yeti", sample_rate=16000)))
    device = blocker.args[0]
    assert device.name == "Built-in Mic" and device.is_default
    qtbot.waitUntil(lambda: bool(events), timeout=2000)
    assert events[0][0] == "warning" and "'Blue Yeti' not found" in events[0][1]
    with qtbot.waitSignal(worker.stopped, timeout=5000):
        worker.stop_listening()


def test_input_devices_for_a_picker(fake_sd):
    devices = LiveWorker.input_devices()
    assert [d.key for d in devices] == ["Built-in Mic", "USB Headset"]
    fake_sd.devices = []
    assert LiveWorker.input_devices() == []


def test_one_display_timer_paces_the_signals(qtbot):
    """The engine writes ~100 column blocks and 50 level readings a second into its feed; the worker's display
    timer turns them into at most one ``columns`` and one ``level`` per frame, all on the GUI thread."""
    worker = LiveWorker()
    engine = _engine()
    feeder = Feeder(engine.source, tone(LOW_HZ, 1.0))
    counts = {"columns": 0, "level": 0, "frame": 0, "other_thread": 0}
    gui_thread = QThread.currentThread()

    def count(name):
        def slot(*_args):
            counts[name] += 1
            counts["other_thread"] += QThread.currentThread() is not gui_thread
        return slot

    for name in ("columns", "level", "frame"):
        getattr(worker, name).connect(count(name))
    with qtbot.waitSignal(worker.started, timeout=10000):
        worker.start_engine(engine)
    feeder.thread.start()
    try:
        qtbot.wait(300)
        before = dict(counts)
        pumped = engine.stream_time_s
        qtbot.wait(1000)
        pumped = engine.stream_time_s - pumped
        frames = counts["frame"] - before["frame"]
        assert pumped > 0.5  # audio kept flowing
        assert 10 <= frames <= DISPLAY_FPS + 3
        assert 0 < counts["columns"] - before["columns"] <= frames + 1
        assert 0 < counts["level"] - before["level"] <= frames + 1
        assert counts["other_thread"] == 0
    finally:
        feeder.stop.set()
        with qtbot.waitSignal(worker.stopped, timeout=5000):
            worker.stop_listening()
    assert not worker.display_timer.isActive()
