"""The Live page with the real LiveWorker and engine, fed a pushed tone instead of a microphone and a classifier
that hears pitch (tests/core/live/fakes.py): decisions, top-k, timeline, latency, level, the scrolling spectrogram,
the threshold, device choice and warnings, and recording into a class."""

from __future__ import annotations

from dataclasses import replace
from types import SimpleNamespace

import numpy as np
import pytest
import soundfile as sf
from PySide6.QtCore import QSettings

from audionet_gui.core.audio.colormaps import colormap_lut
from audionet_gui.core.audio.windows import WindowConfig
from audionet_gui.core.inspect.inspection import PITCH_CLASSES
from audionet_gui.core.live.devices import InputDevice
from audionet_gui.core.live.engine import LevelReading, LiveConfig, LiveEngine, PushSource
from audionet_gui.core.live.recorder import BACKGROUND_CLASS
from audionet_gui.qt.live_worker import LiveWorker
from audionet_gui.ui.pages.live_panel import LivePanel
from audionet_gui.ui.widgets.level_meter import LevelMeter
from audionet_gui.ui.widgets.scrolling_spectrogram import LAG_S, ScrollingSpectrogram
from tests.core.live.fakes import LABELS, LOW_HZ, Feeder, PitchClassifier, small_spec_cfg, tone

DEVICES = [InputDevice(1, "Built-in Mic", "ALSA", 1, 48000.0, is_default=True),
           InputDevice(2, "USB Headset", "JACK Audio Connection Kit", 2, 44100.0)]


class PushWorker(LiveWorker):
    """The real worker and engine on a pushed tone: no microphone, a pitch-hearing classifier."""

    def __init__(self):
        super().__init__()
        self.asked_devices: list = []
        self.thresholds: list[float] = []
        self.feeder = None

    def input_devices(self):
        return list(DEVICES)

    def start_listening(self, bundle, device=None, config=None, classifier=None):
        self.asked_devices.append(device)
        source = PushSource(16000, sample_rate=16000)
        engine = LiveEngine(source, PitchClassifier(), bundle.labels, bundle.spectrogram_config,
                            LiveConfig(window_s=0.5, hop_s=0.25, threshold=bundle.unknown_threshold, smoothing=1))
        self.stop_feeder()
        feeder = Feeder(source, tone(LOW_HZ, 1.0))
        self.start_engine(engine)
        self.feeder = feeder
        feeder.thread.start()

    def set_threshold(self, threshold):
        self.thresholds.append(threshold)
        super().set_threshold(threshold)

    def stop_feeder(self):
        feeder, self.feeder = self.feeder, None
        if feeder is not None:
            feeder.stop.set()
            feeder.thread.join(2)

    def stop_listening(self):
        self.stop_feeder()
        super().stop_listening()


@pytest.fixture
def settings(tmp_path):
    return QSettings(str(tmp_path / "settings.ini"), QSettings.IniFormat)


@pytest.fixture
def panel(qtbot, settings):
    p = LivePanel(PushWorker(), settings)
    qtbot.addWidget(p)
    p.resize(1000, 650)
    p.show()
    yield p
    p.shutdown()


def fake_bundle(tmp_path, threshold=0.6):
    return SimpleNamespace(path=tmp_path / "model", labels=list(LABELS), unknown_threshold=threshold,
                           spectrogram_config=small_spec_cfg(), sample_rate=16000,
                           window_config=WindowConfig(window_s=0.5, hop_s=0.25))


def listen(qtbot, panel, tmp_path):
    panel.set_bundle(fake_bundle(tmp_path))
    with qtbot.waitSignal(panel.worker.started, timeout=10000):
        panel.start_button.click()
    assert panel.listening


def test_start_without_a_model_says_so_and_starts_nothing(panel):
    panel.start_button.click()
    assert "No model" in panel.status.text()
    assert panel.go_train.isVisible() and panel.open_model.isVisible()
    assert panel.worker.asked_devices == [] and not panel.listening
    assert not panel.recorder.record_button.isEnabled()


