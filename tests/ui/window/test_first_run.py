"""A newcomer's first run (issue 11): every page says what to do next and offers the button; Help > Getting
started; folders of speaker folders; the demo conversation; Results that say how far to trust them; Identify with
progress and Cancel; Train after Cancel; Save/Discard/Cancel; counted nouns."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtWidgets import QAbstractItemView, QFileDialog, QListView, QMessageBox, QPushButton

from audionet_gui.core.answers import Segment
from audionet_gui.core.base.jobs import Progress
from audionet_gui.core.model.predict import FilePrediction
from audionet_gui.qt import job_runner
from audionet_gui.resources import demo_class_names, demo_conversation_path
from audionet_gui.ui.dialogs.folder_dialog import folders_dialog
from audionet_gui.ui.guide import Step
from audionet_gui.ui.pages.identify_panel import IdentifyPanel
from audionet_gui.ui.pages.results_panel import ResultsPanel
from audionet_gui.ui.pages.train_panel import EpochAxis
from audionet_gui.ui.widgets.job_bar import JobBar
from audionet_gui.ui.widgets.next_step import NextStep
from tests.tone_dataset import make_tone_dataset
from tests.ui.pages.test_results_identify import LABELS, METRICS, _prediction

DEMO_LABELS = sorted(demo_class_names())


def wait_scan(qtbot, window):
    qtbot.waitUntil(lambda: window.scan is not None and not window.job_busy(), timeout=60000)


# -- 1. the guided path -----------------------------------------------------------------------------------------
def test_every_page_offers_the_next_step_of_a_first_run(qtbot, window):
    step = window.data_panel.next_step
    assert step.isVisible() and "Step 1 of 3" in step.label.text()
    assert step.button("add_folder") is not None
    assert "Add at least two classes" not in window.train_panel.status.text()
    assert window.train_panel.next_step.button("page:Data") is not None
    assert window.results_panel.next_step.button("page:Train") is not None
    assert window.identify_panel.go_train.isVisibleTo(window.identify_panel)

    step.button("open_demo").click()  # the empty Data page's button opens the demo
    wait_scan(qtbot, window)
    assert window.project.class_names == DEMO_LABELS
    # the demo meets the app's own advice: no row warns
    table = window.data_panel.table
    assert all(table.item(r, 5).text() == "" for r in range(table.rowCount()))
    assert "Step 2 of 3" in step.label.text()
    step.button("page:Train").click()
    assert window.current_page() == "Train"
    train_hint = window.train_panel.next_step.label.text()
    assert "6 classes and 120 clips ready" in train_hint and "Press Train" in train_hint
    assert window.train_panel.status.text() == ""  # no stale "add classes" line while the classes are there

    window.show_model_metrics(str(window.state.model_dir()), METRICS, DEMO_LABELS)
    assert step.button("identify_demo") is not None  # step 3: try it
    assert window.results_panel.next_step.button("page:Identify") is not None
    assert window.identify_panel.try_demo.isVisibleTo(window.identify_panel)
    assert not window.identify_panel.go_train.isVisibleTo(window.identify_panel)


def test_help_has_getting_started_with_the_three_steps(qtbot, window):
    help_menu = window.menuBar().actions()[-1].menu()
    assert window.actions["getting_started"] in help_menu.actions()
    assert window.actions["getting_started"].shortcut().toString() == "F1"
    dialog = window.getting_started_dialog()
    qtbot.addWidget(dialog)
    text = dialog.text.text()
    assert all(s in text for s in ("Add classes", "Train", "Try it", "Try the demo conversation"))
    dialog.demo_button.click()
    assert window.project.class_names == DEMO_LABELS


# -- 2. folders -------------------------------------------------------------------------------------------------
def test_a_folder_of_speaker_folders_can_become_one_class_each(qtbot, window, tmp_path, monkeypatch):
    parent = make_tone_dataset(tmp_path / "speakers", files_per_class=2, seconds=0.5)
    asked = []

    def answer(choice):
        def question(*args, **kwargs):
            asked.append(args[2])
            return choice
        return question

    monkeypatch.setattr(QMessageBox, "question", answer(QMessageBox.Yes))
    window.projects.add_class_folders([str(parent)])
    assert window.project.class_names == ["high", "low", "mid"]
    assert "3 folders of recordings" in asked[0]
    monkeypatch.setattr(QMessageBox, "question", answer(QMessageBox.Discard))
    window.new_project()
    monkeypatch.setattr(QMessageBox, "question", answer(QMessageBox.No))
    window.projects.add_class_folders([str(parent)])
    assert window.project.class_names == ["speakers"]


def test_add_class_folder_takes_several_folders_and_starts_in_the_project_folder(qtbot, window, tmp_path,
                                                                                 monkeypatch):
    data = make_tone_dataset(tmp_path / "data", files_per_class=2, seconds=0.5)
    window.open_demo()
    started = []

    def choose(parent, title, where):
        started.append(where)
        return [str(data / "low"), str(data / "mid")]

    monkeypatch.setattr("audionet_gui.ui.window.project_controller.ask_folders", choose)
    window.actions["add_folder"].trigger()
    assert {"low", "mid"} <= set(window.project.class_names)
    assert started == [str(Path(window.project.path).parent)]
    dialog = folders_dialog(window, "Add", str(tmp_path))
    views = dialog.findChildren(QListView)
    assert views and all(v.selectionMode() == QAbstractItemView.ExtendedSelection for v in views)
    assert dialog.fileMode() == QFileDialog.Directory
    dialog.deleteLater()


# -- 3. the demo's conversation and where dialogs start ------------------------------------------------------------
def test_identify_offers_the_demo_conversation_and_starts_in_the_project_folder(qtbot, window, monkeypatch):
    window.open_demo()
    window.show_model_metrics(str(window.state.model_dir()), METRICS, DEMO_LABELS)
    panel = window.identify_panel
    asked = []
    monkeypatch.setattr(window.models, "identify_file", asked.append)
    panel.file_requested.disconnect()
    panel.file_requested.connect(window.models.identify_file)
    panel.try_demo.click()
    assert asked == [str(demo_conversation_path())] and Path(asked[0]).is_file()
    starts = []
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda _p, _t, where, _f: starts.append(where) or ("", ""))
    panel.choose.click()
    assert starts == [str(Path(window.project.path).parent)]
    assert (Path(starts[0]) / "conversation.wav").is_file()  # the demo's copy holds it


# -- 5. results ---------------------------------------------------------------------------------------------------
def test_results_warn_about_a_tiny_test_set_and_explain_their_figures(qtbot):
    panel = ResultsPanel()
    qtbot.addWidget(panel)
    panel.show()
    assert not panel.heatmap.isVisible() and panel.heatmap_empty.isVisible()  # no empty frame before a model
    metrics = dict(METRICS, val={"accuracy": 0.9},
                   history=METRICS["history"] + [{"epoch": 4, "loss": 0.3, "accuracy": 0.95, "val_loss": 0.55,
                                                  "val_accuracy": 0.8}])
    panel.show_metrics(metrics, "/models/m1")
    assert panel.heatmap.isVisible() and not panel.heatmap_empty.isVisible()
    note = panel.test_note.text()
    assert panel.test_note.isVisible() and "small test set" in note and "74 % to 97 %" in note
    val = panel.validation_note.text()
    assert "epoch 3 (the lowest validation loss)" in val and "epoch 4" in val
    words = panel.metric_words.text()
    assert panel.metric_words.isVisible() and all(w in words for w in ("Precision", "Recall", "F1", "harmonic"))


# -- 6. identify: progress, time left, Cancel; timeline tooltips ---------------------------------------------------
def test_identify_shows_progress_with_time_left_and_cancels(qtbot):
    panel = IdentifyPanel()
    qtbot.addWidget(panel)
    panel.show()
    panel.set_model("Model: m1", LABELS)
    panel.set_busy("/long/talk.wav")
    assert panel.progress.isVisible() and panel.cancel.isVisible()
    panel.show_progress(Progress("predicting", 50, 200, eta_s=12.4))
    assert panel.progress.value() == 50 and panel.progress.maximum() == 200
    assert panel.progress_text.text() == "50 / 200 windows, about 12 s left"
    with qtbot.waitSignal(panel.cancel_requested):
        panel.cancel.click()
    panel.show_cancelled("/long/talk.wav")
    assert not panel.progress.isVisible() and "cancelled" in panel.file_label.text()
    panel.set_busy("/long/talk.wav")
    panel.show_prediction(_prediction())
    assert not panel.cancel.isVisible()


def test_cancel_on_identify_stops_the_identification(qtbot, window, monkeypatch):
    cancelled = []
    monkeypatch.setattr(window.models.identify_jobs, "cancel", lambda: cancelled.append(True))
    window.identify_panel.set_busy("/long/talk.wav")
    window.identify_panel.cancel.click()
    assert cancelled


def test_timeline_bars_say_who_when_and_how_sure(qtbot):
    panel = IdentifyPanel()
    qtbot.addWidget(panel)
    panel.set_model("Model: m1", LABELS)
    panel.show_prediction(_prediction())
    tips = sorted(item.toolTip() for item in panel.timeline.plotItem.vb.addedItems if item.toolTip())
    assert any("anna" in t and "0.0–4.0 s" in t and "80 %" in t for t in tips)


# -- 7. train ------------------------------------------------------------------------------------------------------
def test_training_time_left_says_it_is_this_stage_only():
    bar = JobBar()
    bar.set_running("Training", staged=True)
    bar.show_progress(Progress("training", 13, 40, eta_s=11.0))
    assert bar.eta.text() == "about 11 s left in this stage"
    bar.set_running("Making images")
    bar.show_progress(Progress("converting", 13, 40, eta_s=11.0))
    assert bar.eta.text() == "about 11 s left"


def test_epoch_ticks_are_whole_numbers_and_the_legend_is_off_the_curves(qtbot, window):
    axis = window.train_panel.curves.loss_plot.getAxis("bottom")
    assert isinstance(axis, EpochAxis)
    values = [v for _step, vs in axis.tickValues(0.8, 3.2, 600) for v in vs]
    assert values == [1.0, 2.0, 3.0]
    many = [v for _step, vs in axis.tickValues(1, 40, 300) for v in vs]
    assert all(v == int(v) for v in many) and len(many) <= 8
    for plot in (window.train_panel.curves.loss_plot, window.train_panel.curves.acc_plot):
        assert plot.getPlotItem().legend is None
    assert "training" in window.train_panel.curves.legend.text()


def test_after_cancel_the_train_header_says_so(qtbot, window, tmp_path, monkeypatch):
    started = threading.Event()

    def slow_training(project, out_dir, progress=None, cancel=None):
        for epoch in range(1, 41):
            progress(Progress("training", epoch, 40, extra={"epoch": epoch, "loss": 1.0 / epoch,
                                                            "accuracy": 0.5, "val_loss": 1.0, "val_accuracy": 0.5}))
            if epoch == 3:
                started.set()
            for _ in range(20):
                cancel.raise_if_cancelled()
                time.sleep(0.01)
        raise AssertionError("not cancelled")

    monkeypatch.setattr("audionet_gui.ui.window.project_controller.train_project", slow_training)
    monkeypatch.setattr(job_runner, "PROCESS_JOBS", False)
    data = make_tone_dataset(tmp_path / "data", {"low": 300.0, "mid": 800.0}, files_per_class=2, seconds=1.0)
    window.add_paths([str(data / "low"), str(data / "mid")])
    wait_scan(qtbot, window)
    window.start_training()
    qtbot.waitUntil(started.is_set, timeout=10000)
    assert window.train_panel.status.text().startswith("Training with")
    window.cancel_job()
    qtbot.waitUntil(lambda: window.job.outcome == "cancelled", timeout=5000)
    status = window.train_panel.status.text()
    assert status.startswith("Training cancelled after") and "No model was saved" in status
    assert not any("/40" in label.text() for label in window.train_panel.stage_labels.values())


# -- 8. dialogs and words ------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("answer", "goes_on", "saved"), [(QMessageBox.Save, True, True),
                                                           (QMessageBox.Discard, True, False),
                                                           (QMessageBox.Cancel, False, False)])
def test_unsaved_changes_offer_save_discard_cancel(qtbot, window, monkeypatch, answer, goes_on, saved):
    window._dirty = True
    asked, saves = [], []
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: asked.append(a[3]) or answer)
    monkeypatch.setattr(window.projects, "save_project", lambda: saves.append(True) or True)
    assert window.confirm_discard("open another project") is goes_on
    assert asked == [QMessageBox.Save | QMessageBox.Discard | QMessageBox.Cancel]
    assert bool(saves) is saved


def test_one_of_a_thing_is_not_plural(qtbot, window, tmp_path):
    data = make_tone_dataset(tmp_path / "data", {"low": 300.0}, files_per_class=1, seconds=0.5)
    window.add_paths([str(data / "low")])
    wait_scan(qtbot, window)
    assert window.data_panel.summary.text().startswith("1 class, 1 clip,")
    panel = IdentifyPanel()
    qtbot.addWidget(panel)
    panel.set_model("Model: m1", LABELS)
    one = FilePrediction(file="hi.wav", labels=LABELS, window_starts=np.zeros(1), window_ends=np.full(1, 2.0),
                         window_probabilities=np.array([[0.7, 0.2, 0.1]]), probabilities=np.array([0.7, 0.2, 0.1]),
                         label="anna", p=0.7, top_k=[("anna", 0.7)], timeline=[Segment(0, 2, "anna", 0.7)],
                         threshold=0.4)
    panel.show_prediction(one)
    assert "1 window," in panel.file_label.text() and "1 segment over" in panel.timeline_note.text()


def test_a_new_next_step_replaces_its_buttons_at_once(qtbot):
    strip = NextStep()
    qtbot.addWidget(strip)
    strip.show()
    strip.set_step(Step("one", (("add_folder", "Add class folder…"), ("open_demo", "Open the demo"))))
    strip.set_step(Step("two", (("page:Train", "Next: Train"),)))
    # no event loop turn in between (a screenshot or a paint may come first): only the new button is there
    assert [b.text() for b in strip.findChildren(QPushButton)] == ["Next: Train"]
