""""Add a speaker": a name, about 30 s of the person speaking (recorded here or picked from files) and the
enrolment check of that audio (speech, level, clipping, background noise, agreement among the clips), so the user
knows before enrolling whether the voice print is good and what to do if not. It asks; the model controller records,
checks and enrols in jobs and answers with ``show_*``."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from audionet_gui.core.base.words import count
from audionet_gui.ui.dialogs.folder_dialog import AUDIO_FILTER
from audionet_gui.ui.theme import error_text_style, muted_text_style

RECORD_SECONDS = 30.0

STATUS_MARK = {"good": "✔", "fair": "⚠", "poor": "✘"}
STATUS_COLOR = {"good": "#2e7d32", "fair": "#b26a00", "poor": "#c62828"}


class AddSpeakerDialog(QDialog):
    check_requested = Signal(list)  # [paths]: run the enrolment check
    record_requested = Signal(str, float)  # (name, seconds): record from the microphone
    enroll_requested = Signal(str, list)  # (name, [paths]): add the speaker to the model

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Add a speaker")
        self.name = QLineEdit()
        self.name.setPlaceholderText("the speaker's name")
        self.name.textChanged.connect(self._update)
        self.files = QListWidget()
        self.files.setMinimumHeight(90)
        self.pick = QPushButton("Pick files…")
        self.pick.clicked.connect(self._pick)
        self.record = QPushButton(f"Record {RECORD_SECONDS:.0f} s")
        self.record.setToolTip("Record the person speaking naturally (reading aloud is fine) from the default "
                               "microphone")
        self.record.clicked.connect(lambda: self.record_requested.emit(self.name.text().strip(), RECORD_SECONDS))
        self.remove = QPushButton("Remove")
        self.remove.clicked.connect(self._remove_selected)
        self.status = QLabel("Record about 30 s of the person speaking, or pick a few files of their voice.")
        self.status.setWordWrap(True)
        self.status.setStyleSheet(muted_text_style())
        self.check_items = QLabel("")
        self.check_items.setWordWrap(True)
        self.buttons = QDialogButtonBox(QDialogButtonBox.Cancel)
        self.add_button = self.buttons.addButton("Add to the model", QDialogButtonBox.AcceptRole)
        self.add_button.clicked.connect(self._enroll)
        self.buttons.rejected.connect(self.reject)
        form = QFormLayout()
        form.addRow("Name", self.name)
        row = QHBoxLayout()
        row.addWidget(self.record)
        row.addWidget(self.pick)
        row.addWidget(self.remove)
        row.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.files)
        layout.addLayout(row)
        layout.addWidget(self.check_items)
        layout.addWidget(self.status)
        layout.addWidget(self.buttons)
        self.check: dict | None = None
        self.busy = False
        self._update()

    def paths(self) -> list[str]:
        return [self.files.item(i).text() for i in range(self.files.count())]

    def add_paths(self, paths: list[str]) -> None:
        known = set(self.paths())
        for p in paths:
            if p not in known:
                self.files.addItem(p)
        self._changed()

    def show_busy(self, text: str) -> None:
        self.busy = True
        self.status.setStyleSheet(muted_text_style())
        self.status.setText(text)
        self._update()

    def show_error(self, text: str) -> None:
        self.busy = False
        self.status.setStyleSheet(error_text_style())
        self.status.setText(text)
        self._update()

    def show_check(self, check: dict) -> None:
        """The enrolment check (``core.audio.enrol_check.check_files``)."""
        self.busy = False
        self.check = check
        lines = [f"<span style='color:{STATUS_COLOR[i['status']]}'>{STATUS_MARK[i['status']]}</span> "
                 f"<b>{i['key']}</b>: {i['message']}" for i in check["items"]]
        lines += [f"✘ {Path(f['path']).name}: {f['reason']}" for f in check.get("failed", [])]
        self.check_items.setText("<br>".join(lines))
        verdict = {"good": "A good voice print.", "fair": "Usable, but see the hints above for a better print.",
                   "poor": "Not good enough yet: see above what to do."}[check["status"]]
        self.status.setStyleSheet(muted_text_style())
        self.status.setText(f"{check['speech_s']:.0f} s of speech in {count(check['clips'], 'clip')}. {verdict}")
        self._update()

    def _changed(self) -> None:
        self.check = None
        self.check_items.setText("")
        if self.paths():
            self.show_busy("Checking the recordings…")
            self.check_requested.emit(self.paths())
        self._update()

    def _update(self) -> None:
        ready = bool(self.name.text().strip()) and bool(self.paths()) and not self.busy
        self.add_button.setEnabled(ready and self.check is not None)
        # a poor print can still be enrolled (a model of sounds, not voices, fails the speech items): say so
        poor = self.check is not None and not self.check.get("ok", False)
        self.add_button.setText("Add anyway" if poor else "Add to the model")
        self.record.setEnabled(not self.busy)
        self.pick.setEnabled(not self.busy)

    def _pick(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(self, "Recordings of the speaker", "", AUDIO_FILTER)
        if paths:
            self.add_paths(paths)

    def _remove_selected(self) -> None:
        for item in self.files.selectedItems():
            self.files.takeItem(self.files.row(item))
        self._changed()

    def _enroll(self) -> None:
        self.show_busy(f"Teaching the model {self.name.text().strip()}'s voice…")
        self.enroll_requested.emit(self.name.text().strip(), self.paths())
