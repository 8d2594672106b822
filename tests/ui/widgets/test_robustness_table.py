"""The Robustness section shows one row per condition, highlights the weakest with its advice, and words the
false-unknown / false-accept rates; the Results page feeds it from the model's metrics."""

from audionet_gui.core.model.robustness import ADVICE
from audionet_gui.ui.pages.results_panel import ResultsPanel
from audionet_gui.ui.widgets.robustness_table import EMPTY_TEXT, WEAKEST_BACKGROUND, RobustnessTable


def _condition(accuracy, unknown, kind):
    return {"accuracy": accuracy, "unknown_rate": unknown, "recordings": 12, "kind": kind}


METRICS = {
    "labels": ["ann", "ben"],
    "test": {"labels": ["ann", "ben"], "accuracy": 1.0, "recording_accuracy": 1.0, "windows": 40,
             "false_unknown_rate": 0.125, "false_accept_rate": 0.04},
    "unknown_threshold": 0.62,
    "calibration": {"method": "balanced", "false_unknown_rate": 0.1, "false_accept_rate": 0.02,
                    "negatives": {"noise": 60, "strangers": 0}},
    "robustness": {
        "conditions": {"clean": _condition(1.0, 0.0, "clean"), "noise_10db": _condition(0.75, 0.25, "noise"),
                       "reverb": _condition(0.5, 0.25, "reverb"), "cheap_mic": _condition(0.25, 0.5, "cheap_mic")},
        "weakest": "cheap_mic", "advice": ADVICE["cheap_mic"], "seed": 0, "per_class_limit": 20},
}


def test_rows_weakest_highlighted_advice_and_rates_in_words(qtbot):
    table = RobustnessTable()
    qtbot.addWidget(table)
    table.set_metrics(METRICS)
    assert table.table.rowCount() == 4
    rows = [[table.table.item(r, c).text() for c in range(3)] for r in range(4)]
    assert rows[1] == ["Noise at 10 dB SNR", "75 %", "25 %"]
    assert rows[3][0].startswith("Cheap microphone") and rows[3][1:] == ["25 %", "50 %"]
    weakest_row = table.table.item(3, 0)
    assert weakest_row.background().color() == WEAKEST_BACKGROUND
    assert table.table.item(1, 0).background().color() != WEAKEST_BACKGROUND
    assert "Weakest: cheap microphone" in table.advice.text() and ADVICE["cheap_mic"] in table.advice.text()
    honesty = table.honesty.text()
    assert "12 % of windows of enrolled classes" in honesty and "4 % of windows that belong to no class" in honesty
    assert "p = 0.62" in honesty and "test recordings" in honesty
    assert "12 recordings (at most 20 a class)" in table.note.text()


def test_a_model_without_the_report_says_how_to_get_one(qtbot):
    table = RobustnessTable()
    qtbot.addWidget(table)
    table.set_metrics(METRICS)
    table.set_metrics({"test": {"accuracy": 0.9}})
    assert table.table.rowCount() == 0 and table.advice.text() == EMPTY_TEXT and table.honesty.text() == ""
    # the calibration's validation rates stand in when the test split was not measured
    table.set_metrics({"calibration": METRICS["calibration"]})
    assert "validation windows" in table.honesty.text() and "10 % of windows" in table.honesty.text()


def test_the_results_page_feeds_it_from_the_metrics_it_shows(qtbot):
    panel = ResultsPanel()
    qtbot.addWidget(panel)
    panel.show_metrics(METRICS, "/models/m1")
    assert panel.robustness.table.rowCount() == 4 and panel.robustness.weakest == "cheap_mic"
    panel.clear()
    assert panel.robustness.table.rowCount() == 0


def test_the_weakest_condition_keeps_the_case_of_its_units(qtbot):
    table = RobustnessTable()
    qtbot.addWidget(table)
    metrics = {**METRICS, "robustness": {**METRICS["robustness"], "weakest": "noise_10db"}}
    table.set_metrics(metrics)
    assert "Weakest: noise at 10 dB SNR" in table.advice.text()
