"""Settings forms: how audio becomes images (windows, spectrogram) and which network learns from them.

The forms are built from field descriptions below; values go out as plain dicts that the core config classes
read (``WindowConfig.from_dict``, ``SpectrogramConfig.from_dict``). The core classes validate; a value they
refuse is shown in red under the form and not sent.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from audionet_gui.core.audio.colormaps import COLORMAPS
from audionet_gui.core.audio.spectrogram import KINDS, SpectrogramConfig
from audionet_gui.core.audio.windows import SHORT_CLIP_RULES, WindowConfig
from audionet_gui.core.model.backbones import BACKBONES
from audionet_gui.ui.theme import error_text_style, muted_text_style


@dataclass(frozen=True)
class FieldSpec:
    name: str
    label: str
    tip: str
    kind: str  # "float", "int", "bool", "choice"
    minimum: float = 0
    maximum: float = 1e9
    step: float = 1
    decimals: int = 2
    choices: Sequence[str] = ()
    suffix: str = ""
    none_as: float | None = None  # a field that may be None shows None as this number ("0 = Nyquist")
    none_text: str = ""  # what the editor shows for that number


WINDOW_FIELDS = [
    FieldSpec("window_s", "Window length", "Each image shows this many seconds of audio. About 2 s suits voices "
              "and live identification; longer windows see more but answer later.", "float", 0.1, 60, 0.1, 2,
              suffix=" s"),
    FieldSpec("hop_s", "Step between windows", "A new window starts every this many seconds. Smaller steps make "
              "more (overlapping) images from the same audio.", "float", 0.05, 60, 0.1, 2, suffix=" s"),
    FieldSpec("short_clip", "Clips shorter than a window", "tile: repeat the clip until the window is full (a "
              "short word becomes continuous speech, as in live audio). pad: centre it in silence.", "choice",
              choices=SHORT_CLIP_RULES),
    FieldSpec("skip_silent", "Skip silent windows", "Windows quieter than the threshold below are left out, so "
              "pauses do not teach the network anything. A file always keeps its loudest window.", "bool"),
    FieldSpec("silence_db", "Silence threshold", "Windows whose average level is below this (dB relative to "
              "full scale) count as silence.", "float", -120, 0, 1, 0, suffix=" dB"),
]

SPECTROGRAM_FIELDS = [
    FieldSpec("kind", "Spectrogram", "mel: frequencies spaced as the ear hears them (best for voices). stft: "
              "linear frequency axis. chroma: energy per musical pitch class.", "choice", choices=KINDS),
    FieldSpec("sample_rate", "Sample rate", "Audio is resampled to this rate first. 16 kHz keeps everything a "
              "voice needs.", "int", 4000, 96000, 1000, suffix=" Hz"),
    FieldSpec("n_fft", "FFT size", "Samples per analysis frame: larger = sharper frequencies, blurrier time.",
              "int", 16, 16384, 64),
    FieldSpec("hop_length", "Frame step", "Samples between analysis frames: smaller = finer time detail.",
              "int", 1, 8192, 16),
    FieldSpec("n_mels", "Mel bands", "Number of frequency bands of a mel spectrogram.", "int", 8, 512, 8),
    FieldSpec("fmin", "Lowest frequency", "Frequencies below this are left out of the image.", "float", 0, 48000,
              10, 0, suffix=" Hz"),
    FieldSpec("fmax", "Highest frequency", "Frequencies above this are left out; 0 = up to half the sample "
              "rate (Nyquist).", "float", 0, 48000, 100, 0, suffix=" Hz", none_as=0,
              none_text="half the sample rate"),
    FieldSpec("db_range", "Level range", "How many dB below the loudest point are still visible; quieter "
              "parts are black.", "float", 10, 200, 5, 0, suffix=" dB"),
    FieldSpec("colormap", "Colours", "How levels become colours in the image the network sees.", "choice",
              choices=tuple(COLORMAPS)),
]


def _make_editor(spec: FieldSpec) -> QWidget:
    if spec.kind == "bool":
        w = QCheckBox()
    elif spec.kind == "choice":
        w = QComboBox()
        w.addItems(list(spec.choices))
    elif spec.kind == "int":
        w = QSpinBox()
        w.setRange(int(spec.minimum), int(spec.maximum))
        w.setSingleStep(int(spec.step))
        w.setSuffix(spec.suffix)
    else:
        w = QDoubleSpinBox()
        w.setRange(spec.minimum, spec.maximum)
        w.setSingleStep(spec.step)
        w.setDecimals(spec.decimals)
        w.setSuffix(spec.suffix)
    if spec.none_text and hasattr(w, "setSpecialValueText"):
        w.setSpecialValueText(spec.none_text)  # shown at the minimum, which is the "None" value
    w.setToolTip(spec.tip)
    w.setObjectName(spec.name)
    return w


def _set_value(w: QWidget, spec: FieldSpec, value: Any) -> None:
    if value is None and spec.none_as is not None:
        value = spec.none_as
    if isinstance(w, QCheckBox):
        w.setChecked(bool(value))
    elif isinstance(w, QComboBox):
        i = w.findText(str(value))
        w.setCurrentIndex(max(i, 0))
    elif isinstance(w, QSpinBox):
        w.setValue(int(value))
    else:
        w.setValue(float(value))


def _get_value(w: QWidget, spec: FieldSpec) -> Any:
    if isinstance(w, QCheckBox):
        value: Any = w.isChecked()
    elif isinstance(w, QComboBox):
        value = w.currentText()
    else:
        value = w.value()
    if spec.none_as is not None and value == spec.none_as:
        return None
    return value


class _FieldForm(QGroupBox):
    """A group of editors for some fields of one config class; keeps fields it does not show as they were."""

    edited = Signal()

    def __init__(self, title: str, specs: list[FieldSpec], config_cls, parent: QWidget | None = None):
        super().__init__(title, parent)
        self._specs = specs
        self._cls = config_cls
        self._hidden: dict[str, Any] = {}
        self.editors: dict[str, QWidget] = {}
        form = QFormLayout(self)
        for spec in specs:
            w = _make_editor(spec)
            self.editors[spec.name] = w
            label = QLabel(spec.label)
            label.setToolTip(spec.tip)
            form.addRow(label, w)
            for sig in ("valueChanged", "currentIndexChanged", "toggled"):
                if hasattr(w, sig):
                    getattr(w, sig).connect(self._emit)
                    break
        self._loading = False

    def set_values(self, data: dict[str, Any]) -> None:
        full = self._cls().to_dict()
        full.update(data or {})
        self._loading = True
        try:
            for spec in self._specs:
                _set_value(self.editors[spec.name], spec, full.get(spec.name))
        finally:
            self._loading = False
        self._hidden = {k: v for k, v in full.items() if k not in self.editors}

    def values(self) -> dict[str, Any]:
        out = dict(self._hidden)
        for spec in self._specs:
            out[spec.name] = _get_value(self.editors[spec.name], spec)
        return out

    def _emit(self, *_args) -> None:
        if not self._loading:
            self.edited.emit()


class AudioSettingsPanel(QWidget):
    """Window and spectrogram settings. ``changed(spectrogram_dict, window_dict)`` after a valid edit."""

    changed = Signal(dict, dict)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.window_form = _FieldForm("Windows: how audio is cut", WINDOW_FIELDS, WindowConfig)
        self.spectrogram_form = _FieldForm("Spectrogram: how a window becomes an image", SPECTROGRAM_FIELDS,
                                           SpectrogramConfig)
        self.error = QLabel("")
        self.error.setWordWrap(True)
        self.error.setStyleSheet(error_text_style())
        self.note = QLabel("The image size follows the network chosen below.")
        self.note.setStyleSheet(muted_text_style())
        self.note.setWordWrap(True)
        defaults = QPushButton("Restore defaults")
        defaults.setToolTip("Set every audio and spectrogram setting back to its default")
        defaults.clicked.connect(self.restore_defaults)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.window_form)
        layout.addWidget(self.spectrogram_form)
        layout.addWidget(self.note)
        layout.addWidget(self.error)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(defaults)
        layout.addLayout(row)
        self.window_form.edited.connect(self._on_edit)
        self.spectrogram_form.edited.connect(self._on_edit)

    def set_values(self, spectrogram: dict, window: dict) -> None:
        self.spectrogram_form.set_values(spectrogram)
        self.window_form.set_values(window)
        self.error.setText("")

    def configs(self) -> tuple[SpectrogramConfig, WindowConfig]:
        """The configs now in the form (raises ValueError with the core's reason when one is invalid)."""
        return (SpectrogramConfig.from_dict(self.spectrogram_form.values()),
                WindowConfig.from_dict(self.window_form.values()))

    def restore_defaults(self) -> None:
        self.set_values({}, {})
        self._on_edit()

    def _on_edit(self) -> None:
        try:
            spec, win = self.configs()
        except (ValueError, TypeError) as exc:
            self.error.setText(f"Not applied: {exc}")
            return
        self.error.setText("")
        self.changed.emit(spec.to_dict(), win.to_dict())


WEIGHTS_CHOICES = [
    ("imagenet", "ImageNet (downloaded once)", "Start from a network trained on millions of photos. Keras "
     "downloads the weights the first time (needs internet once), then keeps them."),
    ("file", "Weights file…", "Use a weights file you already have (.h5 / .weights.h5, the network without "
     "its top layers). Useful on a computer without internet."),
    ("none", "None (random start)", "Start from random weights: works without any download but needs much "
     "more data to reach the same accuracy."),
]


class ModelSettingsPanel(QGroupBox):
    """Backbone, weights and training length. ``changed(training_dict)`` after an edit."""

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
        finally:
            self._loading = False
        self._update_enabled()

    def values(self) -> dict[str, Any]:
        out = dict(self._extra)
        key = self.weights.currentData()
        weights = self.weights_path.text() if key == "file" else key
        out.update(backbone=self.backbone.currentData(), weights=weights or "imagenet",
                   epochs=self.epochs.value(), fine_tune=self.fine_tune.isChecked(), seed=self.seed.value())
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
            self.backbone_note.setText(f"{spec.description[:1].upper()}{spec.description[1:]}. Images: {w}×{h} px.{extra}")

    def _on_edit(self, *_args) -> None:
        self._update_enabled()
        if not self._loading:
            self.changed.emit(self.values())

