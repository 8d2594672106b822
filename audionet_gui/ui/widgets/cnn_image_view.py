"""The image the CNN sees: ``CnnImageView`` paints one (H, W, 3) uint8 image scaled to fit (the QImage it
paints holds exactly the pixels it was given; ``shown_pixels`` reads them back, which the tests compare), and
``CnnWindowBox`` is the inspector column around it (window picker, size, Save)."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRect, QSize, Qt, Signal
from PySide6.QtGui import QImage, QPainter, QPalette
from PySide6.QtWidgets import QGroupBox, QHBoxLayout, QLabel, QPushButton, QSizePolicy, QSpinBox, QVBoxLayout, QWidget

from audionet_gui.ui.theme import muted_text_style


def qimage_from_rgb(image: np.ndarray) -> QImage:
    image = np.ascontiguousarray(image, dtype=np.uint8)
    h, w, _ = image.shape
    return QImage(image.data, w, h, w * 3, QImage.Format_RGB888).copy()  # copy: the QImage owns its pixels


def rgb_from_qimage(qimage: QImage) -> np.ndarray:
    img = qimage.convertToFormat(QImage.Format_RGB888)
    w, h, stride = img.width(), img.height(), img.bytesPerLine()
    return np.frombuffer(img.constBits(), dtype=np.uint8).reshape(h, stride)[:, : w * 3].reshape(h, w, 3).copy()


class CnnImageView(QWidget):
    def __init__(self, parent=None):
        super().__init__(parent)
        self._qimage: QImage | None = None
        self._placeholder = "No window selected"
        self.setMinimumSize(160, 160)
        self.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Expanding)

    def set_image(self, image: np.ndarray | None, placeholder: str = "") -> None:
        self._qimage = None if image is None else qimage_from_rgb(image)
        if placeholder:
            self._placeholder = placeholder
        self.update()

    def shown_pixels(self) -> np.ndarray | None:
        return None if self._qimage is None else rgb_from_qimage(self._qimage)

    def sizeHint(self) -> QSize:
        return QSize(260, 260)

    def paintEvent(self, _event) -> None:
        painter = QPainter(self)
        if self._qimage is None:
            painter.setPen(self.palette().color(QPalette.PlaceholderText))
            painter.drawText(self.rect(), Qt.AlignCenter | Qt.TextWordWrap, self._placeholder)
            return
        size = self._qimage.size().scaled(self.size(), Qt.KeepAspectRatio)
        target = QRect(0, 0, size.width(), size.height())
        target.moveCenter(self.rect().center())
        painter.setRenderHint(QPainter.SmoothPixmapTransform, True)
        painter.drawImage(target, self._qimage)


class CnnWindowBox(QGroupBox):
    """The inspector's right-hand column: which window, the image the CNN sees for it, its size, Save."""

    window_chosen = Signal(int)  # 0-based index picked in the spin box

    def __init__(self, parent=None):
        super().__init__("What the CNN sees", parent)
        self.window_spin = QSpinBox(minimum=0, maximum=0)
        self.window_spin.setToolTip("Window to show as the CNN sees it (or click on the waveform or spectrogram)")
        self.window_count = QLabel("of 0")
        self.window_time = QLabel(styleSheet=muted_text_style())
        self.view = CnnImageView()
        self.image_info = QLabel(styleSheet=muted_text_style(), wordWrap=True)
        self.save_button = QPushButton("Save image…")
        self.save_button.setToolTip("Save this window's CNN image as PNG, pixel for pixel")
        picker = QHBoxLayout()
        picker.addWidget(QLabel("Window"))
        picker.addWidget(self.window_spin)
        picker.addWidget(self.window_count)
        picker.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addLayout(picker)
        layout.addWidget(self.window_time)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.image_info)
        layout.addWidget(self.save_button)
        self.setFixedWidth(290)
        self.window_spin.valueChanged.connect(lambda value: self.window_chosen.emit(value - 1))

    def set_window_count(self, count: int) -> None:
        self.window_spin.blockSignals(True)
        self.window_spin.setRange(1 if count else 0, count)
        self.window_spin.blockSignals(False)
        self.window_count.setText(f"of {count}")

    def show_window(self, index: int, start_s: float, end_s: float, padded: bool) -> None:
        self.window_spin.blockSignals(True)
        self.window_spin.setValue(index + 1)
        self.window_spin.blockSignals(False)
        note = " (short clip filled to a whole window)" if padded else ""
        self.window_time.setText(f"{start_s:.2f} – {end_s:.2f} s{note}")

    def show_image(self, image: np.ndarray, description: str) -> None:
        self.view.set_image(image)
        self.image_info.setText(description)
        self.save_button.setEnabled(True)

    def clear(self, placeholder: str) -> None:
        self.view.set_image(None, placeholder)
        self.image_info.setText("")
        self.window_time.setText("")
        self.save_button.setEnabled(False)
