"""The Identify page with speaker turns: lanes instead of the raw timeline, cleared with the answer."""

import numpy as np

from audionet_gui.core.answers import Segment
from audionet_gui.core.model.predict import FilePrediction
from audionet_gui.core.model.timeline import FileTimeline
from audionet_gui.ui.pages.identify_panel import IdentifyPanel

LABELS = ["anna", "ben"]


def _prediction(with_turns: bool):
    starts = np.arange(0, 10, 1.0)
    probs = np.tile([0.6, 0.4], (10, 1))
    pred = FilePrediction(
        file="talk.wav", labels=LABELS, window_starts=starts, window_ends=starts + 2, window_probabilities=probs,
        probabilities=probs.mean(0), label="anna", p=0.6, top_k=[("anna", 0.6), ("ben", 0.4)],
        timeline=[Segment(0, 11, "anna", 0.6)], threshold=0.5)
    if with_turns:
        turns = [Segment(0, 4, "anna", 0.8), Segment(4, 7, "unknown-1", 0.4), Segment(7, 11, "ben", 0.7)]
        pred.extra["turns"] = FileTimeline("talk.wav", turns, LABELS)
    return pred


def test_turns_show_as_lanes_and_a_prediction_without_them_as_the_timeline(qtbot):
    panel = IdentifyPanel()
    qtbot.addWidget(panel)
    panel.show()
    panel.set_model("Model: m1", LABELS)
    assert panel.add_speaker.isEnabled()
    panel.show_prediction(_prediction(True))
    assert panel.lanes.isVisible() and not panel.timeline.isVisible()
    assert panel.lanes.lanes == ["anna", "ben", "unknown-1"]
    assert panel.lanes.name_button.isEnabled()
    assert panel.answer.text() == "3 speakers: anna, unknown-1, ben"  # the turns' voices, strangers told apart
    panel.show_prediction(_prediction(False))
    assert not panel.lanes.isVisible() and panel.timeline.isVisible()
    panel.show_prediction(_prediction(True))
    panel.clear()
    assert not panel.lanes.isVisible() and panel.lanes.segments == []
    panel.set_model(None)
    assert not panel.add_speaker.isEnabled()
