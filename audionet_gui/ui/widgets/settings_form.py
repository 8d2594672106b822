"""The one settings form for how audio becomes the CNN's image, made from the settings' metadata
(``core.settings.setting_fields``): a spin box with unit and range per number, a combo per choice, a check box
per yes/no, an "auto" box for optional settings, the help as tooltip, advanced settings under "More settings".

The Train page and the Inspect page each show one; both show the project's settings. An edit goes out as a
whole, valid ``ImageSettings`` (``edited``); a value the core refuses is shown in red and not sent, and is
applied together with the next edit that makes it valid.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QIcon, QImage, QPixmap
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from audionet_gui.core.audio.colormaps import COLORMAPS, colormap_lut
from audionet_gui.core.settings import ImageSettings, SettingField, setting_fields
from audionet_gui.ui.theme import error_text_style

TITLES = {"window": "Windows: how audio is cut", "spectrogram": "Spectrogram: how a window becomes an image"}
SHORT_TITLES = {"window": "Windows", "spectrogram": "Spectrogram"}


def colormap_icon(name: str, width: int = 48, height: int = 12) -> QIcon:
    row = colormap_lut(name)[np.linspace(0, 255, width).astype(np.intp)]
    strip = np.ascontiguousarray(np.broadcast_to(row, (height, width, 3)))
    image = QImage(strip.data, width, height, width * 3, QImage.Format_RGB888).copy()
    return QIcon(QPixmap.fromImage(image))


class _DoublingSpinBox(QSpinBox):
    """Arrows halve and double (FFT sizes); typing any value still works."""

    def stepBy(self, steps: int) -> None:
        self.setValue(int(self.value() * 2.0 ** steps))


def _number_box(f: SettingField) -> QSpinBox | QDoubleSpinBox:
    info = f.info
    if f.kind in ("int", "size"):
        box: QSpinBox | QDoubleSpinBox = _DoublingSpinBox() if info.doubling else QSpinBox()
        box.setRange(int(info.min if info.min is not None else -2**31 + 1),
                     int(info.max if info.max is not None else 2**31 - 1))
        box.setSingleStep(int(info.step or 1))
    else:
        box = QDoubleSpinBox()
        box.setDecimals(2 if info.decimals is None else info.decimals)
        box.setRange(info.min if info.min is not None else -1e9, info.max if info.max is not None else 1e9)
        box.setSingleStep(info.step or 1)
    if info.unit and f.kind != "size":
        box.setSuffix(f" {info.unit}")
    box.setKeyboardTracking(False)  # typed numbers count on Enter or leaving the box, not per keystroke
    box.setToolTip(info.help)
    return box


class FieldEditor(QWidget):
    """The editor of one setting: ``value()`` / ``set_value()`` in the setting's own terms (None = auto)."""

    changed = Signal()

    def __init__(self, f: SettingField, parent: QWidget | None = None):
        super().__init__(parent)
        self.field = f
        self.setObjectName(f.name)
        self.setToolTip(f.info.help)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(2)
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        outer.addLayout(row)
        self.boxes: list[QWidget] = []
        self.auto: QCheckBox | None = None
        if f.kind == "bool":
            self.check = QCheckBox()
            self.check.toggled.connect(self._emit)
            self.boxes.append(self.check)
        elif f.kind == "choice":
            self.combo = QComboBox()
            for choice in f.info.choices:
                if f.name == "colormap" and choice in COLORMAPS:
                    self.combo.addItem(colormap_icon(choice), str(choice), choice)
                else:
                    self.combo.addItem(str(choice), choice)
            self.combo.currentIndexChanged.connect(self._emit)
            self.boxes.append(self.combo)
        elif f.kind == "size":
            self.width_box, self.height_box = _number_box(f), _number_box(f)
            times = QLabel("×")
            self.boxes += [self.width_box, times, self.height_box, QLabel(f.info.unit or "")]
            for box in (self.width_box, self.height_box):
                box.valueChanged.connect(self._emit)
        elif f.kind in ("int", "float"):
            self.number = _number_box(f)
            self.number.valueChanged.connect(self._emit)
            self.boxes.append(self.number)
        else:
            raise TypeError(f"no editor for {f.name} ({f.kind})")
        stretch = 1 if f.kind in ("int", "float", "choice") else 0  # one box: it takes the row's width
        for box in self.boxes:
            row.addWidget(box, stretch)
        if f.info.optional:
            self.auto = QCheckBox(f.info.auto_text)
            self.auto.setToolTip(f"{f.info.label}: {f.info.auto_text} (auto)")
            self.auto.toggled.connect(self._on_auto)
            if f.kind == "size":
                outer.addWidget(self.auto)  # under the two boxes: the row stays narrow
            else:
                row.addWidget(self.auto)
        if f.kind == "size":
            row.addStretch(1)
        self._loading = False

    def value(self) -> Any:
        if self.auto is not None and self.auto.isChecked():
            return None
        kind = self.field.kind
        if kind == "bool":
            return self.check.isChecked()
        if kind == "choice":
            return self.combo.currentData()
        if kind == "size":
            return (self.width_box.value(), self.height_box.value())
        return self.number.value()

    def set_value(self, value: Any, shown_when_auto: Any = None) -> None:
        """Show ``value`` without emitting ``changed``; for None (auto), the boxes show ``shown_when_auto``."""
        self._loading = True
        try:
            if self.auto is not None:
                self.auto.setChecked(value is None)
            shown = shown_when_auto if value is None else value
            kind = self.field.kind
            if kind == "bool":
                self.check.setChecked(bool(shown))
            elif kind == "choice":
                self.combo.setCurrentIndex(max(self.combo.findData(shown), 0))
            elif kind == "size" and shown is not None:
                self.width_box.setValue(int(shown[0]))
                self.height_box.setValue(int(shown[1]))
            elif kind in ("int", "float") and shown is not None:
                self.number.setValue(shown)
            self._update_auto()
        finally:
            self._loading = False

    def _on_auto(self, *_args) -> None:
        self._update_auto()
        self._emit()

    def _update_auto(self) -> None:
        if self.auto is not None:
            for box in self.boxes:
                box.setEnabled(not self.auto.isChecked())

    def _emit(self, *_args) -> None:
        if not self._loading:
            self.changed.emit()