def test_live_decisions_top_k_timeline_latency_level_and_spectrogram(qtbot, panel, tmp_path):
    listen(qtbot, panel, tmp_path)
    assert panel.threshold.value() == 60 and panel.worker.thresholds[-1] == pytest.approx(0.6)
    qtbot.waitUntil(lambda: panel.answer.text() == "low", timeout=10000)
    assert panel.bars.items()[0][0] == "low" and panel.bars.items()[0][1] == "90.0 %"
    assert "ms" in panel.latency.text()
    assert float(panel.latency.text().split()[1]) >= 0
    assert panel.timeline.segments and panel.timeline.segments[-1][2] == "low"
    assert -20 < panel.meter.rms_db < -5  # a 0.3 amplitude sine is about -13 dBFS
    assert not panel.meter.clipping

    # columns keep arriving and the view redraws on its own timer at >= 25 frames/s
    received, drawn = panel.spectrogram.columns_received, panel.spectrogram.frames_drawn
    qtbot.wait(1000)
    assert panel.spectrogram.columns_received - received >= 50
    assert panel.spectrogram.frames_drawn - drawn >= 20
    image = panel.spectrogram.ordered()
    newest = image[:, -20:]
    assert image.shape[0] == len(panel.worker.freqs_hz)
    assert np.argmax(newest.mean(axis=1)) < image.shape[0] // 2  # a low tone lights low rows (row 0 = low)

    # the threshold slider reaches the engine: 0.9 confidence is now "unknown"
    panel.threshold.setValue(95)
    assert panel.worker.thresholds[-1] == pytest.approx(0.95)
    qtbot.waitUntil(lambda: panel.answer.text() == "unknown", timeout=5000)
    assert "low" in panel.answer_note.text()

    # silence is never given a class name
    panel.worker.feeder.samples = np.zeros(16000, dtype=np.float32)
    qtbot.waitUntil(lambda: panel.answer.text() == "silence", timeout=5000)
    assert panel.bars.items() == []
    assert {s[2] for s in panel.timeline.segments} >= {"low", "unknown", "silence"}

    with qtbot.waitSignal(panel.worker.stopped, timeout=5000):
        panel.start_button.click()
    assert not panel.listening and panel.start_button.text() == "Start listening"


def test_device_choice_is_remembered_passed_and_a_missing_one_kept(qtbot, settings, tmp_path):
    p = LivePanel(PushWorker(), settings)
    qtbot.addWidget(p)
    labels = [p.device_combo.itemText(i) for i in range(p.device_combo.count())]
    assert any("USB Headset (JACK Audio Connection Kit)" in t for t in labels)
    p.device_combo.setCurrentIndex(p.device_combo.findData("USB Headset"))
    p._device_chosen(p.device_combo.currentIndex())
    assert settings.value("live/device") == "USB Headset"
    listen(qtbot, p, tmp_path)
    assert p.worker.asked_devices == ["USB Headset"]
    p.shutdown()

    settings.setValue("live/device", "Gone Mic")
    again = LivePanel(PushWorker(), settings)
    qtbot.addWidget(again)
    assert again.chosen_device() == "Gone Mic"
    assert "not connected" in again.device_combo.currentText()


def test_device_warning_is_shown(qtbot, panel):
    with qtbot.waitSignal(panel.message) as blocker:
        panel.worker.event.emit("warning", "input device 'USB Mic' not found; using the default input")
    assert panel.warning.isVisible() and "USB Mic" in panel.warning.text()
    assert blocker.args[0] == "warning"


class FakeMicWorker(LiveWorker):
    """The real worker, engine and microphone source on the sounddevice stand-in; only the classifier is fake."""

    def start_listening(self, bundle, device=None, config=None, classifier=None):
        super().start_listening(bundle, device=device, classifier=PitchClassifier())


def test_a_missing_device_falls_back_to_the_default_with_a_visible_warning(qtbot, fake_sd, settings, tmp_path):
    settings.setValue("live/device", "USB Mic that was unplugged")
    p = LivePanel(FakeMicWorker(), settings)
    qtbot.addWidget(p)
    p.show()
    assert "not connected" in p.device_combo.currentText()
    p.set_bundle(fake_bundle(tmp_path))
    with qtbot.waitSignal(p.worker.started, timeout=10000):
        p.start_button.click()
    try:
        qtbot.waitUntil(p.warning.isVisible, timeout=5000)
        assert "USB Mic that was unplugged" in p.warning.text()
        assert "Built-in Mic" in p.status.text()  # the default input actually opened
        assert fake_sd.streams and fake_sd.streams[-1].device == 1
    finally:
        p.shutdown()


def test_a_device_that_cannot_be_opened_is_reported_and_nothing_runs(qtbot, fake_sd, settings, tmp_path):
    fake_sd.fail_open = True
    p = LivePanel(FakeMicWorker(), settings)
    qtbot.addWidget(p)
    p.set_bundle(fake_bundle(tmp_path))
    with qtbot.waitSignal(p.worker.failed, timeout=10000):
        p.start_button.click()
    assert p.status.text().startswith("Could not listen") and "Device unavailable" in p.status.text()
    assert not p.listening and p.start_button.text() == "Start listening"


def test_record_into_a_class_writes_the_wav_and_emits_sample_recorded(qtbot, panel, tmp_path):
    (tmp_path / "data" / "low").mkdir(parents=True)
    panel.set_classes([("high", str(tmp_path / "data" / "high")), ("low", str(tmp_path / "data" / "low")),
                       ("loose", None)])
    assert not panel.recorder.record_button.isEnabled()  # not listening yet
    listen(qtbot, panel, tmp_path)
    panel.recorder.class_combo.setCurrentIndex(panel.recorder.class_combo.findText("low"))
    panel.recorder.seconds.setValue(0.5)
    with qtbot.waitSignal(panel.sample_recorded, timeout=10000) as blocker:
        panel.recorder.record_button.click()
    path = blocker.args[0]
    assert path.parent == tmp_path / "data" / "low" and path.suffix == ".wav"
    assert sf.info(path).frames == 8000 and sf.info(path).samplerate == 16000
    assert panel.recorder.progress.value() == 1000 and path.name in panel.recorder.status.text()
    assert panel.recorder.record_button.isEnabled()


