"""Data page: folders and files dropped from a file manager become classes; edits; scans in a worker."""

import os

from PySide6.QtCore import QPointF

from audionet_gui.ui.pages.data_panel import DataPanel
from audionet_gui.ui.window import main_window as mw
from tests.tone_dataset import make_tone_dataset
from tests.ui.conftest import drop_paths


def wait_for_scan(qtbot, window):
    qtbot.waitUntil(lambda: window.scan is not None and not (window.job and window.job.is_running()), timeout=30000)


def test_dropping_folders_on_the_window_makes_one_class_per_folder(qtbot, window, tone_data):
    folders = sorted(p for p in tone_data.iterdir() if p.is_dir())
    assert drop_paths(window.data_panel, folders)
    assert window.project.class_names == ["high", "low", "mid"]
    wait_for_scan(qtbot, window)
    table = window.data_panel.table
    assert table.rowCount() == 3
    rows = {table.item(r, 0).text(): [table.item(r, c).text() for c in range(table.columnCount())]
            for r in range(3)}
    assert rows["low"][2] == "4"  # clips
    assert rows["low"][3] == "4.0 s"  # duration
    assert rows["low"][4] == "0"  # unreadable
    assert "too little audio" in rows["low"][5]
    assert window.isWindowModified()  # added classes are unsaved changes


def test_a_drop_on_a_class_row_adds_loose_files_to_that_class(qtbot, window, tone_data, tmp_path):
    window.add_paths([str(tone_data / "low"), str(tone_data / "mid")])
    wait_for_scan(qtbot, window)
    extra = tmp_path / "elsewhere" / "odd.wav"
    extra.parent.mkdir()
    extra.write_bytes((tone_data / "high" / "high_00.wav").read_bytes())
    table = window.data_panel.table
    rect = table.visualItemRect(table.item(1, 0))  # the "mid" row
    assert drop_paths(table.viewport(), [extra], QPointF(rect.center()))
    assert window.project.get_class("mid").files == [str(extra)]
    assert window.project.class_names == ["low", "mid"]
    wait_for_scan(qtbot, window)
    assert table.item(1, 2).text() == "5"


def test_drops_without_local_files_are_refused(qtbot):
    panel = DataPanel()
    qtbot.addWidget(panel)
    got = []
    panel.paths_dropped.connect(lambda paths, into: got.append(paths))
    assert not drop_paths(panel, [])
    assert got == []


def test_unreadable_files_are_counted_listed_and_logged(qtbot, window, tone_data):
    bad = tone_data / "low" / "broken.wav"
    bad.write_bytes(b"RIFF....WAVEfmt definitely not audio")
    window.add_paths([str(tone_data / "low"), str(tone_data / "high")])
    wait_for_scan(qtbot, window)
    table = window.data_panel.table
    assert table.item(0, 0).text() == "low"
    assert table.item(0, 2).text() == "4"
    assert table.item(0, 4).text() == "1"
    window.data_panel.select_class("low")
    assert "broken.wav" in window.data_panel.problems.text()
    logged = [row for row in window.log.rows() if row[1].endswith("broken.wav")]
    assert logged and logged[0][0] == "warning" and logged[0][2]


def test_rename_merge_remove_through_the_panel(qtbot, window, tone_data, monkeypatch):
    window.add_paths([str(p) for p in sorted(tone_data.iterdir())])
    wait_for_scan(qtbot, window)
    panel = window.data_panel
    # rename by editing the name cell, as a double-click does
    panel.table.item(0, 0).setText("treble")
    assert window.project.class_names == ["treble", "low", "mid"]
    # a name already in use is refused with a message, nothing changes

    warned = []
    monkeypatch.setattr(mw.QMessageBox, "warning", lambda *a, **k: warned.append(a[2]))
    panel.rename_requested.emit("low", "mid")
    assert warned and "already" in warned[0]
    assert window.project.class_names == ["treble", "low", "mid"]
    # the same refusal typed into the cell: the cell shows the name the class keeps
    panel.table.item(1, 0).setText("mid")
    assert len(warned) == 2 and panel.table.item(1, 0).text() == "low"
    # an edit that changes no row leaves the table's items alone (no rebuild on every project edit or new model)
    item = panel.table.item(0, 0)
    window.state.edited()
    assert panel.table.item(0, 0) is item
    panel.merge_requested.emit(["low", "mid"], "tones")
    assert window.project.class_names == ["treble", "tones"]
    assert len(window.project.get_class("tones").folders) == 2
    panel.remove_requested.emit(["treble"])
    assert window.project.class_names == ["tones"]
    wait_for_scan(qtbot, window)
    assert panel.table.rowCount() == 1
    assert panel.table.item(0, 2).text() == "8"


def test_test_folder_is_shown_and_counted(qtbot, window, tone_data, tmp_path):
    test_root = make_tone_dataset(tmp_path / "test", {"low": 300.0, "mid": 800.0}, files_per_class=2, seconds=1.0)
    window.add_paths([str(tone_data / "low"), str(tone_data / "mid")])
    window.set_test_folder(str(test_root))
    wait_for_scan(qtbot, window)
    assert window.data_panel.test_folder.text() == str(test_root)
    assert "4 clips in the test folder" in window.data_panel.summary.text()


def test_scanning_runs_off_the_gui_process(qtbot, window, tone_data):
    window.add_paths([str(tone_data / "low"), str(tone_data / "mid")])
    wait_for_scan(qtbot, window)
    job = window.job
    assert job.name == "Checking files" and job.in_process and job.pid not in (None, os.getpid())
    assert job.outcome == "finished"


def test_clicking_a_clip_asks_to_inspect_it(qtbot, window, tone_data):
    window.add_paths([str(tone_data / "low"), str(tone_data / "mid")])
    wait_for_scan(qtbot, window)
    window.data_panel.select_class("mid")
    clips = window.data_panel.clips
    assert clips.count() == 4
    asked = []
    window.data_panel.clip_activated.connect(asked.append)
    clips.itemActivated.emit(clips.item(2))
    assert asked == [str(tone_data / "mid" / "mid_02.wav")]
