""""Add a speaker": the requests it sends and the enrolment check it shows."""

from audionet_gui.ui.dialogs.add_speaker import AddSpeakerDialog

GOOD = {"status": "good", "ok": True, "speech_s": 31.0, "clips": 2, "failed": [], "items": [
    {"key": "speech", "status": "good", "value": 31.0, "message": "31 s of speech: enough for a good voice print"},
    {"key": "clipping", "status": "good", "value": 0.0, "message": "no clipping"}]}
POOR = {"status": "poor", "ok": False, "speech_s": 0.0, "clips": 1, "failed": [{"path": "/x/bad.wav",
                                                                              "reason": "is not audio"}],
        "items": [{"key": "speech", "status": "poor", "value": 0.0,
                   "message": "0.0 s of speech: too little to learn a voice; record about 30 s"}]}


def test_files_are_checked_and_a_good_print_can_be_enrolled(qtbot):
    dialog = AddSpeakerDialog()
    qtbot.addWidget(dialog)
    assert not dialog.add_button.isEnabled()
    with qtbot.waitSignal(dialog.check_requested) as blocker:
        dialog.add_paths(["/x/a.wav", "/x/b.wav"])
    assert blocker.args == [["/x/a.wav", "/x/b.wav"]]
    assert "Checking" in dialog.status.text() and not dialog.record.isEnabled()
    dialog.show_check(GOOD)
    assert "31 s of speech" in dialog.check_items.text() and "A good voice print" in dialog.status.text()
    assert not dialog.add_button.isEnabled()  # no name yet
    dialog.name.setText("Mary")
    assert dialog.add_button.isEnabled()
    with qtbot.waitSignal(dialog.enroll_requested) as blocker:
        dialog.add_button.click()
    assert blocker.args == ["Mary", ["/x/a.wav", "/x/b.wav"]]


def test_a_poor_print_says_what_to_do_and_cannot_be_enrolled(qtbot):
    dialog = AddSpeakerDialog()
    qtbot.addWidget(dialog)
    dialog.name.setText("Mary")
    dialog.add_paths(["/x/bad.wav"])
    dialog.show_check(POOR)
    assert "record about 30 s" in dialog.check_items.text() and "bad.wav: is not audio" in dialog.check_items.text()
    assert "Not good enough" in dialog.status.text() and dialog.add_button.text() == "Add anyway"
    dialog.show_check(GOOD)
    assert dialog.add_button.text() == "Add to the model"
    with qtbot.waitSignal(dialog.record_requested) as blocker:
        dialog.record.click()
    assert blocker.args == ["Mary", 30.0]
    dialog.show_error("no microphone")
    assert dialog.status.text() == "no microphone" and dialog.record.isEnabled()