class SettingsForm(QWidget):
    """Every audio-to-image setting, made from the metadata. ``edited(ImageSettings)`` after a valid edit."""

    edited = Signal(object)

    def __init__(self, parent: QWidget | None = None, compact: bool = False):
        super().__init__(parent)
        self._settings = ImageSettings()
        self._resolved: ImageSettings | None = None
        self._pending: dict[str, Any] = {}
        self.editors: dict[str, FieldEditor] = {}
        self.labels: dict[str, QLabel] = {}
        titles = SHORT_TITLES if compact else TITLES

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.groups: dict[str, QGroupBox] = {}
        self.advanced = QWidget()
        advanced_form = QFormLayout(self.advanced)
        advanced_form.setContentsMargins(8, 0, 0, 0)
        forms: dict[str, QFormLayout] = {}
        for f in setting_fields():
            editor = FieldEditor(f)
            label = QLabel(f.info.label)
            label.setToolTip(f.info.help)
            label.setBuddy(editor)
            self.editors[f.name], self.labels[f.name] = editor, label
            editor.changed.connect(lambda name=f.name: self._on_edit(name))
            if f.info.advanced:
                advanced_form.addRow(label, editor)
                continue
            part = f.part or "spectrogram"
            if part not in forms:
                self.groups[part] = QGroupBox(titles.get(part, part.capitalize()))
                forms[part] = QFormLayout(self.groups[part])
                layout.addWidget(self.groups[part])
            forms[part].addRow(label, editor)
        for form in (*forms.values(), advanced_form):
            form.setFieldGrowthPolicy(QFormLayout.AllNonFixedFieldsGrow)
            form.setRowWrapPolicy(QFormLayout.WrapLongRows if compact else QFormLayout.DontWrapRows)

        self.more = QToolButton()
        self.more.setText("More settings")
        self.more.setCheckable(True)
        self.more.setToolButtonStyle(Qt.ToolButtonTextBesideIcon)
        self.more.setArrowType(Qt.RightArrow)
        self.more.setAutoRaise(True)
        self.more.setToolTip("Settings most projects leave as they are")
        self.more.toggled.connect(self.show_advanced)
        self.advanced.hide()
        layout.addWidget(self.more)
        layout.addWidget(self.advanced)

        self.error = QLabel(wordWrap=True)
        self.error.setStyleSheet(error_text_style())
        self.error.hide()
        layout.addWidget(self.error)
        self.defaults = QPushButton("Restore defaults")
        self.defaults.setToolTip("Set every audio and spectrogram setting back to its default")
        self.defaults.clicked.connect(self.restore_defaults)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.defaults)
        layout.addLayout(row)
        self.set_settings(self._settings)

    # -- state -------------------------------------------------------------------------------------------------
    def settings(self) -> ImageSettings:
        """The settings the form was given or last sent (refused values are not in them)."""
        return self._settings

    def set_settings(self, settings: ImageSettings, resolved: ImageSettings | None = None) -> None:
        """Show ``settings`` without emitting ``edited``; ``resolved`` (the same settings at the backbone's
        image size) tells what the automatic values mean here."""
        self._settings, self._resolved = settings, resolved
        self._pending = {}
        shown = resolved or settings
        for name, editor in self.editors.items():
            editor.set_value(settings.value(name), shown.effective_value(name))
        self.error.hide()
        self._update_relevant()

    def show_advanced(self, shown: bool = True) -> None:
        self.more.setChecked(shown)
        self.more.setArrowType(Qt.DownArrow if shown else Qt.RightArrow)
        self.advanced.setVisible(shown)

    def restore_defaults(self) -> None:
        defaults = ImageSettings()
        if defaults != self._settings:
            self.set_settings(defaults)
            self.edited.emit(defaults)

    # -- edits -------------------------------------------------------------------------------------------------
    def _on_edit(self, name: str) -> None:
        self._pending[name] = self.editors[name].value()
        self._update_relevant()
        try:
            settings = self._settings.with_values(self._pending)
        except (ValueError, TypeError) as exc:
            self.error.setText(f"Not applied: {exc}")
            self.error.show()
            return
        self._pending = {}
        self.error.hide()
        if settings != self._settings:
            self._settings = settings
            self.edited.emit(settings)

    def _update_relevant(self) -> None:
        """A setting that matters only for some values of another (mel bands for mel) is greyed otherwise."""
        for name, editor in self.editors.items():
            relevant = editor.field.info.relevant
            if relevant is None or relevant[0] not in self.editors:
                continue
            on = self.editors[relevant[0]].value() in relevant[1]
            editor.setEnabled(on)
            self.labels[name].setEnabled(on)
