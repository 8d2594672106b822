"""Jobs seen from the window: progress in the job bar, Cancel, single-file errors in the log, fatal errors in a
dialog that says what to do, and the offline-weights choices."""

import os
import time

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QMessageBox

import audionet_gui.core.model.backbones as backbones
from audionet_gui.core.base.errors import DatasetError, WeightsUnavailableError
from audionet_gui.core.base.jobs import Progress
from audionet_gui.qt import job_runner
from audionet_gui.qt.job_runner import JobFailure
from audionet_gui.ui.dialogs import weights_dialog
from tests.ui.conftest import close_message_boxes, open_message_boxes


def slow_job(*, progress=None, cancel=None):
    for i in range(1000):
        cancel.raise_if_cancelled()
        progress(Progress("converting", i + 1, 1000, "", eta_s=(1000 - i) * 0.01))
        time.sleep(0.01)
    return "done"


def test_job_bar_shows_stage_count_and_time_left_and_cancel_stops_it(qtbot, window):
    finished = []
    runner = window.run_job(slow_job, title="Making images", on_finished=finished.append)
    bar = window.job_bar
    qtbot.waitUntil(lambda: bar.count.text().startswith(("3 /", "4 /", "5 /", "6 /")) or "/ 1000" in bar.count.text(),
                    timeout=5000)
    assert "Making spectrogram images" in bar.title.text()
    assert "left" in bar.eta.text()
    assert bar.cancel_button.isVisible() and not window.train_panel.train_button.isEnabled()
    t0 = time.monotonic()
    bar.cancel_button.click()
    qtbot.waitUntil(lambda: runner.outcome == "cancelled", timeout=3000)
    assert time.monotonic() - t0 < 1.0
    qtbot.waitUntil(lambda: not runner.is_running(), timeout=3000)
    assert finished == []
    assert "cancelled" in bar.title.text()
    assert not bar.cancel_button.isVisible()
    assert window.train_panel.train_button.isEnabled()
    assert any("cancelled" in row[2] for row in window.log.rows())


def test_escape_shortcut_action_cancels(qtbot, window):
    runner = window.run_job(slow_job, title="Making images", on_finished=lambda r: None)
    qtbot.waitUntil(lambda: window.job_bar.count.text() != "", timeout=5000)
    window.actions["cancel"].trigger()
    qtbot.waitUntil(lambda: runner.outcome == "cancelled", timeout=3000)


def test_only_one_job_at_a_time(qtbot, window, monkeypatch):
    told = []
    monkeypatch.setattr(QMessageBox, "information", lambda *a, **k: told.append(a[2]))
    first = window.run_job(slow_job, title="A", on_finished=lambda r: None)
    assert window.run_job(slow_job, title="B", on_finished=lambda r: None) is None
    assert told and "Another job" in told[0]
    first.cancel()
    qtbot.waitUntil(lambda: not first.is_running(), timeout=3000)


def test_a_fatal_error_opens_a_dialog_that_says_what_to_do(qtbot, window):
    def bad_job(*, progress=None, cancel=None):
        raise DatasetError("at least two classes are needed to train, found 1")

    runner = window.run_job(bad_job, title="Training", doing="Training", on_finished=lambda r: None)
    qtbot.waitUntil(lambda: runner.outcome == "failed", timeout=5000)
    qtbot.waitUntil(lambda: bool(open_message_boxes()), timeout=3000)
    box = open_message_boxes()[0]
    assert "two classes" in box.text()
    assert box.informativeText().startswith("What to do:")
    assert "Data page" in box.informativeText()
    assert "bad_job" in box.detailedText()  # the traceback is there for a bug report
    assert window.log.count("error") == 1
    assert window.log_dock.isVisible()  # errors bring the log into view
    close_message_boxes()


def test_single_file_errors_go_to_the_log_and_the_job_goes_on(qtbot, window, tone_data):
    (tone_data / "low" / "zz_broken.wav").write_bytes(b"not audio at all" * 10)
    window.add_paths([str(tone_data / "low"), str(tone_data / "mid")])
    qtbot.waitUntil(lambda: window.scan is not None and not window.job.is_running(), timeout=30000)
    window.log.clear()
    window.project.training.update(backbone="small_cnn")
    window.start_convert()
    qtbot.waitUntil(lambda: window.job.outcome is not None, timeout=120000)
    assert window.job.outcome == "finished"
    rows = window.log.rows()
    broken = [r for r in rows if r[1].endswith("zz_broken.wav")]
    assert broken and broken[0][0] == "warning" and broken[0][2]  # the file and its reason
    assert any("Made" in r[2] and "images from 8 files" in r[2] for r in rows)
    assert not open_message_boxes()


def test_offline_without_weights_offers_a_file_and_remembers_it(qtbot, window, tone_data, tmp_path, monkeypatch):
    def offline(*args, **kwargs):
        raise OSError("URL fetch failure: [Errno -2] Name or service not known")

    monkeypatch.setattr(backbones, "_download", offline)
    monkeypatch.setattr(job_runner, "PROCESS_JOBS", False)  # training in a thread, so the offline stand-in applies
    weights = tmp_path / "my_inception.weights.h5"
    weights.write_bytes(b"stand-in")
    asked = []

    def choose_file(parent, backbone, details=""):
        asked.append((backbone, details))
        return ("file", str(weights))

    monkeypatch.setattr("audionet_gui.ui.window.project_controller.ask_weights_choice", choose_file)
    window.add_paths([str(tone_data / "low"), str(tone_data / "mid")])
    qtbot.waitUntil(lambda: window.scan is not None and not window.job.is_running(), timeout=30000)
    window.project.training.update(backbone="inception_v3", weights="imagenet")
    window.start_training()
    first = window.job
    qtbot.waitUntil(lambda: first.outcome == "failed", timeout=60000)
    qtbot.waitUntil(lambda: bool(asked), timeout=5000)
    assert asked[0][0] == "inception_v3" and "download" in asked[0][1].lower()
    assert window.settings.value("weights/inception_v3") == str(weights)
    assert window.project.training["weights"] == str(weights)
    assert window.train_panel.model_settings.values()["weights"] == str(weights)
    assert window.job is not first  # training was started again with the file
    window.cancel_job()
    qtbot.waitUntil(lambda: not window.job.is_running(), timeout=60000)
    close_message_boxes()


