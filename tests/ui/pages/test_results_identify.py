"""Results and Identify pages: what they show for given metrics and predictions, and the requests they send."""


import numpy as np
from PySide6.QtCore import QPointF

from audionet_gui.core.answers import Segment
from audionet_gui.core.model.predict import FilePrediction
from audionet_gui.ui.pages.identify_panel import IdentifyPanel
from audionet_gui.ui.pages.results_panel import ResultsPanel
from audionet_gui.ui.pages.train_panel import TrainingCurves
from tests.ui.conftest import drop_paths

LABELS = ["anna", "ben", "cleo"]
METRICS = {
    "labels": LABELS,
    "test": {
        "labels": LABELS,
        "windows": 30,
        "recordings": 12,
        "accuracy": 0.9,
        "recording_accuracy": 11 / 12,
        "macro_f1": 0.895,
        "per_class": {
            "anna": {"precision": 1.0, "recall": 0.8, "f1": 0.889, "support": 10},
            "ben": {"precision": 0.818, "recall": 0.9, "f1": 0.857, "support": 10},
            "cleo": {"precision": 0.909, "recall": 1.0, "f1": 0.952, "support": 10},
        },
        "confusion": [[8, 2, 0], [0, 9, 1], [0, 0, 10]],
        "misclassified": [
            {"file": "/data/anna/a3.wav", "start": 2.0, "end": 4.0, "true": "anna", "predicted": "ben", "p": 0.61},
            {"file": "/data/ben/b7.wav", "start": 0.0, "end": 2.0, "true": "ben", "predicted": "cleo", "p": 0.55},
        ],
    },
    "history": [{"epoch": 1, "stage": "training", "loss": 1.0, "accuracy": 0.5, "val_loss": 1.1, "val_accuracy": 0.4},
                {"epoch": 2, "stage": "training", "loss": 0.6, "accuracy": 0.8, "val_loss": 0.7, "val_accuracy": 0.7},
                {"epoch": 3, "stage": "training", "loss": 0.4, "accuracy": 0.9, "val_loss": 0.5,
                 "val_accuracy": 0.85}],
}


def test_results_show_accuracy_per_class_confusion_and_misclassified(qtbot):
    panel = ResultsPanel()
    qtbot.addWidget(panel)
    panel.show_metrics(METRICS, "/models/m1")
    assert panel.figures["accuracy"].text() == "90.0 %"
    assert panel.figures["recording_accuracy"].text() == "91.7 %"
    assert "90.0 %" in panel.headline.text()
    assert panel.per_class.rowCount() == 3
    # whole percents: the table fits its pane
    assert [panel.per_class.item(1, c).text() for c in range(5)] == ["ben", "82 %", "90 %", "86 %", "10"]
    assert panel.heatmap.matrix.tolist() == METRICS["test"]["confusion"]
    assert panel.heatmap.counts.counts.tolist() == METRICS["test"]["confusion"]
    assert panel.heatmap.counts.boundingRect().width() == 3
    assert panel.misclassified.rowCount() == 2
    assert [panel.misclassified.item(0, c).text() for c in range(5)] == ["a3.wav", "2.0 s", "anna", "ben", "61.0 %"]
    assert panel.save_button.isEnabled()
    with qtbot.waitSignal(panel.window_activated) as blocker:
        panel.misclassified.cellDoubleClicked.emit(0, 1)
    assert blocker.args == ["/data/anna/a3.wav", 2.0]


def test_results_without_a_model_or_without_test_data(qtbot):
    panel = ResultsPanel()
    qtbot.addWidget(panel)
    panel.clear()
    assert "No model yet" in panel.headline.text()
    assert not panel.save_button.isEnabled()
    panel.show_metrics({"labels": LABELS, "test": None}, "/models/m2")
    assert "no test results" in panel.headline.text()
    assert panel.per_class.rowCount() == 0


def test_an_opened_model_shows_its_training_curves(qtbot, window):
    window.show_model_metrics("/models/m1", METRICS, LABELS)
    curves = window.train_panel.curves
    assert curves.epochs == [1.0, 2.0, 3.0]
    assert curves.history["val_accuracy"] == [0.4, 0.7, 0.85]
    assert window.identify_panel.choose.isEnabled()
    assert window.live_panel.model_path == "/models/m1"


def test_the_heatmap_paints_each_count_on_its_cell(qtbot):
    panel = ResultsPanel()
    qtbot.addWidget(panel)
    heatmap = panel.heatmap
    heatmap.resize(300, 300)
    heatmap.set_matrix([[0, 5], [0, 0]], ["a", "b"])
    blank = heatmap.grab().toImage()
    heatmap.set_matrix([[0, 88], [0, 0]], ["a", "b"])  # the same shading: only the count differs
    counted = heatmap.grab().toImage()
    centre = heatmap.plot.vb.mapViewToScene(QPointF(1.5, 0.5)).toPoint()
    other = heatmap.plot.vb.mapViewToScene(QPointF(0.5, 1.5)).toPoint()
    def differs(p):  # any pixel near p
        return any(blank.pixel(p.x() + dx, p.y() + dy) != counted.pixel(p.x() + dx, p.y() + dy)
                   for dx in range(-6, 7) for dy in range(-6, 7))
    assert differs(centre)
    assert not differs(other)


