"""InspectorPanel offscreen: views, hover readout, live parameters, the CNN image, exports, playback."""

from __future__ import annotations

import csv

import numpy as np
import pytest
import soundfile as sf
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtTest import QTest

from audionet_gui.core.audio.playback import Player
from audionet_gui.core.audio.spectrogram import SpectrogramConfig, load_png, spectrogram_image
from audionet_gui.core.audio.windows import WindowConfig
from audionet_gui.core.inspect.inspection import row_of_freq
from audionet_gui.core.settings import ImageSettings
from audionet_gui.ui.pages.inspector import InspectorPanel
from audionet_gui.ui.widgets.spectrogram_view import clock_text
from tests.core.audio.test_playback import FakeSoundDevice

SR = 16000
CFG = SpectrogramConfig(n_mels=64, image_width=64, image_height=64)
WIN = WindowConfig(window_s=1.0, hop_s=0.5)
SETTINGS = ImageSettings.from_parts(CFG, WIN)


def edit(form, name, value):
    """What a user does to one field of the settings form."""
    editor = form.editors[name]
    if editor.auto is not None:
        editor.auto.setChecked(value is None)
    if value is None:
        return
    if editor.field.kind == "choice":
        editor.combo.setCurrentIndex(editor.combo.findData(value))
    else:
        editor.number.setValue(value)


@pytest.fixture
def tone_wav(tmp_path):
    t = np.arange(3 * SR) / SR
    path = tmp_path / "tone.wav"
    sf.write(path, (0.5 * np.sin(2 * np.pi * 1000 * t)).astype(np.float32), SR, subtype="FLOAT")
    return path


@pytest.fixture
def panel(qtbot):
    p = InspectorPanel(player=Player(backend=FakeSoundDevice(), blocksize=800))
    qtbot.addWidget(p)
    p.resize(1100, 650)
    p.show()
    p.set_settings(SETTINGS)
    yield p
    p.shutdown()


def load(qtbot, panel, path):
    with qtbot.waitSignals([panel.loaded, panel.image_updated], timeout=15000):
        panel.show_file(path)


def viewport_pos(view, x, y):
    scene = view.plot.vb.mapViewToScene(QPointF(x, y))
    return view.mapFromScene(scene)


def test_show_file_fills_both_views_with_the_right_ranges(qtbot, panel, tone_wav):
    load(qtbot, panel, tone_wav)
    (x0, x1), (y0, y1) = panel.spectrogram.plot.vb.viewRange()
    assert (x0, x1) == pytest.approx((0.0, 3.0), abs=0.01)
    assert (y0, y1) == pytest.approx((0.0, 64.0))
    assert panel.waveform.plot.vb.viewRange()[0] == pytest.approx([x0, x1])  # linked time axes
    rect = panel.spectrogram.image.mapRectToParent(panel.spectrogram.image.boundingRect())
    assert rect.left() == pytest.approx(-0.005) and rect.right() == pytest.approx(3.005, abs=0.011)
    assert rect.height() == pytest.approx(64.0)
    ticks = panel.spectrogram.freq_axis.tickValues(0, 64, 400)[0][1]
    labels = panel.spectrogram.freq_axis.tickStrings(ticks, 1, 1)
    assert "1k" in labels
    wave_y = panel.waveform.curve.yData
    assert wave_y.max() == pytest.approx(0.5, abs=0.01) and wave_y.min() == pytest.approx(-0.5, abs=0.01)
    assert panel.window_spin.maximum() == len(panel.inspection.windows) == 5
    assert "3.00 s" in panel.info_label.text()


def test_hover_reads_time_frequency_and_level(qtbot, panel, tone_wav):
    load(qtbot, panel, tone_wav)
    view = panel.spectrogram
    freqs = panel.inspection.spectrogram.freqs_hz
    readouts = []
    view.hovered.connect(readouts.append)
    QTest.mouseMove(view.viewport(), viewport_pos(view, 0.2, 5.0))  # the cursor may already sit on the target
    qtbot.wait(100)  # pyqtgraph drops mouse moves that come faster than the screen refreshes
    QTest.mouseMove(view.viewport(), viewport_pos(view, 1.5, row_of_freq(freqs, 1000.0)))
    qtbot.waitUntil(lambda: readouts and readouts[-1] is not None and readouts[-1].time_s > 1, timeout=3000)
    on = readouts[-1]
    assert on.time_s == pytest.approx(1.5, abs=0.01)
    assert on.freq_hz == pytest.approx(1000.0, abs=30)
    assert on.db == pytest.approx(float(panel.inspection.spectrogram.values_db[:, 150].max()), abs=3)
    assert -9 < on.db < -4  # a half-scale sine: -6 dB re full scale
    assert panel.readout.text() == on.text() and "Hz" in on.text() and "dB" in on.text()
    # the scene's own move signal (a second synthetic QTest move is not always delivered offscreen)
    view.scene().sigMouseMoved.emit(view.plot.vb.mapViewToScene(QPointF(1.5, row_of_freq(freqs, 5000.0))))
    assert readouts[-1].freq_hz == pytest.approx(5000.0, rel=0.01)
    assert readouts[-1].db < on.db - 40


