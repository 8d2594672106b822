"""A strip that says what to do next on a page and offers the button for it (see ui/guide.py)."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QSizePolicy, QWidget


class NextStep(QFrame):
    action = Signal(str)  # an action of ui/guide.py

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("next_step")
        self.setFrameShape(QFrame.StyledPanel)
        self.setSizePolicy(QSizePolicy.Preferred, QSizePolicy.Maximum)
        self.setStyleSheet("QFrame#next_step { border: 1px solid palette(mid); border-radius: 6px; "
                           "background: palette(alternate-base); }")
        self.label = QLabel("")
        self.label.setWordWrap(True)
        self.buttons: list[QPushButton] = []
        self._layout = QHBoxLayout(self)
        self._layout.setContentsMargins(10, 6, 10, 6)
        self._layout.addWidget(self.label, 1)
        self.step = None

    def set_step(self, step) -> None:
        """A ``guide.Step``; nothing is redone when it is the one shown, buttons only when they change."""
        if step == self.step:
            return  # a word-wrapped label set again re-lays out its page: ms of GUI time for nothing
        self.step = step
        self.label.setText(step.text)
        wanted = list(step.buttons)
        if [(b.property("action"), b.text()) for b in self.buttons] != wanted:
            for b in self.buttons:
                self._layout.removeWidget(b)
                b.hide()  # gone now: deleteLater waits for the event loop, and a grab or a paint may come first
                b.setParent(None)
                b.deleteLater()
            self.buttons = []
            for action, text in wanted:
                b = QPushButton(text)
                b.setProperty("action", action)
                b.clicked.connect(lambda _c=False, a=action: self.action.emit(a))
                self._layout.addWidget(b)
                self.buttons.append(b)
        self.setVisible(bool(step.text))

    def button(self, action: str) -> QPushButton | None:
        return next((b for b in self.buttons if b.property("action") == action), None)