def test_curves_of_a_finished_run_are_drawn_once_and_not_again(qtbot, monkeypatch):
    curves = TrainingCurves()
    qtbot.addWidget(curves)
    rows = [{"epoch": e, "loss": 1 / e, "accuracy": e / 10, "val_loss": None, "val_accuracy": e / 11}
            for e in range(1, 26)]
    calls = []
    for curve in curves.curves.values():
        monkeypatch.setattr(curve, "setData", lambda *a, _c=curve, **k: calls.append(_c))
    curves.set_history(rows)
    assert len(calls) == 4 + 4  # cleared, then drawn once: not once per epoch
    assert curves.epochs == [float(e) for e in range(1, 26)]
    calls.clear()
    curves.set_history({k: [r[k] for r in rows] for k in ("loss", "accuracy", "val_loss", "val_accuracy")})
    assert calls == []  # the same run, as columns: already on screen
    curves.set_history(rows[:3])
    assert curves.epochs == [1.0, 2.0, 3.0]


def test_an_epoch_redraws_the_two_plots_in_separate_passes(qtbot):
    """Both plots in one pass cost the GUI thread up to 60 ms on a loaded machine: the accuracy plot follows in a
    later pass, and ends up with every epoch all the same."""
    curves = TrainingCurves()
    qtbot.addWidget(curves)
    curves.add_epoch({"epoch": 1, "loss": 0.9, "accuracy": 0.5, "val_loss": 1.0, "val_accuracy": 0.4})
    assert list(curves.curves["loss"].getData()[1]) == [0.9]
    assert curves.curves["accuracy"].getData()[1] is None or len(curves.curves["accuracy"].getData()[1]) == 0
    curves.add_epoch({"epoch": 2, "loss": 0.7, "accuracy": 0.6, "val_loss": 0.8, "val_accuracy": 0.5})
    qtbot.waitUntil(lambda: curves.curves["val_accuracy"].getData()[1] is not None
                    and list(curves.curves["val_accuracy"].getData()[1]) == [0.4, 0.5], timeout=2000)
    assert list(curves.curves["accuracy"].getData()[0]) == [1.0, 2.0]


def test_misclassified_window_opens_in_the_inspector(qtbot, window, monkeypatch):
    shown = []
    monkeypatch.setattr(window.inspector, "show_window", lambda path, start: shown.append((path, start)))
    window.results_panel.show_metrics(METRICS, "/models/m1")
    window.results_panel.misclassified.cellDoubleClicked.emit(1, 0)
    assert shown == [("/data/ben/b7.wav", 0.0)]
    assert window.current_page() == "Inspect"


def _prediction(path="talk.wav"):
    starts = np.arange(0, 10, 1.0)
    probs = np.tile([0.7, 0.2, 0.1], (10, 1))
    return FilePrediction(
        file=path, labels=LABELS, window_starts=starts, window_ends=starts + 2, window_probabilities=probs,
        probabilities=probs.mean(0), label="anna", p=0.7, top_k=[("anna", 0.7), ("ben", 0.2), ("cleo", 0.1)],
        timeline=[Segment(0, 4, "anna", 0.8), Segment(4, 8, "ben", 0.7), Segment(8, 11, "unknown", 0.3)],
        threshold=0.4)


def test_identify_shows_top_k_bars_and_a_timeline(qtbot):
    panel = IdentifyPanel()
    qtbot.addWidget(panel)
    panel.set_model("Model: m1", LABELS)
    panel.show_prediction(_prediction())
    assert panel.bars.items() == [("anna", "70.0 %"), ("ben", "20.0 %"), ("cleo", "10.0 %")]
    assert panel.answer.text() == "2 speakers: anna, ben"  # a conversation is not given one name
    assert [s[2] for s in panel.timeline.segments] == ["anna", "ben", "unknown"]
    assert "3 segments over 11.0 s" in panel.timeline_note.text()


def test_identify_says_unknown_in_words(qtbot):
    panel = IdentifyPanel()
    qtbot.addWidget(panel)
    panel.set_model("Model: m1", LABELS)
    pred = _prediction()
    pred.label, pred.p = "unknown", 0.35
    pred.timeline = [Segment(0, 11, "unknown", 0.35)]
    panel.show_prediction(pred)
    assert "no class is sure enough" in panel.answer.text()


def test_identify_names_the_one_speaker_of_a_file(qtbot):
    panel = IdentifyPanel()
    qtbot.addWidget(panel)
    panel.set_model("Model: m1", LABELS)
    pred = _prediction()
    pred.timeline = [Segment(0, 11, "anna", 0.7)]
    panel.show_prediction(pred)
    assert panel.answer.text().startswith("anna") and "70 %" in panel.answer.text()


def test_dropping_a_file_on_identify_asks_to_identify_it(qtbot, tmp_path):
    panel = IdentifyPanel()
    qtbot.addWidget(panel)
    panel.resize(600, 400)
    f = tmp_path / "who.wav"
    f.write_bytes(b"x")
    with qtbot.waitSignal(panel.file_requested) as blocker:
        assert drop_paths(panel, [f])
    assert blocker.args == [str(f)]
    # a folder is not a file to identify
    got = []
    panel.file_requested.connect(got.append)
    drop_paths(panel, [tmp_path])
    assert got == []


def test_identify_without_a_model_explains(qtbot, window, monkeypatch, tmp_path):
    told = []
    monkeypatch.setattr("audionet_gui.ui.window.model_controller.QMessageBox.information",
                        lambda *a, **k: told.append(a[2]))
    window.identify_file(str(tmp_path / "x.wav"))
    assert told and "Train a model" in told[0]
