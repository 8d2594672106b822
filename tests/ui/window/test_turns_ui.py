"""The Identify page's speaker turns in the running window: identify (child process), export, name a voice (enrol in
a child process), and the turns again with the new name."""

import json

import numpy as np
import pytest

from audionet_gui.core.timeline_formats import parse_rttm
from audionet_gui.ui.state import ModelInfo
from tests.audio_factory import write
from tests.tiny_models import voice_bundle_with_workspace
from tests.tone_dataset import SR, tone_clip

VOICES = {"anna": 300.0, "ben": 800.0, "xavier": 1400.0, "yolanda": 2500.0}


@pytest.mark.slow
def test_identify_export_and_name_a_voice(qtbot, window, tmp_path):
    model = voice_bundle_with_workspace(tmp_path / "m", VOICES, ["anna", "ben", "yolanda"])
    window.state.set_model(ModelInfo.read(str(model)), adopt=True)
    rng = np.random.default_rng(0)
    talk = write(tmp_path / "talk.wav", np.concatenate([tone_clip(VOICES[v], 3.0, rng) for v in
                                                         ("anna", "xavier", "ben", "xavier")]), SR)
    panel = window.identify_panel
    window.identify_file(str(talk))
    qtbot.waitUntil(lambda: panel.lanes.isVisible() and bool(panel.lanes.segments), timeout=120000)
    assert panel.lanes.lanes == ["anna", "ben", "unknown-1"]

    window.models.export_turns("rttm", str(tmp_path / "talk.rttm"))
    assert [who for *_, who in parse_rttm((tmp_path / "talk.rttm").read_text())] == [
        "anna", "unknown-1", "ben", "unknown-1"]

    panel.lanes.name_voice_requested.emit("unknown-1", "Xavier")
    qtbot.waitUntil(lambda: "Xavier" in panel.lanes.lanes, timeout=180000)
    assert panel.lanes.lanes == ["anna", "ben", "Xavier"]
    assert json.loads((model / "labels.json").read_text()) == ["anna", "ben", "yolanda", "Xavier"]
    assert window.state.model.labels[-1] == "Xavier"


@pytest.mark.slow
def test_add_a_speaker_checks_the_files_and_enrols(qtbot, window, tmp_path):
    model = voice_bundle_with_workspace(tmp_path / "m", VOICES, ["anna", "ben", "yolanda"])
    window.state.set_model(ModelInfo.read(str(model)), adopt=True)
    window.identify_panel.add_speaker.click()
    dialog = window.models.speaker_dialog
    assert dialog is not None and dialog.isVisible()
    rng = np.random.default_rng(5)
    clips = [str(write(tmp_path / f"x{i}.wav", tone_clip(VOICES["xavier"], 2.0, rng), SR)) for i in range(3)]
    dialog.name.setText("Xavier")
    dialog.add_paths(clips)
    qtbot.waitUntil(lambda: dialog.check is not None, timeout=120000)
    # tones are not speech: the check says so, and the user may still insist (a model of sounds)
    assert dialog.check["status"] == "poor" and dialog.add_button.text() == "Add anyway"
    assert "speech" in dialog.check_items.text()
    dialog.add_button.click()
    qtbot.waitUntil(lambda: window.models.speaker_dialog is None, timeout=180000)
    assert json.loads((model / "labels.json").read_text())[-1] == "Xavier"
    assert window.state.model.labels[-1] == "Xavier"
