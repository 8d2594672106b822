"""Projects and their models through the window: each project, saved or not, trains into its own folder, Save As
takes the model along, New Project leaves nothing of the last one on any page, and a remembered weights file
applies to a new project. Training is faked with a tiny bundle (tests/tiny_models.py): the storage is under test,
not the network."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from types import SimpleNamespace

import pytest
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QMessageBox

from audionet_gui.core.base.jobs import Progress
from audionet_gui.core.data.project import Project
from audionet_gui.qt import job_runner
from audionet_gui.ui.pages.train_panel import IDLE_TEXT
from audionet_gui.ui.window.main_window import MainWindow
from tests.tiny_models import small_spec, write_bundle
from tests.tone_dataset import make_tone_dataset

HISTORY = [{"epoch": 1, "loss": 1.0, "accuracy": 0.5, "val_loss": 1.1, "val_accuracy": 0.4},
           {"epoch": 2, "loss": 0.5, "accuracy": 0.9, "val_loss": 0.6, "val_accuracy": 0.8}]


def fake_train_project(project, out_dir, progress=None, cancel=None):
    """What train_project reports, from a tiny untrained bundle with the project's classes."""
    labels = list(project.class_names)
    n = len(labels)
    for i, row in enumerate(HISTORY):
        progress(Progress("training", i + 1, len(HISTORY), extra=dict(row)))
    test = {"labels": labels, "windows": 2 * n, "accuracy": 0.5, "recording_accuracy": 0.5, "macro_f1": 0.5,
            "per_class": {lab: {"precision": 0.5, "recall": 0.5, "f1": 0.5, "support": 2} for lab in labels},
            "confusion": [[1 if r == c else 1 if c == (r + 1) % n else 0 for c in range(n)] for r in range(n)],
            "misclassified": [{"file": f"/data/{labels[0]}/x.wav", "start": 0.0, "true": labels[0],
                               "predicted": labels[1], "p": 0.6}]}
    metrics = {"labels": labels, "test": test, "history": HISTORY, "unknown_threshold": 0.3}
    path = write_bundle(Path(out_dir), labels=labels, spec=small_spec(), threshold=0.3, metrics=metrics)
    return SimpleNamespace(bundle_path=path, metrics=metrics, labels=labels, warnings=[],
                           summary_lines=lambda: ["", "", f"test accuracy 50 % on {2 * n} windows"])


@pytest.fixture
def fake_training(monkeypatch):
    monkeypatch.setattr("audionet_gui.ui.window.project_controller.train_project", fake_train_project)
    monkeypatch.setattr(job_runner, "PROCESS_JOBS", False)  # in a thread, so the fake above is the job


def wait_idle(qtbot, window):
    qtbot.waitUntil(lambda: window.job is None or not window.job.is_running(), timeout=60000)


def train(qtbot, window, folders) -> Path:
    window.add_paths([str(f) for f in folders])
    qtbot.waitUntil(lambda: window.scan is not None, timeout=30000)
    wait_idle(qtbot, window)
    window.start_training()
    qtbot.waitUntil(lambda: window.job.outcome is not None, timeout=120000)
    assert window.job.outcome == "finished"
    wait_idle(qtbot, window)
    return Path(window.project.model_path)


def labels_of(model_dir: Path) -> list[str]:
    return json.loads((model_dir / "labels.json").read_text())


def points(curve) -> int:
    xs = curve.getData()[0]
    return 0 if xs is None else len(xs)


def new_project(window) -> None:
    window._dirty = False  # (the question "discard changes?" is answered yes)
    window.new_project()


def test_two_unsaved_projects_both_keep_their_models(qtbot, window, tmp_path, fake_training):
    data = make_tone_dataset(tmp_path / "data", {"low": 300.0, "mid": 800.0, "high": 2000.0, "top": 3000.0},
                             files_per_class=2, seconds=1.0)
    first = train(qtbot, window, [data / "low", data / "mid", data / "high"])
    assert labels_of(first) == ["low", "mid", "high"]
    first_project = window.project
    new_project(window)
    second = train(qtbot, window, [data / "mid", data / "top"])
    assert second != first
    assert labels_of(second) == ["mid", "top"]
    assert labels_of(first) == ["low", "mid", "high"]  # the first project's model was not replaced
    assert Path(first_project.model_path) == first
    out = tmp_path / "projects"
    assert first.is_relative_to(out) and second.is_relative_to(out)