def test_offline_choice_small_cnn_switches_the_backbone(qtbot, window, monkeypatch):
    monkeypatch.setattr("audionet_gui.ui.window.project_controller.ask_weights_choice",
                        lambda *a, **k: ("small_cnn", None))
    restarted = []
    monkeypatch.setattr(window.projects, "start_training",
                        lambda: restarted.append(window.project.training["backbone"]))

    window.project.training["backbone"] = "mobilenet_v2"
    window.offer_weights_choice(JobFailure(WeightsUnavailableError("offline"), "offline", ""))
    assert restarted == ["small_cnn"]
    assert window.train_panel.model_settings.backbone.currentData() == "small_cnn"


def test_the_offline_dialog_explains_and_offers_both_ways_out(qtbot):
    text = weights_dialog.offline_message("inception_v3")
    assert "could not download" in text and "Choose a weights file" in text and "small_cnn" in text

    def click_small_cnn():
        for box in open_message_boxes():
            for b in box.buttons():
                if "small_cnn" in b.text():
                    b.click()

    QTimer.singleShot(200, click_small_cnn)
    assert weights_dialog.ask_weights_choice(None, "inception_v3", "details") == ("small_cnn", None)


def test_remembered_weights_file_comes_back_with_its_backbone(qtbot, window, tmp_path):
    panel = window.train_panel.model_settings
    path = str(tmp_path / "mobilenet.h5")
    panel.set_values({"backbone": "mobilenet_v2", "weights": "imagenet", "epochs": 5})
    panel.set_weights_file(path)
    assert window.settings.value("weights/mobilenet_v2") == path
    panel.backbone.setCurrentIndex(panel.backbone.findData("inception_v3"))
    assert panel.values()["weights"] == "imagenet"  # another network's file does not carry over
    panel.backbone.setCurrentIndex(panel.backbone.findData("mobilenet_v2"))
    assert panel.values()["weights"] == path
    assert window.project.training["weights"] == path


def crashing_training(*, progress=None, cancel=None):
    """Runs in the job's child process and dies there as a native crash would, without a word."""
    progress(Progress("training", 1, 3))
    os._exit(3)


def deaf_training(*, progress=None, cancel=None):
    """Runs in a child process and never looks at its cancel token."""
    progress(Progress("training", 1, 3))
    time.sleep(60)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as fh:  # a zombie is not running
        return fh.read().split(")")[-1].split()[0] != "Z"


def test_a_crash_in_a_child_process_training_is_an_error_and_the_window_keeps_working(qtbot, window, tone_data):
    runner = window.run_job(crashing_training, title="Training", doing="Training", on_finished=lambda r: None,
                            process=True)
    assert runner.in_process
    qtbot.waitUntil(lambda: runner.outcome == "failed", timeout=30000)
    qtbot.waitUntil(lambda: bool(open_message_boxes()), timeout=3000)
    box = open_message_boxes()[0]
    assert "stopped unexpectedly" in box.text() and "exit code 3" in box.text()
    assert box.informativeText().startswith("What to do:")
    assert window.log.count("error") == 1 and "exit code 3" in window.log.rows()[-1][2]
    assert "stopped" in window.job_bar.title.text()
    close_message_boxes()
    qtbot.waitUntil(lambda: not window.job_busy() and window.train_panel.train_button.isEnabled(), timeout=5000)
    # the window is still usable: the next job (a real scan, in a child process too) succeeds
    window.add_paths([str(tone_data / "low"), str(tone_data / "mid")])
    qtbot.waitUntil(lambda: window.scan is not None, timeout=60000)
    assert window.job.in_process and window.job.outcome == "finished"
    assert window.scan.report.total_files == 8


def test_cancel_stops_a_child_process_job_within_a_second(qtbot, window):
    runner = window.run_job(deaf_training, title="Training", doing="Training", on_finished=lambda r: None,
                            process=True)
    qtbot.waitUntil(lambda: window.job_bar.count.text() != "", timeout=30000)  # the child is working
    pid = runner.pid
    assert _alive(pid)
    t0 = time.monotonic()
    window.job_bar.cancel_button.click()
    qtbot.waitUntil(lambda: runner.outcome == "cancelled", timeout=3000)
    assert time.monotonic() - t0 < 1.0
    qtbot.waitUntil(lambda: not _alive(pid), timeout=1000)
    assert "cancelled" in window.job_bar.title.text() and not open_message_boxes()


def test_closing_the_window_leaves_no_job_process_behind(qtbot, window):
    runner = window.run_job(deaf_training, title="Making images", on_finished=lambda r: None, process=True)
    qtbot.waitUntil(lambda: window.job_bar.count.text() != "", timeout=30000)
    pid = runner.pid
    t0 = time.monotonic()
    window.close()
    assert time.monotonic() - t0 < 2.0
    assert not _alive(pid)
