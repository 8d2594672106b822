"""The "Record samples into a class" box of the Live page (Teachable Machine style): a class of the project and
its folder, a length, Record and "Record background noise", a progress bar. It only asks: the Live page passes
``record_requested(folder, seconds)`` to the live worker and reports back with ``show_*``."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import QSettings, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QWidget,
)

from audionet_gui.core.live.recorder import BACKGROUND_CLASS
from audionet_gui.ui.settings_store import SettingsStore, as_store
from audionet_gui.ui.theme import error_text_style, muted_text_style

NOT_LISTENING = "Start listening first: the recording comes from the running microphone."


def record_targets(project) -> list[tuple[str, str | None]]:
    """(class name, folder to record into) for a core ``Project``: the class's first folder, or None when the
    class is made of single files only (a new WAV there would not belong to it)."""
    return [(c.name, c.folders[0] if c.folders else None) for c in project.classes]


class RecordBox(QGroupBox):
    record_requested = Signal(str, float)     # (class folder, seconds)
    background_class_requested = Signal()     # please add a _background_noise_ class with a folder

    def __init__(self, settings: SettingsStore | QSettings, parent: QWidget | None = None):
        super().__init__("Record samples into a class", parent)
        self.store = as_store(settings)
        self.listening = False
        self.recording = False
        self._pending_background = False
        self.class_combo = QComboBox()
        self.class_combo.currentIndexChanged.connect(self._class_changed)
        self.folder_label = QLabel("")
        self.folder_label.setStyleSheet(muted_text_style())
        self.folder_label.setWordWrap(True)
        self.seconds = QDoubleSpinBox()
        self.seconds.setRange(0.5, 120.0)
        self.seconds.setSingleStep(0.5)
        self.seconds.setValue(self.store.record_seconds)
        self.seconds.setSuffix(" s")
        self.record_button = QPushButton("Record")
        self.record_button.clicked.connect(lambda: self.record())
        self.background_button = QPushButton("Record background noise")
        self.background_button.setToolTip(f"Room noise with nobody speaking, into the '{BACKGROUND_CLASS}' class: "
                                          "the model learns what 'nobody' sounds like")
        self.background_button.clicked.connect(self.record_background)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setTextVisible(False)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        form = QFormLayout(self)
        form.addRow("Class:", self.class_combo)
        form.addRow("", self.folder_label)
        form.addRow("Length:", self.seconds)
        buttons = QHBoxLayout()
        buttons.addWidget(self.record_button)
        buttons.addWidget(self.background_button)
        form.addRow(buttons)
        form.addRow(self.progress)
        form.addRow(self.status)
        self.set_classes([])

    # -- state in --------------------------------------------------------------------------------------------------
    def set_classes(self, targets: Sequence[tuple[str, str | None]]) -> None:
        """(class name, folder or None) pairs, e.g. ``record_targets(project)``."""
        current = self.class_combo.currentText()
        self.class_combo.blockSignals(True)
        self.class_combo.clear()
        for name, folder in targets:
            self.class_combo.addItem(name, folder)
            if not folder:
                item = self.class_combo.model().item(self.class_combo.count() - 1)
                item.setEnabled(False)
                item.setToolTip("This class is made of single files: add a folder to it to record into it")
        index = self.class_combo.findText(current)
        self.class_combo.setCurrentIndex(index if index >= 0 else self._first_recordable())
        self.class_combo.blockSignals(False)
        self._class_changed()
        if self._pending_background and self.background_folder():
            self._pending_background = False
            self.record_background()

    def set_listening(self, listening: bool) -> None:
        self.listening = listening
        if not listening:
            self.recording = False  # the worker cancels a recording when it stops
            self._pending_background = False
        self._update_buttons()

    def show_progress(self, progress) -> None:
        total = max(float(progress.total or 0), 1e-9)
        self.progress.setValue(int(1000 * min(1.0, float(progress.done) / total)))

    def show_recorded(self, path: Path) -> None:
        self.recording = False
        self.progress.setValue(1000)
        self.status.setStyleSheet("")
        self.status.setText(f"Saved {path.name} in {path.parent}")
        self._update_buttons()

    def reset(self) -> None:
        """Another project: no message about the last recording stays."""
        self.recording = False
        self._pending_background = False
        self.progress.setValue(0)
        self.status.setStyleSheet("")
        self.status.setText("")
        self._update_buttons()

    def show_failed(self, message: str) -> None:
        self.recording = False
        self.progress.setValue(0)
        self.status.setStyleSheet(error_text_style())
        self.status.setText(f"Not recorded: {message}")
        self._update_buttons()

    # -- requests out --------------------------------------------------------------------------------------------
    def folder(self) -> str | None:
        return self.class_combo.currentData() or None

    def background_folder(self) -> str | None:
        index = self.class_combo.findText(BACKGROUND_CLASS)
        return self.class_combo.itemData(index) if index >= 0 else None

    def record(self, folder: str | None = None) -> None:
        folder = folder or self.folder()
        if not folder:
            self.status.setText("Choose a class with a folder to record into.")
            return
        if not self.listening:
            self.status.setText(NOT_LISTENING)
            return
        seconds = float(self.seconds.value())
        self.store.record_seconds = seconds
        self.progress.setValue(0)
        self.status.setStyleSheet("")
        self.status.setText(f"Recording {seconds:.1f} s into {Path(folder).name}…")
        self.recording = True
        self._update_buttons()
        self.record_requested.emit(folder, seconds)

    def record_background(self) -> None:
        folder = self.background_folder()
        if folder:
            self.record(folder)
        elif not self.listening:
            self.status.setText(NOT_LISTENING)
        else:
            self._pending_background = True  # recorded as soon as the window gives the class a folder
            self.status.setText(f"Adding the class '{BACKGROUND_CLASS}'…")
            self.background_class_requested.emit()

    # -- helpers -------------------------------------------------------------------------------------------------
    def _first_recordable(self) -> int:
        for i in range(self.class_combo.count()):
            if self.class_combo.itemData(i):
                return i
        return 0 if self.class_combo.count() else -1

    def _class_changed(self, *_args) -> None:
        folder = self.folder()
        if self.class_combo.count() == 0:
            self.folder_label.setText("No classes yet: add folders on the Data page.")
        else:
            self.folder_label.setText(f"into {folder}" if folder else "this class has no folder to record into")
        self._update_buttons()

    def _update_buttons(self) -> None:
        self.record_button.setEnabled(self.listening and bool(self.folder()) and not self.recording)
        self.background_button.setEnabled(self.listening and not self.recording)
        self.record_button.setToolTip("" if self.listening else "Start listening first")