def test_cnn_image_is_spectrogram_image_of_the_window_byte_for_byte(qtbot, panel, tone_wav):
    load(qtbot, panel, tone_wav)
    window = panel.inspection.windows[0]
    expected = spectrogram_image(window.samples, CFG)
    np.testing.assert_array_equal(panel.cnn_image, expected)
    np.testing.assert_array_equal(panel.cnn_view.shown_pixels(), expected)
    with qtbot.waitSignal(panel.image_updated, timeout=5000):
        panel.window_spin.setValue(3)
    window = panel.inspection.windows[2]
    assert (window.start_s, window.end_s) == (1.0, 2.0)
    assert panel.spectrogram.region.getRegion() == pytest.approx((1.0, 2.0))
    assert panel.waveform.region.getRegion() == pytest.approx((1.0, 2.0))
    np.testing.assert_array_equal(panel.cnn_view.shown_pixels(), spectrogram_image(window.samples, CFG))


def test_click_on_a_view_selects_the_window_there(qtbot, panel, tone_wav):
    load(qtbot, panel, tone_wav)
    view = panel.spectrogram
    with qtbot.waitSignal(panel.image_updated, timeout=5000):
        QTest.mouseClick(view.viewport(), Qt.LeftButton, Qt.NoModifier, viewport_pos(view, 2.9, 30.0))
    assert panel.window_index == 4 and panel.window_spin.value() == 5
    with qtbot.waitSignal(panel.image_updated, timeout=5000):
        QTest.mouseClick(panel.waveform.viewport(), Qt.LeftButton, Qt.NoModifier,
                         viewport_pos(panel.waveform, 0.2, 0.0))
    assert panel.window_index == 0


def test_changing_parameters_updates_the_views_and_the_image(qtbot, panel, tone_wav):
    load(qtbot, panel, tone_wav)
    with qtbot.waitSignals([panel.spectrogram_updated, panel.image_updated], timeout=10000):
        edit(panel.controls, "n_mels", 32)   # debounced, then recomputed off the GUI thread
    assert panel.spectrogram_cfg.n_mels == 32
    assert panel.inspection.spectrogram.values_db.shape[0] == 32
    assert panel.spectrogram.plot.vb.viewRange()[1] == pytest.approx([0.0, 32.0])
    window = panel.inspection.windows[0]
    np.testing.assert_array_equal(panel.cnn_image, spectrogram_image(window.samples, panel.spectrogram_cfg))

    before = panel.cnn_image.copy()
    edited = []
    panel.settings_edited.connect(edited.append)
    with qtbot.waitSignal(panel.image_updated, timeout=10000):
        edit(panel.controls, "colormap", "magma")
    assert edited and edited[-1].spectrogram.colormap == "magma" and edited[-1].spectrogram.n_mels == 32
    assert edited[-1].image_size == (64, 64)
    assert not np.array_equal(before, panel.cnn_image)
    np.testing.assert_array_equal(panel.cnn_image, spectrogram_image(window.samples, edited[-1].spectrogram))
    assert panel.inspection.spectrogram.values_db.shape[0] == 32  # a colormap needs no recomputation


def test_invalid_parameters_are_refused_with_a_reason(qtbot, panel, tone_wav):
    load(qtbot, panel, tone_wav)
    edit(panel.controls, "fmax", 1000)
    edit(panel.controls, "fmin", 2000)
    assert panel.controls.settings().spectrogram.fmin == CFG.fmin  # refused, not sent
    assert panel.controls.error.isVisible() and "fmin" in panel.controls.error.text()
    assert panel.spectrogram_cfg.fmin == CFG.fmin
    edit(panel.controls, "fmax", 3000)  # the refused value is applied with the edit that makes it valid
    assert not panel.controls.error.isVisible()
    assert (panel.controls.settings().spectrogram.fmin, panel.controls.settings().spectrogram.fmax) == (2000, 3000)