def test_a_saved_project_keeps_its_model_when_a_new_one_trains(qtbot, window, tmp_path, fake_training):
    """The data loss of issue 9: a saved 3-class project reopened with the next project's 2-class model."""
    data = make_tone_dataset(tmp_path / "data", {"low": 300.0, "mid": 800.0, "high": 2000.0},
                             files_per_class=2, seconds=1.0)
    train(qtbot, window, [data / "low", data / "mid", data / "high"])
    saved = tmp_path / "docs" / "three.audionet.json"
    assert window._save_to(saved)
    new_project(window)
    train(qtbot, window, [data / "low", data / "mid"])
    new_project(window)
    assert window.open_project(str(saved))
    assert labels_of(Path(window.project.model_path)) == ["low", "mid", "high"]
    assert window.results_panel.per_class.rowCount() == 3
    wait_idle(qtbot, window)


def test_save_as_moves_the_model_into_the_projects_folder(qtbot, window, tmp_path, fake_training):
    data = make_tone_dataset(tmp_path / "data", {"low": 300.0, "mid": 800.0}, files_per_class=2, seconds=1.0)
    unsaved = train(qtbot, window, [data / "low", data / "mid"])
    target = tmp_path / "docs" / "voices.audionet.json"
    assert window._save_to(target)
    moved = tmp_path / "docs" / "voices_project" / "model"
    assert Path(window.project.model_path) == moved
    assert labels_of(moved) == ["low", "mid"]
    assert (unsaved / "labels.json").is_file()  # copied, then switched: the old copy was never at risk
    assert Path(Project.load(target).model_path) == moved  # what the saved project points to
    assert window.state.model.path == str(moved)
    assert str(moved) in window.results_panel.model_info.text()
    # training the saved project again writes into its own folder, nowhere else
    window.start_training()
    qtbot.waitUntil(lambda: window.job.outcome is not None, timeout=120000)
    wait_idle(qtbot, window)
    assert Path(window.project.model_path) == moved


def test_new_project_clears_every_page(qtbot, window, tmp_path, fake_training):
    data = make_tone_dataset(tmp_path / "data", {"low": 300.0, "mid": 800.0}, files_per_class=2, seconds=1.0)
    train(qtbot, window, [data / "low", data / "mid"])
    # what a user has on screen after training, identifying, inspecting and a live session
    clip = str(data / "low" / "low_01.wav")
    with qtbot.waitSignal(window.inspector.loaded, timeout=30000):
        window.inspect_file(clip)
    window.identify_file(clip)
    qtbot.waitUntil(lambda: bool(window.identify_panel.bars.items()), timeout=60000)
    live = window.live_panel
    live.answer.setText("low")
    live.bars.set_items([("low", 0.9)])
    live.timeline.set_segments([(0.0, 2.0, "low", 0.9)], ["low", "mid"], live.colors)
    live.recorder.show_recorded(data / "low" / "low_99.wav")
    train_page, results, identify = window.train_panel, window.results_panel, window.identify_panel
    assert train_page.curves.epochs == [1.0, 2.0] and "test accuracy" in train_page.status.text()
    assert results.per_class.rowCount() == 2 and results.heatmap.matrix.size == 4
    assert results.misclassified.rowCount() == 1
    assert identify.answer.text() and identify.timeline.segments
    assert live.model_path == window.project.model_path and live.threshold.value() == 30
    assert window.data_panel.table.rowCount() == 2

    new_project(window)

    assert window.project.classes == [] and window.project.model_path is None
    assert window.data_panel.table.rowCount() == 0 and window.data_panel.summary.text() == ""
    assert window.inspector.inspection is None and window.inspector.file_label.text() == "No clip"
    assert not window.inspector.play_button.isEnabled()
    assert train_page.curves.epochs == [] and not any(points(c) for c in train_page.curves.curves.values())
    assert train_page.status.text() == IDLE_TEXT
    assert all(label.text().endswith("waiting") for label in train_page.stage_labels.values())
    assert "No model yet" in results.headline.text()
    assert {v.text() for v in results.figures.values()} == {"–"}
    assert results.per_class.rowCount() == 0 and results.heatmap.matrix.size == 0
    assert results.misclassified.rowCount() == 0 and not results.save_button.isEnabled()
    # no class names of the old model on the confusion matrix's axes (pyqtgraph keeps set ticks in _tickLevels)
    assert all(results.heatmap.plot.getAxis(side)._tickLevels in (None, [[]], [])
               for side in ("bottom", "left"))
    assert all(train_page.curves.loss_plot.getViewBox().autoRangeEnabled())  # the old run's axes are not kept
    assert identify.bars.items() == [] and identify.answer.text() == "" and identify.timeline.segments == []
    assert identify.file_label.text() == "" and not identify.choose.isEnabled()
    assert "No model" in identify.model_label.text()
    assert live.model_path is None and live.bundle is None and "No model" in live.model_label.text()
    assert live.answer.text() == "—" and live.bars.items() == [] and live.timeline.segments == []
    assert live.threshold.value() == 50  # the last model's calibrated threshold (0.3) is gone too
    assert live.recorder.status.text() == "" and not live.listening
    assert window.state.model is None and window.state.scan is None and window.metrics == {}


