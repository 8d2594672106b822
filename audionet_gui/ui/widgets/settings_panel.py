"""The Train page's network settings: backbone, weights and training length. (How audio becomes images is
edited in the one settings form, ui/widgets/settings_form.py.)"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QWidget,
)

from audionet_gui.core.model.backbones import BACKBONES
from audionet_gui.core.settings import TrainingPlan, training_plan_fields
from audionet_gui.ui.theme import muted_text_style
from audionet_gui.ui.widgets.settings_form import FieldEditor

WEIGHTS_CHOICES = [
    ("imagenet", "ImageNet (downloaded once)", "Start from a network trained on millions of photos. Keras "
     "downloads the weights the first time (needs internet once), then keeps them."),
    ("file", "Weights file…", "Use a weights file you already have (.h5 / .weights.h5, the network without "
     "its top layers). Useful on a computer without internet."),
    ("none", "None (random start)", "Start from random weights: works without any download but needs much "
     "more data to reach the same accuracy."),
]


class ModelSettingsPanel(QGroupBox):
    """Backbone, weights, training length and the training plan. ``changed(training_dict)`` after an edit."""

    changed = Signal(dict)
    weights_file_chosen = Signal(str, str)  # backbone, path: to be remembered for next time

    def __init__(self, parent: QWidget | None = None):
        super().__init__("Network: what learns from the images", parent)
        self.remembered: dict[str, str] = {}  # backbone -> weights file the user chose before
        self.backbone = QComboBox()
        for name, spec in BACKBONES.items():
            self.backbone.addItem(name, name)
            self.backbone.setItemData(self.backbone.count() - 1, spec.description, 3)  # Qt.ToolTipRole
        self.backbone.setToolTip("The image network to retrain. Pretrained networks need ImageNet weights; "
                                 "small_cnn learns from scratch and needs none.")
        self.weights = QComboBox()
        for key, label, tip in WEIGHTS_CHOICES:
            self.weights.addItem(label, key)
            self.weights.setItemData(self.weights.count() - 1, tip, 3)
        self.weights.setToolTip("Where the network's starting knowledge comes from.")
        self.weights_path = QLineEdit()
        self.weights_path.setPlaceholderText("no file chosen")
        self.weights_path.setReadOnly(True)
        self.browse = QPushButton("Choose…")
        self.browse.setToolTip("Choose a weights file for this network")
        self.browse.clicked.connect(self._choose_file)
        self.backbone_note = QLabel("")
        self.backbone_note.setWordWrap(True)
        self.backbone_note.setStyleSheet(muted_text_style())
        self.epochs = QSpinBox()
        self.epochs.setRange(1, 1000)
        self.epochs.setToolTip("At most this many passes over the training images; training stops earlier "
                               "when the validation score stops improving.")
        self.fine_tune = QCheckBox("Fine-tune the top of the network")
        self.fine_tune.setToolTip("Also adjust the network's last layers (with audio-safe augmentation). "
                                  "Slower; can help with more data.")
        self.seed = QSpinBox()
        self.seed.setRange(0, 2**31 - 1)
        self.seed.setToolTip("The same seed gives the same result when nothing else changes.")
        file_row = QHBoxLayout()
        file_row.addWidget(self.weights_path, 1)
        file_row.addWidget(self.browse)
        form = QFormLayout(self)
        form.addRow("Backbone", self.backbone)
        form.addRow("", self.backbone_note)
        form.addRow("Weights", self.weights)
        form.addRow("Weights file", file_row)
        form.addRow("Epochs (max)", self.epochs)
        form.addRow("", self.fine_tune)
        form.addRow("Seed", self.seed)
        # the training plan (augmented copies, early stopping): one editor per field, made from its metadata;
        # the boxes' ranges are the plan's bounds, so every value they give is valid
        self.plan_editors = {f.name: FieldEditor(f) for f in training_plan_fields()}
        for f in training_plan_fields():
            form.addRow(f.info.label, self.plan_editors[f.name])
            self.plan_editors[f.name].changed.connect(self._on_edit)
        self._extra: dict[str, Any] = {}
        self._loading = False
        for sig in (self.weights.currentIndexChanged, self.epochs.valueChanged,
                    self.fine_tune.toggled, self.seed.valueChanged):
            sig.connect(self._on_edit)
        self.backbone.currentIndexChanged.connect(self._on_backbone)

    def set_values(self, training: dict[str, Any]) -> None:
        self._loading = True
        try:
            self._extra = dict(training)
            i = self.backbone.findData(training.get("backbone", "inception_v3"))
            self.backbone.setCurrentIndex(max(i, 0))
            weights = str(training.get("weights") or "none")
            key = weights if weights in ("imagenet", "none") else "file"
            self.weights.setCurrentIndex(max(self.weights.findData(key), 0))
            self.weights_path.setText("" if key != "file" else weights)
            self.epochs.setValue(int(training.get("epochs", 30)))
            self.fine_tune.setChecked(bool(training.get("fine_tune", False)))
            self.seed.setValue(int(training.get("seed", 0)))
            try:
                plan = TrainingPlan.from_training(training)
            except (TypeError, ValueError):
                plan = TrainingPlan()  # a project opens only with a valid plan; this is a caller's bad dict
            for name, value in plan.to_training().items():
                self.plan_editors[name].set_value(value)
        finally:
            self._loading = False
        self._update_enabled()

    def values(self) -> dict[str, Any]:
        out = dict(self._extra)
        key = self.weights.currentData()
        weights = self.weights_path.text() if key == "file" else key
        out.update(backbone=self.backbone.currentData(), weights=weights or "imagenet",
                   epochs=self.epochs.value(), fine_tune=self.fine_tune.isChecked(), seed=self.seed.value())
        out.update({name: editor.value() for name, editor in self.plan_editors.items()})
        return out

    def set_weights_file(self, path: str) -> None:
        self.weights.setCurrentIndex(self.weights.findData("file"))
        self.weights_path.setText(path)
        self.weights_file_chosen.emit(self.backbone.currentData(), path)
        self._on_edit()

    def _on_backbone(self, *_args) -> None:
        """A backbone for which the user chose a weights file before gets that file again."""
        remembered = self.remembered.get(self.backbone.currentData())
        if not self._loading and remembered and self.weights.currentData() != "none":
            self._loading = True
            self.weights.setCurrentIndex(self.weights.findData("file"))
            self.weights_path.setText(remembered)
            self._loading = False
        elif not self._loading and self.weights.currentData() == "file":
            self._loading = True  # a file of another network does not fit this one
            self.weights.setCurrentIndex(self.weights.findData("imagenet"))
            self.weights_path.setText("")
            self._loading = False
        self._on_edit()

    def _choose_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Choose a weights file", "",
                                              "Keras weights (*.h5 *.weights.h5 *.keras);;All files (*)")
        if path:
            self.set_weights_file(path)

    def _update_enabled(self) -> None:
        spec = BACKBONES.get(self.backbone.currentData())
        pretrained = bool(spec and spec.pretrained)
        self.weights.setEnabled(pretrained)
        file_mode = pretrained and self.weights.currentData() == "file"
        self.weights_path.setEnabled(file_mode)
        self.browse.setEnabled(file_mode)
        if spec:
            w, h = spec.default_image_size
            extra = "" if pretrained or "weights" in spec.description else " It needs no pretrained weights."
            described = f"{spec.description[:1].upper()}{spec.description[1:]}"
            self.backbone_note.setText(f"{described}. Images: {w}×{h} px.{extra}")

    def _on_edit(self, *_args) -> None:
        self._update_enabled()
        if not self._loading:
            self.changed.emit(self.values())

