"""The log: one row per message, with the file a message is about and the reason, newest at the bottom."""

from __future__ import annotations

import time

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from audionet_gui.core.base.words import count

LEVELS = ("info", "warning", "error")
_LEVEL_COLORS = {"warning": "#c98a00", "error": "#d93025"}


class LogPanel(QWidget):
    """``add(level, message, path=None)``; ``file_activated(path)`` when the user double-clicks a file row."""

    file_activated = Signal(str)
    error_logged = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.tree = QTreeWidget()
        self.tree.setColumnCount(4)
        self.tree.setHeaderLabels(["Time", "Level", "File", "What happened"])
        self.tree.setRootIsDecorated(False)
        self.tree.setAlternatingRowColors(True)
        self.tree.setUniformRowHeights(True)
        header = self.tree.header()
        header.setSectionResizeMode(0, QHeaderView.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.Interactive)
        header.setStretchLastSection(True)
        self.tree.setColumnWidth(2, 260)
        self.tree.itemDoubleClicked.connect(self._on_double_click)
        self.summary = QLabel("")
        clear = QPushButton("Clear")
        clear.setToolTip("Remove all messages from the log")
        clear.clicked.connect(self.clear)
        top = QHBoxLayout()
        top.addWidget(self.summary, 1)
        top.addWidget(clear)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(top)
        layout.addWidget(self.tree)
        self._counts = {level: 0 for level in LEVELS}
        self._update_summary()

    def add(self, level: str, message: str, path: str | None = None) -> None:
        level = level if level in LEVELS else "info"
        item = QTreeWidgetItem([time.strftime("%H:%M:%S"), level, path or "", message])
        item.setData(2, Qt.UserRole, path)
        item.setToolTip(2, path or "")
        item.setToolTip(3, message)
        if level in _LEVEL_COLORS:
            item.setForeground(1, QBrush(QColor(_LEVEL_COLORS[level])))
        self.tree.addTopLevelItem(item)
        if self.tree.topLevelItemCount() > 5000:  # a huge bad folder must not make the log the slow part
            self.tree.takeTopLevelItem(0)
        self.tree.scrollToItem(item)
        self._counts[level] += 1
        self._update_summary()
        if level == "error":
            self.error_logged.emit()

    def add_file_errors(self, failures, context: str = "") -> None:
        """``failures``: iterable of {path, reason} dicts or objects with .path/.reason."""
        for f in failures:
            path = f.get("path") if isinstance(f, dict) else getattr(f, "path", None)
            reason = f.get("reason") if isinstance(f, dict) else getattr(f, "reason", str(f))
            self.add("warning", f"{context}{reason}" if context else str(reason), str(path) if path else None)

    def clear(self) -> None:
        self.tree.clear()
        self._counts = {level: 0 for level in LEVELS}
        self._update_summary()

    def count(self, level: str | None = None) -> int:
        return sum(self._counts.values()) if level is None else self._counts.get(level, 0)

    def rows(self) -> list[tuple[str, str, str]]:
        """(level, file, message) of every row: what tests and screenshots read."""
        out = []
        for i in range(self.tree.topLevelItemCount()):
            it = self.tree.topLevelItem(i)
            out.append((it.text(1), it.text(2), it.text(3)))
        return out

    def _update_summary(self) -> None:
        e, w = self._counts["error"], self._counts["warning"]
        self.summary.setText(f"{count(e, 'error')}, {count(w, 'warning')}. Double-click a file to inspect it."
                             if e or w else "No problems so far.")

    def _on_double_click(self, item: QTreeWidgetItem, _column: int) -> None:
        path = item.data(2, Qt.UserRole)
        if path:
            self.file_activated.emit(path)