def test_a_remembered_weights_file_applies_to_a_new_project(qtbot, tmp_path):
    weights = tmp_path / "inception.weights.h5"
    weights.write_bytes(b"stand-in")
    settings = QSettings(str(tmp_path / "w.ini"), QSettings.IniFormat)
    w = MainWindow(settings, output_root=tmp_path / "p")
    try:
        assert w.project.training["weights"] == "imagenet"  # nothing remembered yet
        panel = w.train_panel.model_settings
        panel.set_values({"backbone": "inception_v3", "weights": "imagenet", "epochs": 5})
        panel.set_weights_file(str(weights))
        assert w.store.weights_file("inception_v3") == str(weights)
        new_project(w)
        assert w.project.training["backbone"] == "inception_v3"
        assert w.project.training["weights"] == str(weights)
        assert panel.values()["weights"] == str(weights)  # the chooser shows it, not ImageNet
    finally:
        w._dirty = False
        w.close()
    # and in the next session, in a new window's first project
    again = MainWindow(QSettings(str(tmp_path / "w.ini"), QSettings.IniFormat), output_root=tmp_path / "p")
    try:
        assert again.project.training["weights"] == str(weights)
    finally:
        again.close()


def test_a_run_that_ends_after_new_project_stays_with_its_own_project(qtbot, window, tmp_path, monkeypatch):
    release = threading.Event()

    def slow_training(project, out_dir, progress=None, cancel=None):  # does not stop when cancelled
        release.wait(30)
        return fake_train_project(project, out_dir, progress)

    monkeypatch.setattr("audionet_gui.ui.window.project_controller.train_project", slow_training)
    monkeypatch.setattr(job_runner, "PROCESS_JOBS", False)  # in a thread, so the stand-in above is the job
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.Yes)  # "start anyway?" yes
    data = make_tone_dataset(tmp_path / "data", {"low": 300.0, "mid": 800.0}, files_per_class=2, seconds=1.0)
    window.add_paths([str(data / "low"), str(data / "mid")])
    qtbot.waitUntil(lambda: window.scan is not None, timeout=30000)
    wait_idle(qtbot, window)
    first_dir = window.state.model_dir()
    window.start_training()
    run = window.job
    window.new_project()
    release.set()
    qtbot.waitUntil(lambda: run.outcome is not None, timeout=60000)
    qtbot.wait(50)
    assert labels_of(first_dir) == ["low", "mid"]  # written into the first project's own folder
    assert window.project.model_path is None and window.state.model is None  # not adopted by the new project
    assert "No model yet" in window.results_panel.headline.text()
