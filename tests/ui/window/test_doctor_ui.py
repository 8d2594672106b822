"""The dataset doctor on the Data page: it runs off the GUI process with progress, its findings are listed, and
its fixes change the project (never a file); moving a file asks first."""

from __future__ import annotations

import shutil

from PySide6.QtWidgets import QInputDialog, QMessageBox

from audionet_gui.core.data.dataset import dataset_sources


def wait_idle(qtbot, window):
    qtbot.waitUntil(lambda: window.scan is not None and not (window.job and window.job.is_running()), timeout=30000)


def file_row(tree, name):
    for i in range(tree.topLevelItemCount()):
        group = tree.topLevelItem(i)
        for j in range(group.childCount()):
            item = group.child(j)
            rows = [item] + [item.child(k) for k in range(item.childCount())]
            for row in rows:
                path = row.data(0, 0x0100)
                if path and path.endswith(name):
                    return row
    return None


def test_doctor_finds_a_copy_and_excludes_or_moves_files(qtbot, window, tone_data, monkeypatch):
    copy = tone_data / "mid" / "copy_of_low_00.wav"
    shutil.copy(tone_data / "low" / "low_00.wav", copy)
    window.add_paths([str(tone_data / n) for n in ("low", "mid", "high")])
    wait_idle(qtbot, window)
    view = window.data_panel.doctor
    before = {p: p.read_bytes() for p in tone_data.rglob("*.wav")}

    view.check.click()
    qtbot.waitUntil(lambda: view.tree.topLevelItemCount() > 0, timeout=30000)
    qtbot.waitUntil(lambda: not view.cancel.isVisible(), timeout=10000)
    assert "Same audio in two classes" in view.tree.topLevelItem(0).text(0)

    row = file_row(view.tree, "copy_of_low_00.wav")
    view.tree.setCurrentItem(row)
    assert view.exclude.isEnabled()
    view.exclude.click()
    wait_idle(qtbot, window)
    assert window.project.get_class("mid").excluded == [str(copy)]
    assert file_row(view.tree, "copy_of_low_00.wav") is None

    monkeypatch.setattr(QInputDialog, "getItem", lambda *a, **k: ("high", True))
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.Yes)
    row = file_row(view.tree, "low_00.wav")
    view.tree.setCurrentItem(row)
    view.move.click()
    wait_idle(qtbot, window)
    labels = {s.path.name: s.label for s in dataset_sources(window.project.dataset_spec())}
    assert labels["low_00.wav"] == "high" and "copy_of_low_00.wav" not in labels
    assert {p: p.read_bytes() for p in tone_data.rglob("*.wav")} == before  # no file moved or changed

    # undo: both files are listed as left out, and Include again takes each back where it was
    shown = [view.excluded.item(i).text() for i in range(view.excluded.count())]
    assert view.excluded.isVisible() and sorted(shown) == ["copy_of_low_00.wav  (mid)",
                                                           "low_00.wav  (low, counted as high)"]
    assert not view.include.isEnabled()
    for i in range(view.excluded.count()):
        view.excluded.item(i).setSelected(True)
    view.include.click()
    wait_idle(qtbot, window)
    labels = {s.path.name: s.label for s in dataset_sources(window.project.dataset_spec())}
    assert labels["low_00.wav"] == "low" and labels["copy_of_low_00.wav"] == "mid"
    assert window.project.get_class("mid").excluded == [] and window.project.get_class("high").files == []
    assert view.excluded.count() == 0 and not view.excluded.isVisible()


def test_a_refused_move_changes_nothing(qtbot, window, tone_data, monkeypatch):
    shutil.copy(tone_data / "low" / "low_01.wav", tone_data / "mid" / "again.wav")
    window.add_paths([str(tone_data / n) for n in ("low", "mid")])
    wait_idle(qtbot, window)
    view = window.data_panel.doctor
    view.check.click()
    qtbot.waitUntil(lambda: file_row(view.tree, "again.wav") is not None, timeout=30000)
    monkeypatch.setattr(QInputDialog, "getItem", lambda *a, **k: ("low", True))
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.No)
    view.tree.setCurrentItem(file_row(view.tree, "again.wav"))
    view.move.click()
    assert window.project.get_class("mid").excluded == [] and window.project.get_class("low").files == []


def test_cancel_stops_the_check_and_says_so(qtbot, window, tone_data):
    window.add_paths([str(tone_data / n) for n in ("low", "mid")])
    wait_idle(qtbot, window)
    view = window.data_panel.doctor
    view.check.click()
    assert view.cancel.isVisible() and not view.check.isEnabled()
    view.cancel.click()
    qtbot.waitUntil(lambda: view.check.isEnabled(), timeout=20000)
    assert view.status.text() == "Check cancelled." and view.tree.topLevelItemCount() == 0
