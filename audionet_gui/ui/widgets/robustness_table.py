"""The Results page's "Robustness" section: how the model does outside the lab (metrics.json ``robustness``), one
row per listening condition, the weakest one highlighted with what to do about it, and how honest its "unknown" is
(``calibration`` and the test split's false-unknown / false-accept rates) in words. Shows; computes nothing."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor, QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QGroupBox,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
)

from audionet_gui.core.base.words import count
from audionet_gui.ui.theme import muted_text_style

CONDITION_NAMES = {
    "clean": "Clean (as recorded)",
    "noise_20db": "Noise at 20 dB SNR",
    "noise_10db": "Noise at 10 dB SNR",
    "noise_5db": "Noise at 5 dB SNR",
    "noise_0db": "Noise at 0 dB SNR",
    "reverb": "Another room (reverberation)",
    "cheap_mic": "Cheap microphone (300-3400 Hz, quiet)",
    "live_replay": "Live replay (through the live engine)",
}
WEAKEST_BACKGROUND = QColor(255, 196, 120)
EMPTY_TEXT = ("No robustness report for this model: it was trained before the report existed or with it "
              "switched off. `audionet evaluate MODEL DATA --robustness` makes one.")


def _pct(v: Any) -> str:
    return "–" if v is None else f"{100 * float(v):.0f} %"


def condition_title(name: str) -> str:
    if name in CONDITION_NAMES:
        return CONDITION_NAMES[name]
    return name.replace("_", " ").capitalize()


def honesty_text(metrics: dict) -> str:
    """The false-unknown and false-accept rates in words (test split first, else the calibration's)."""
    test = metrics.get("test") if isinstance(metrics.get("test"), dict) else {}
    calibration = metrics.get("calibration") if isinstance(metrics.get("calibration"), dict) else {}
    source, where = (test, "on the test recordings") if "false_unknown_rate" in (test or {}) else \
        (calibration, "on the validation windows")
    if "false_unknown_rate" not in (source or {}):
        return ""
    fu, fa = source.get("false_unknown_rate"), source.get("false_accept_rate")
    text = (f"Honest \u201cunknown\u201d ({where}): {_pct(fu)} of windows of enrolled classes, clean and in "
            f"noise, are wrongly answered \u201cunknown\u201d; {_pct(fa)} of windows that belong to no class "
            "(noise alone, or a class the model never met) are wrongly given a name.")
    threshold = metrics.get("unknown_threshold")
    if threshold is not None:
        text += f" Answers below p = {float(threshold):.2f} are \u201cunknown\u201d."
    return text


class RobustnessTable(QGroupBox):
    """``set_metrics(metrics)``: the whole metrics.json (or {} to clear)."""

    def __init__(self, parent=None):
        super().__init__("Robustness (test recordings in conditions the model was not trained on)", parent)
        self.table = QTableWidget(0, 3)
        self.table.setHorizontalHeaderLabels(["Condition", "Named right", "Answered unknown"])
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.table.setSelectionMode(QAbstractItemView.NoSelection)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeToContents)
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.Stretch)
        self.table.setToolTip("Each test recording is answered as `audionet predict` would, after noise that "
                              "training never used, a simulated room, a telephone-band microphone, or streamed "
                              "through the live engine with room tone around it.")
        self.advice = QLabel("")
        self.advice.setWordWrap(True)
        self.honesty = QLabel("")
        self.honesty.setWordWrap(True)
        self.note = QLabel("")
        self.note.setWordWrap(True)
        self.note.setStyleSheet(muted_text_style())
        layout = QVBoxLayout(self)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.advice)
        layout.addWidget(self.honesty)
        layout.addWidget(self.note)
        self.weakest: str | None = None
        self.set_metrics({})

    def set_metrics(self, metrics: dict | None) -> None:
        metrics = metrics or {}
        report = metrics.get("robustness") if isinstance(metrics.get("robustness"), dict) else {}
        conditions = (report or {}).get("conditions") or {}
        self.weakest = (report or {}).get("weakest") if conditions else None
        self.table.setRowCount(len(conditions))
        bold = QFont()
        bold.setBold(True)
        for r, (name, c) in enumerate(conditions.items()):
            cells = [condition_title(name), _pct(c.get("accuracy")), _pct(c.get("unknown_rate"))]
            for col, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setData(Qt.UserRole, name)
                if col:
                    item.setTextAlignment(Qt.AlignRight | Qt.AlignVCenter)
                if name == self.weakest:
                    item.setBackground(QBrush(WEAKEST_BACKGROUND))
                    item.setForeground(QBrush(QColor(0, 0, 0)))
                    item.setFont(bold)
                self.table.setItem(r, col, item)
        if self.weakest:
            c = conditions[self.weakest]
            title = condition_title(self.weakest)
            title = title[:1].lower() + title[1:]  # "noise at 0 dB SNR": units keep their case
            self.advice.setText(f"<b>Weakest: {title}</b> "
                                f"({_pct(c.get('accuracy'))} named right). {report.get('advice', '')}")
        else:
            self.advice.setText(EMPTY_TEXT if not conditions else "")
        self.honesty.setText(honesty_text(metrics))
        n = next(iter(conditions.values())).get("recordings") if conditions else None
        limit = (report or {}).get("per_class_limit")
        self.note.setText(f"{count(int(n), 'recording')}" + (f" (at most {limit} a class)" if limit else "") + "."
                          if n is not None else "")
        self.table.setVisible(bool(conditions))
