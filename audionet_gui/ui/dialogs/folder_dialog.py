"""File dialogs that start where the user's data is (the project's folder) and a folder dialog that takes
several folders at once (Qt's own folder dialog takes one)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QAbstractItemView, QFileDialog, QListView, QTreeView, QWidget

AUDIO_FILTER = "Audio (*.wav *.flac *.ogg *.mp3 *.m4a *.aac *.opus *.aif *.aiff);;All files (*)"


def start_dir(project, fallback: str = "") -> str:
    """The folder of a saved project (the demo's copy holds its recordings), else ``fallback``."""
    path = getattr(project, "path", None)
    if path and Path(path).parent.is_dir():
        return str(Path(path).parent)
    return fallback or str(Path.home())


def folders_dialog(parent: QWidget | None, title: str, directory: str) -> QFileDialog:
    """A folder dialog in which Ctrl/Shift-click selects several folders (Qt's widget-based dialog: the
    platform's own dialogs choose one folder only)."""
    dialog = QFileDialog(parent, title, directory)
    dialog.setFileMode(QFileDialog.Directory)
    dialog.setOption(QFileDialog.ShowDirsOnly, True)
    dialog.setOption(QFileDialog.DontUseNativeDialog, True)
    for view in dialog.findChildren(QListView) + dialog.findChildren(QTreeView):
        view.setSelectionMode(QAbstractItemView.ExtendedSelection)
    return dialog


def ask_folders(parent: QWidget | None, title: str, directory: str) -> list[str]:
    dialog = folders_dialog(parent, title, directory)
    if not dialog.exec():
        return []
    return [p for p in dialog.selectedFiles() if Path(p).is_dir()]
