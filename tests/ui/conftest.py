"""Shared fixtures for the GUI tests: a main window with its own settings file and output folders, and helpers
to drop files on a widget the way a file manager does."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, QPointF, QSettings, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication, QMessageBox

from audionet_gui.ui.window.main_window import MainWindow
from tests.tone_dataset import make_tone_dataset


@pytest.fixture(autouse=True)
def no_blocking_questions(monkeypatch):
    """A modal question would hang an offscreen test: fail at once instead (tests that expect one patch it)."""

    def refuse(*args, **kwargs):
        raise AssertionError(f"unexpected question dialog: {args[2] if len(args) > 2 else args}")

    monkeypatch.setattr(QMessageBox, "question", refuse)
    monkeypatch.setattr(QMessageBox, "information", refuse)


@pytest.fixture
def isolated(tmp_path, monkeypatch):
    """Caches and models under tmp_path; returns a fresh QSettings file."""
    monkeypatch.setenv("AUDIONET_CACHE_DIR", str(tmp_path / "cache"))
    return QSettings(str(tmp_path / "settings.ini"), QSettings.IniFormat)


@pytest.fixture
def window(qtbot, isolated, tmp_path):
    w = MainWindow(isolated, output_root=tmp_path / "projects")
    w.resize(1100, 700)
    w.show()
    yield w
    w.cancel_job()
    for runner in (w.job, w.side_job):
        if runner is not None:
            runner.wait(20000)
    w._dirty = False
    close_message_boxes()
    w.close()
    w.deleteLater()


@pytest.fixture
def tone_data(tmp_path) -> Path:
    """Three classes (low/mid/high tones), 4 short files each."""
    return make_tone_dataset(tmp_path / "data", files_per_class=4, seconds=1.0)


def drop_paths(widget, paths, pos: QPointF | None = None) -> bool:
    """Send a drag-enter then a drop of local files/folders to ``widget``; True when the drop was accepted."""
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    pos = pos or QPointF(widget.width() / 2, widget.height() / 2)
    enter = QDragEnterEvent(pos, Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier)
    QApplication.sendEvent(widget, enter)
    if not enter.isAccepted():
        return False
    drop = QDropEvent(pos, Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier)
    QApplication.sendEvent(widget, drop)
    return drop.isAccepted()


def open_message_boxes() -> list[QMessageBox]:
    return [w for w in QApplication.topLevelWidgets() if isinstance(w, QMessageBox) and w.isVisible()]


def close_message_boxes() -> None:
    for box in open_message_boxes():
        box.done(0)