def test_exports_write_the_png_and_the_csv(qtbot, panel, tone_wav, tmp_path):
    load(qtbot, panel, tone_wav)
    png = tmp_path / "out" / "window.png"
    panel.export_cnn_image(png)
    np.testing.assert_array_equal(load_png(png), panel.cnn_image)
    out = tmp_path / "values.csv"
    with qtbot.waitSignal(panel.exported, timeout=10000) as blocker:
        panel.export_values_csv(out)
    assert blocker.args == [str(out)]
    rows = list(csv.reader(open(out)))
    spec = panel.inspection.spectrogram
    assert rows[0] == ["time_s", "freq_hz", "db"] and len(rows) - 1 == spec.values_db.size
    assert float(rows[1][2]) == pytest.approx(float(spec.values_db[0, 0]), abs=0.01)


def test_playback_moves_the_playhead_and_stops(qtbot, panel, tone_wav):
    load(qtbot, panel, tone_wav)
    with qtbot.waitSignal(panel.playback_stopped, timeout=10000):
        assert panel.play(window_only=True)   # window 1: 0.0-1.0 s of a 3 s clip
        assert panel.play_window_button.text() == "Stop"
        qtbot.wait(300)
        assert panel.spectrogram.playhead.isVisible() and panel.waveform.playhead.isVisible()
        assert 0.0 < panel.spectrogram.playhead.value() < 1.0
    assert panel.player.position_s == pytest.approx(1.0)
    assert not panel.spectrogram.playhead.isVisible()
    assert panel.play_window_button.text() == "Play window"


def test_no_sound_device_gives_a_message_not_a_crash(qtbot, tone_wav):
    p = InspectorPanel(player=Player(backend=FakeSoundDevice(has_output=False)))
    qtbot.addWidget(p)
    p.show()
    p.set_settings(SETTINGS)
    load(qtbot, p, tone_wav)
    statuses = []
    p.status.connect(statuses.append)
    assert not p.play()
    assert p.message.isVisible() and "No sound output device" in p.message.text()
    assert statuses and "No sound output device" in statuses[-1]
    assert p.play_button.text() == "Play"
    p.shutdown()


def test_show_window_selects_that_window_after_loading(qtbot, panel, tone_wav):
    with qtbot.waitSignals([panel.loaded, panel.image_updated], timeout=15000):
        panel.show_window(tone_wav, 1.5)
    assert panel.window_index == 3
    assert panel.inspection.windows[3].start_s == 1.5


def test_unreadable_file_shows_the_file_and_the_reason(qtbot, panel, tmp_path):
    bad = tmp_path / "broken.wav"
    bad.write_bytes(b"RIFF....WAVEfmt nonsense")
    with qtbot.waitSignal(panel.worker.failed, timeout=10000):
        panel.show_file(bad)
    assert "broken.wav" in panel.message.text()
    assert panel.inspection is None and not panel.play_button.isEnabled()


def test_long_file_is_drawn_from_screen_sized_overviews(qtbot, panel, tmp_path):
    path = tmp_path / "long.wav"
    rng = np.random.default_rng(0)
    sf.write(path, (0.1 * rng.standard_normal(SR * 120)).astype(np.float32), SR)  # 2 minutes
    load(qtbot, panel, path)
    assert panel.inspection.spectrogram.values_db.shape[1] == 120 * 100 + 1
    width = panel.spectrogram.plot.vb.width()
    assert panel.spectrogram.image.image.shape[1] <= max(200, width) + 1
    assert panel.waveform.curve.xData.size <= 2 * max(200, panel.waveform.plot.vb.width()) + 4
    assert panel.spectrogram.time_axis.clock  # 2 minutes: h:mm:ss ticks


def test_long_files_get_a_clock_time_axis():
    assert [clock_text(v, 1.0) for v in (0, 59, 61.4, 3600, 3723)] == ["0:00", "0:59", "1:01", "1:00:00", "1:02:03"]
    assert clock_text(61.5, 0.5) == "1:01.5" and clock_text(59.96, 0.5) == "1:00.0"


