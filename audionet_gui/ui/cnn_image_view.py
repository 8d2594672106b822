"""Shows one CNN input image (H, W, 3) uint8 scaled to fit, keeping its aspect ratio. The QImage it paints
holds exactly the pixels it was given (``shown_pixels`` reads them back, which the tests compare)."""

from __future__ import annotations

from typing import Optional

import numpy as np
from PySide6.QtCore import QRect, QSize, Qt
from PySide6.QtGui import QImage, QPainter, QPalette
from PySide6.QtWidgets import QSizePolicy, QWidget


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
        self._qimage: Optional[QImage] = None
        self._placeholder = "No window selected"
        self.setMinimumSize(160, 160)
        self.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Expanding)

    def set_image(self, image: Optional[np.ndarray], placeholder: str = "") -> None:
        self._qimage = None if image is None else qimage_from_rgb(image)
        if placeholder:
            self._placeholder = placeholder
        self.update()

    def shown_pixels(self) -> Optional[np.ndarray]:
        return None if self._qimage is None else rgb_from_qimage(self._qimage)

    def sizeHint(self) -> QSize:  # noqa: N802
        return QSize(260, 260)

    def paintEvent(self, _event) -> None:  # noqa: N802
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
