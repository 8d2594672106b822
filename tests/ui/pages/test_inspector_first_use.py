"""Inspect page for a newcomer (issue 11): an Open button and File > Open Audio…, no stale axes after a file that
cannot be loaded, a readout beside the cursor that goes when the mouse leaves, and the waveform's level."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf
from PySide6.QtCore import QEvent, QPointF
from PySide6.QtWidgets import QApplication, QFileDialog

from audionet_gui.core.audio.playback import Player
from audionet_gui.core.audio.spectrogram import SpectrogramConfig
from audionet_gui.core.audio.windows import WindowConfig
from audionet_gui.core.inspect.inspection import row_of_freq, wave_readout
from audionet_gui.core.settings import ImageSettings
from audionet_gui.ui.pages.inspector import InspectorPanel
from tests.core.audio.test_playback import FakeSoundDevice

SR = 16000
SETTINGS = ImageSettings.from_parts(SpectrogramConfig(n_mels=64, image_width=64, image_height=64),
                                    WindowConfig(window_s=1.0, hop_s=0.5))


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


def test_the_open_buttons_choose_a_file_to_inspect(qtbot, panel, tone_wav, monkeypatch):
    asked = []

    def choose(parent, title, where, filters):
        asked.append(where)
        return str(tone_wav), ""

    monkeypatch.setattr(QFileDialog, "getOpenFileName", choose)
    assert panel.views_stack.currentWidget() is panel.placeholder and panel.views_stack.open_button.isVisible()
    with qtbot.waitSignal(panel.loaded, timeout=15000):
        panel.views_stack.open_button.click()  # the empty page's button
    assert panel.inspection.path == str(tone_wav)
    panel.clear()
    with qtbot.waitSignal(panel.loaded, timeout=15000):
        panel.open_button.click()  # the page's own Open button, always there
    assert len(asked) == 2


def test_file_menu_opens_audio_on_the_inspect_page(qtbot, window, tone_wav, monkeypatch):
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(tone_wav), ""))
    assert window.actions["open_audio"] in window.menuBar().actions()[0].menu().actions()
    with qtbot.waitSignal(window.inspector.loaded, timeout=15000):
        window.actions["open_audio"].trigger()
    assert window.current_page() == "Inspect"


def test_a_file_that_cannot_be_loaded_leaves_no_axes_of_the_previous_clip(qtbot, panel, tone_wav, tmp_path):
    load(qtbot, panel, tone_wav)
    bad = tmp_path / "broken.wav"
    bad.write_bytes(b"RIFF....WAVEfmt not audio at all")
    with qtbot.waitSignal(panel.worker.failed, timeout=15000):
        panel.show_file(bad)
    qtbot.wait(20)
    assert panel.views_stack.currentWidget() is panel.placeholder
    assert "Could not load broken.wav" in panel.views_stack.placeholder_text.text()
    assert panel.spectrogram.display is None and panel.waveform.envelope is None
    assert panel.inspection is None and not panel.play_button.isEnabled()


def test_the_readout_sits_beside_the_cursor_and_goes_when_the_mouse_leaves(qtbot, panel, tone_wav):
    load(qtbot, panel, tone_wav)
    view = panel.spectrogram
    freqs = panel.inspection.spectrogram.freqs_hz
    scene_pos = view.plot.vb.mapViewToScene(QPointF(1.5, row_of_freq(freqs, 1000.0)))
    view.scene().sigMouseMoved.emit(scene_pos)
    readout = panel.readout
    assert readout.isVisible() and "Hz" in readout.text() and "dB" in readout.text()
    cursor = view.mapTo(panel.views_stack, view.mapFromScene(scene_pos))
    box = readout.geometry()
    # beside the cursor, not under it and not in a corner of the page
    assert not box.contains(cursor)
    dx = max(box.left() - cursor.x(), cursor.x() - box.right(), 0)
    dy = max(box.top() - cursor.y(), cursor.y() - box.bottom(), 0)
    assert dx <= 40 and dy <= 40
    QApplication.sendEvent(view, QEvent(QEvent.Leave))
    assert not readout.isVisible()
    assert not any(line.isVisible() for line in view.crosshair)


def test_the_waveform_readout_gives_time_and_level(qtbot, panel, tone_wav):
    load(qtbot, panel, tone_wav)
    wave = panel.waveform
    wave.scene().sigMouseMoved.emit(wave.plot.vb.mapViewToScene(QPointF(1.5, 0.0)))
    text = panel.readout.text()
    assert panel.readout.isVisible() and "t = 1.500 s" in text and "dBFS" in text
    level = wave_readout(panel.inspection.samples, SR, 1.5).rms_dbfs
    assert level == pytest.approx(-9.03, abs=0.2)  # a half-scale sine: RMS 0.354
    assert f"{level:.1f} dBFS" in text
