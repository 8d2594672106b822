"""An input level meter: RMS bar and peak tick in dBFS, green/amber/red zones, a clip light that stays on a moment;
it rises at once and falls at FALL_DB_PER_S like a hardware meter."""

from __future__ import annotations

import time

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QPainter
from PySide6.QtWidgets import QSizePolicy, QWidget

FLOOR_DB = -60.0
AMBER_DB = -12.0
RED_DB = -3.0
CLIP_HOLD_S = 1.5  # a clip lasts a few ms; keep the light on long enough to be seen
FALL_DB_PER_S = 24.0  # meter ballistics: rises at once, falls smoothly (readable between syllables)


class LevelMeter(QWidget):
    """Horizontal meter. ``set_level(reading)`` takes a core ``LevelReading`` (rms_db, peak_db, clipped)."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.rms_db = FLOOR_DB
        self.peak_db = FLOOR_DB
        self.clipped_at: float | None = None
        self._last_t: float | None = None  # stream time of the previous reading
        self.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Fixed)
        self.setToolTip("Input level (dBFS): bar = RMS, tick = peak; CLIP lights when a sample reaches full scale")

    def sizeHint(self) -> QSize:
        return QSize(320, 22)

    def set_level(self, reading) -> None:
        t = float(reading.t)
        fall = FALL_DB_PER_S * max(0.0, t - self._last_t) if self._last_t is not None else float("inf")
        self._last_t = t
        self.rms_db = max(FLOOR_DB, float(reading.rms_db), self.rms_db - fall)
        self.peak_db = max(FLOOR_DB, float(reading.peak_db), self.peak_db - fall)
        if reading.clipped:
            self.clipped_at = time.monotonic()
        self.update()

    def reset(self) -> None:
        self.rms_db = self.peak_db = FLOOR_DB
        self.clipped_at = None
        self._last_t = None
        self.update()

    @property
    def clipping(self) -> bool:
        return self.clipped_at is not None and time.monotonic() - self.clipped_at < CLIP_HOLD_S

    def text(self) -> str:
        rms = "-inf" if self.rms_db <= FLOOR_DB else f"{self.rms_db:.0f}"
        return f"{rms} dBFS" + ("  CLIP" if self.clipping else "")

    @staticmethod
    def _x(db: float, width: float) -> float:
        return width * (min(0.0, max(FLOOR_DB, db)) - FLOOR_DB) / -FLOOR_DB

    def paintEvent(self, event) -> None:
        p = QPainter(self)
        clip_w, text_w = 44, 78  # the reading and the clip light beside the bar, never under the peak tick
        w, h = self.width() - clip_w - text_w - 8, self.height()
        p.fillRect(QRectF(0, 0, w, h), QColor("#2b2b2b"))
        x = self._x(self.rms_db, w)
        for lo, hi, color in ((FLOOR_DB, AMBER_DB, "#34a853"), (AMBER_DB, RED_DB, "#f9ab00"), (RED_DB, 0.0, "#ea4335")):
            x0, x1 = self._x(lo, w), min(self._x(hi, w), x)
            if x1 > x0:
                p.fillRect(QRectF(x0, 3, x1 - x0, h - 6), QColor(color))
        px = self._x(self.peak_db, w)
        p.fillRect(QRectF(max(0.0, min(w - 3.0, px - 1.5)), 1, 3, h - 2), QColor("#ffffff"))
        p.setPen(self.palette().windowText().color())
        p.drawText(QRectF(w + 4, 0, text_w, h), Qt.AlignVCenter | Qt.AlignRight, self.text().replace("  CLIP", ""))
        clip_rect = QRectF(w + text_w + 8, 0, clip_w, h)
        p.fillRect(clip_rect, QColor("#d93025" if self.clipping else "#3c3c3c"))
        p.setPen(QColor("#ffffff" if self.clipping else "#888888"))
        p.drawText(clip_rect, Qt.AlignCenter, "CLIP")
        p.end()
