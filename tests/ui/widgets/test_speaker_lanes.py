"""Speaker lanes: one lane per speaker and unknown voice, export and "Name this voice…" requests."""

from PySide6.QtWidgets import QFileDialog, QInputDialog

from audionet_gui.ui.widgets.speaker_lanes import SpeakerLanes, lane_order

TURNS = [(0.0, 3.0, "ben", 0.9), (3.0, 5.0, "unknown-1", 0.4), (5.0, 8.0, "anna", 0.8), (8.0, 9.5, "unknown-2", 0.3),
         (9.5, 12.0, "unknown-1", 0.35)]


def test_lanes_put_enrolled_speakers_first_in_model_order_then_unknown_voices(qtbot):
    assert lane_order(["anna", "ben", "cleo"], ["ben", "unknown-1", "anna", "unknown-2"]) == [
        "anna", "ben", "unknown-1", "unknown-2"]
    lanes = SpeakerLanes()
    qtbot.addWidget(lanes)
    lanes.set_turns("/data/talk.wav", TURNS, ["anna", "ben", "cleo"], {"anna": "#f00", "ben": "#0f0"})
    assert lanes.lanes == ["anna", "ben", "unknown-1", "unknown-2"]
    assert lanes.lane_items() == {"anna": 1, "ben": 1, "unknown-1": 2, "unknown-2": 1}
    ticks = lanes.plot.getAxis("left")._tickLevels[0]
    assert [t[1] for t in ticks] == lanes.lanes
    assert len(lanes.bars) == 5 and all(bar.scene() is not None for bar in lanes.bars)  # one bar per turn
    assert [round(bar.rect().y()) for bar in lanes.bars] == [1, 2, 0, 3, 2]  # each in its speaker's lane
    assert "5 turns, 4 voices" in lanes.summary.text()
    assert [a.text() for a in lanes.name_menu.actions()] == ["unknown-1", "unknown-2"]
    assert lanes.name_button.isEnabled() and lanes.export_button.isEnabled()


def test_no_unknown_voice_nothing_to_name_and_empty_nothing_to_export(qtbot):
    lanes = SpeakerLanes()
    qtbot.addWidget(lanes)
    lanes.set_turns("t.wav", TURNS[:1], ["ben"], {})
    assert not lanes.name_button.isEnabled() and lanes.export_button.isEnabled()
    lanes.set_turns("", [], [], {})
    assert not lanes.export_button.isEnabled() and lanes.summary.text() == ""


def test_export_and_name_requests(qtbot, monkeypatch, tmp_path):
    lanes = SpeakerLanes()
    qtbot.addWidget(lanes)
    lanes.set_turns("/data/talk.wav", TURNS, ["anna", "ben"], {})
    asked = {}

    def save_name(parent, title, name, filters):
        asked["name"] = name
        return str(tmp_path / "out.rttm"), ""

    monkeypatch.setattr(QFileDialog, "getSaveFileName", save_name)
    with qtbot.waitSignal(lanes.export_requested) as blocker:
        next(a for a in lanes.export_button.menu().actions() if a.text() == "RTTM").trigger()
    assert blocker.args == ["rttm", str(tmp_path / "out.rttm")] and asked["name"] == "talk.rttm"
    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: ("  Mary  ", True))
    with qtbot.waitSignal(lanes.name_voice_requested) as blocker:
        lanes.name_menu.actions()[1].trigger()
    assert blocker.args == ["unknown-2", "Mary"]
