"""The inspector's spectrogram parameters (kind, FFT size, hop, mel bands, frequency range, dB range,
colormap). Edits go out as a ``SpectrogramConfig`` that the core class has validated; a refused combination
is shown in red and not sent."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from PySide6.QtCore import Signal
from PySide6.QtGui import QIcon, QImage, QPixmap
from PySide6.QtWidgets import QComboBox, QDoubleSpinBox, QFormLayout, QLabel, QSpinBox, QWidget

from audionet_gui.core.audio.colormaps import COLORMAPS, colormap_lut
from audionet_gui.core.audio.spectrogram import KINDS, SpectrogramConfig
from audionet_gui.ui.theme import error_text_style

FFT_SIZES = (128, 256, 512, 1024, 2048, 4096, 8192)


def colormap_icon(name: str, width: int = 48, height: int = 12) -> QIcon:
    row = colormap_lut(name)[np.linspace(0, 255, width).astype(np.intp)]
    strip = np.ascontiguousarray(np.broadcast_to(row, (height, width, 3)))
    image = QImage(strip.data, width, height, width * 3, QImage.Format_RGB888).copy()
    return QIcon(QPixmap.fromImage(image))


class SpectrogramControls(QWidget):
    edited = Signal()  # the user changed a value and the resulting config is valid

    def __init__(self, parent=None):
        super().__init__(parent)
        self._base = SpectrogramConfig()
        self._loading = False
        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)

        self.kind = QComboBox()
        self.kind.addItems(KINDS)
        self.kind.setToolTip("mel: bands spaced as the ear hears (voices). stft: linear frequency axis. "
                             "chroma: energy per musical pitch class.")
        self.n_fft = QComboBox()
        for size in FFT_SIZES:
            self.n_fft.addItem(str(size), size)
        self.n_fft.setToolTip("Samples per analysis frame: larger = sharper frequency, blurrier time.")
        self.hop = QSpinBox(minimum=1, maximum=8192, suffix=" smp")
        self.hop.setToolTip("Samples between frames (160 at 16 kHz = 10 ms).")
        self.n_mels = QSpinBox(minimum=8, maximum=512)
        self.n_mels.setToolTip("Number of mel bands (image rows before resizing).")
        self.fmin = QDoubleSpinBox(minimum=0, maximum=96000, decimals=0, suffix=" Hz")
        self.fmin.setToolTip("Lowest frequency shown.")
        self.fmax = QDoubleSpinBox(minimum=0, maximum=96000, decimals=0, suffix=" Hz", specialValueText="Nyquist")
        self.fmax.setToolTip("Highest frequency shown (Nyquist = half the sample rate).")
        self.db_range = QDoubleSpinBox(minimum=10, maximum=200, decimals=0, suffix=" dB", singleStep=5)
        self.db_range.setToolTip("Levels this far below the loudest point are black in the image.")
        self.colormap = QComboBox()
        for name in COLORMAPS:
            self.colormap.addItem(colormap_icon(name), name)
        self.colormap.setToolTip("Colours of the image. The CNN sees these colours too, so the choice "
                                 "matters for training.")
        self.error = QLabel(wordWrap=True)
        self.error.setStyleSheet(error_text_style())
        self.error.hide()

        form.addRow("Kind", self.kind)
        form.addRow("FFT size", self.n_fft)
        form.addRow("Hop", self.hop)
        form.addRow("Mel bands", self.n_mels)
        form.addRow("Min freq", self.fmin)
        form.addRow("Max freq", self.fmax)
        form.addRow("dB range", self.db_range)
        form.addRow("Colormap", self.colormap)
        form.addRow(self.error)

        for combo in (self.kind, self.n_fft, self.colormap):
            combo.currentIndexChanged.connect(self._changed)
        for spin in (self.hop, self.n_mels, self.fmin, self.fmax, self.db_range):
            spin.valueChanged.connect(self._changed)

    def set_config(self, cfg: SpectrogramConfig) -> None:
        """Show ``cfg`` without emitting ``edited``."""
        self._base = cfg
        self._loading = True
        try:
            self.kind.setCurrentText(cfg.kind)
            if self.n_fft.findData(cfg.n_fft) < 0:
                self.n_fft.addItem(str(cfg.n_fft), cfg.n_fft)
            self.n_fft.setCurrentIndex(self.n_fft.findData(cfg.n_fft))
            self.hop.setValue(cfg.hop_length)
            self.n_mels.setValue(cfg.n_mels)
            nyquist = cfg.sample_rate / 2
            self.fmin.setMaximum(nyquist)
            self.fmax.setMaximum(nyquist)
            self.fmin.setValue(cfg.fmin)
            self.fmax.setValue(cfg.fmax or 0)
            self.db_range.setValue(cfg.db_range)
            self.colormap.setCurrentText(cfg.colormap)
            self._update_enabled()
            self.error.hide()
        finally:
            self._loading = False

    def config(self) -> SpectrogramConfig | None:
        """The config the controls show, or None (with the reason shown) when the core refuses it."""
        try:
            cfg = replace(self._base, kind=self.kind.currentText(), n_fft=int(self.n_fft.currentData()),
                          hop_length=self.hop.value(), n_mels=self.n_mels.value(), fmin=self.fmin.value(),
                          fmax=self.fmax.value() or None, db_range=self.db_range.value(),
                          colormap=self.colormap.currentText())
        except ValueError as exc:
            self.error.setText(str(exc))
            self.error.show()
            return None
        self.error.hide()
        return cfg

    def _update_enabled(self) -> None:
        kind = self.kind.currentText()
        self.n_mels.setEnabled(kind == "mel")
        self.fmin.setEnabled(kind != "chroma")
        self.fmax.setEnabled(kind != "chroma")

    def _changed(self, *_) -> None:
        self._update_enabled()
        if not self._loading and self.config() is not None:
            self.edited.emit()