def test_background_noise_asks_for_the_class_then_records_into_it(qtbot, panel, tmp_path):
    panel.set_classes([("low", str(tmp_path / "low"))])
    listen(qtbot, panel, tmp_path)
    panel.recorder.seconds.setValue(0.5)
    with qtbot.waitSignal(panel.background_class_requested, timeout=2000):
        panel.recorder.background_button.click()
    noise_dir = tmp_path / BACKGROUND_CLASS
    with qtbot.waitSignal(panel.sample_recorded, timeout=10000) as blocker:
        panel.set_classes([("low", str(tmp_path / "low")), (BACKGROUND_CLASS, str(noise_dir))])
    assert blocker.args[0].parent == noise_dir and blocker.args[0].exists()


def test_main_window_gives_the_live_page_its_classes_and_rescans_after_a_recording(qtbot, window, tmp_path):
    panel = window.live_panel
    if not isinstance(panel, LivePanel) or panel.settings is not window.settings:
        pytest.skip("main_window.py does not wire the Live page yet")
    folder = tmp_path / "alice"
    folder.mkdir()
    sf.write(folder / "a.wav", tone(LOW_HZ, 1.0), 16000)
    window.add_paths([str(folder)])
    combo = panel.recorder.class_combo
    assert [combo.itemText(i) for i in range(combo.count())] == ["alice"]
    assert panel.recorder.folder() == str(folder)
    qtbot.waitUntil(lambda: window.scan is not None, timeout=20000)
    sf.write(folder / "b.wav", tone(LOW_HZ, 1.0), 16000)
    panel.sample_recorded.emit(folder / "b.wav")  # what a finished recording sends
    qtbot.waitUntil(lambda: window.scan is not None and len(window.scan.files.get("alice", [])) == 2, timeout=20000)


def test_the_spectrogram_glides_between_bursts_then_holds_still(qtbot):
    view = ScrollingSpectrogram(span_s=2.0)
    qtbot.addWidget(view)
    view.show()
    view.configure(np.linspace(0, 8000, 16), 0.01)
    view.append_columns(np.full((16, 300), -20.0, dtype=np.float32), 0.005)  # 3 s of columns in one burst
    view.redraw()
    x0 = view.plot.vb.viewRange()[0][1]
    assert x0 == pytest.approx(3.0 - LAG_S, abs=0.02)  # trails the newest column
    view.start()
    qtbot.wait(int(LAG_S * 1000) + 150)
    x1 = view.plot.vb.viewRange()[0][1]
    assert x1 == pytest.approx(3.0, abs=0.02)  # caught up, never past the data
    frames = view.frames_drawn
    qtbot.wait(150)
    assert view.frames_drawn == frames  # nothing new: no redraws
    view.stop()


def test_level_meter_reads_dbfs_and_holds_the_clip_light(qtbot):
    meter = LevelMeter()
    qtbot.addWidget(meter)
    meter.show()
    meter.set_level(LevelReading(t=1.0, rms_db=-23.4, peak_db=-10.0, clipped=False))
    assert meter.text() == "-23 dBFS" and not meter.clipping
    meter.set_level(LevelReading(t=1.02, rms_db=-2.0, peak_db=0.0, clipped=True))
    meter.set_level(LevelReading(t=1.04, rms_db=-30.0, peak_db=-20.0, clipped=False))
    assert meter.clipping and meter.text().endswith("CLIP")  # still lit after the clipped block
    assert meter.rms_db == pytest.approx(-2.0 - 24.0 * 0.02)  # falls smoothly, not at once
    meter.set_level(LevelReading(t=3.04, rms_db=-30.0, peak_db=-20.0, clipped=False))
    assert meter.rms_db == pytest.approx(-30.0)  # once it has fallen that far it reads the signal again
    meter.grab()  # paints without error
    meter.reset()
    assert meter.text() == "-inf dBFS" and not meter.clipping


def test_the_live_view_of_a_chroma_model_shows_pitch_classes_in_its_colormap_and_levels(qtbot, panel, tmp_path):
    spec = replace(small_spec_cfg(), kind="chroma", colormap="cividis", ref="absolute", db_range=70.0)
    bundle = fake_bundle(tmp_path)
    bundle.spectrogram_config = spec
    panel.set_bundle(bundle)
    with qtbot.waitSignal(panel.worker.started, timeout=10000):
        panel.start_button.click()
    view = panel.spectrogram
    qtbot.waitUntil(lambda: view.columns_received > 20, timeout=10000)
    view.redraw()
    assert view.ordered().shape[0] == 12  # one row per pitch class, computed with the model's settings
    ticks = view.freq_axis.tickValues(0, 12, view.freq_axis.height())
    labels = view.freq_axis.tickStrings(ticks[0][1], 1.0, 1.0)
    assert labels and set(labels) <= set(PITCH_CLASSES)
    assert view.freq_axis.labelText == "Pitch class" and not view.freq_axis.labelUnits  # not Hz
    assert np.array_equal(view.image.lut, colormap_lut("cividis"))
    assert tuple(view.image.levels) == (-70.0, 0.0)