def test_dropping_an_audio_file_shows_it(qtbot, panel, tone_wav):
    assert panel.views_stack.currentWidget() is panel.placeholder
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(tone_wav))])
    enter = QDragEnterEvent(QPointF(50, 50), Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier)
    panel.dragEnterEvent(enter)
    assert enter.isAccepted()
    with qtbot.waitSignal(panel.loaded, timeout=15000):
        panel.dropEvent(QDropEvent(QPointF(50, 50), Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier))
    assert panel.inspection.path == str(tone_wav)
    assert panel.views_stack.currentIndex() == 1


def test_project_settings_change_the_windows_and_the_sample_rate(qtbot, panel, tone_wav):
    load(qtbot, panel, tone_wav)
    with qtbot.waitSignal(panel.image_updated, timeout=10000):
        panel.set_settings(ImageSettings.from_parts(CFG, WindowConfig(window_s=2.0, hop_s=1.0)))
    assert [(w.start_s, w.end_s) for w in panel.inspection.windows] == [(0.0, 2.0), (1.0, 3.0)]
    assert panel.window_spin.maximum() == 2
    np.testing.assert_array_equal(panel.cnn_image, spectrogram_image(panel.inspection.windows[panel.window_index]
                                                                     .samples, CFG))
    slower = SpectrogramConfig(sample_rate=8000, n_mels=32, image_width=64, image_height=64)
    with qtbot.waitSignals([panel.loaded, panel.image_updated], timeout=15000):
        panel.set_settings(ImageSettings.from_parts(slower, WIN))
    assert panel.inspection.sample_rate == 8000 and panel.inspection.samples.size == 3 * 8000
    assert panel.controls.editors["fmax"].number.value() == 4000  # auto = Nyquist, shown as its value
    edit(panel.controls, "fmax", 6000)
    assert "Nyquist" in panel.controls.error.text()


def test_chroma_shows_pitch_classes(qtbot, panel, tone_wav):
    load(qtbot, panel, tone_wav)
    with qtbot.waitSignal(panel.spectrogram_updated, timeout=10000):
        edit(panel.controls, "kind", "chroma")
    assert panel.inspection.spectrogram.values_db.shape[0] == 12
    assert not panel.controls.editors["n_mels"].isEnabled() and panel.controls.editors["n_chroma"].isEnabled()
    ticks = panel.spectrogram.freq_axis.tickValues(0, 12, 400)[0][1]
    assert "C" in panel.spectrogram.freq_axis.tickStrings(ticks, 1, 1)
    readout = panel.spectrogram.readout_at(1.5, 11.5)   # 1000 Hz is close to B5 (987.8 Hz)
    assert "pitch class B" in readout.text()
    assert readout.db == pytest.approx(float(panel.inspection.spectrogram.values_db[:, 150].max()))
    with qtbot.waitSignal(panel.spectrogram_updated, timeout=10000):
        edit(panel.controls, "n_chroma", 24)  # quarter tones: a setting no form offered before
    assert panel.inspection.spectrogram.values_db.shape[0] == 24
    assert panel.settings.spectrogram.n_chroma == 24


def test_export_buttons_ask_for_a_file_and_write_it(qtbot, panel, tone_wav, tmp_path, monkeypatch):
    load(qtbot, panel, tone_wav)
    asked = []

    def fake_dialog(parent, title, default, filters):
        asked.append((title, default))
        return str(tmp_path / ("chosen.png" if "png" in filters.lower() else "chosen.csv")), filters

    monkeypatch.setattr("audionet_gui.ui.pages.inspector.QFileDialog.getSaveFileName", fake_dialog)
    with qtbot.waitSignal(panel.exported, timeout=5000):
        panel.export_png_button.click()
    assert asked[0][1].endswith("tone_window001.png")
    np.testing.assert_array_equal(load_png(tmp_path / "chosen.png"), panel.cnn_image)
    with qtbot.waitSignal(panel.exported, timeout=10000):
        panel.export_csv_button.click()
    assert asked[1][1] == str(tmp_path / "tone_spectrogram.csv")  # the last folder used is offered again
    assert (tmp_path / "chosen.csv").read_text().startswith("time_s,freq_hz,db\n")


def test_a_failed_save_is_shown_not_raised(qtbot, panel, tone_wav, tmp_path, monkeypatch):
    load(qtbot, panel, tone_wav)
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    monkeypatch.setattr("audionet_gui.ui.pages.inspector.QFileDialog.getSaveFileName",
                        lambda *a: (str(blocker / "inside.png"), ""))
    panel.export_png_button.click()
    assert panel.message.isVisible() and "Could not save" in panel.message.text()
