"""A saliency map (core/model/explain.py) drawn over a spectrogram view: red where the model looked, clear
where it did not. The map's rows are placed at their frequencies on the view's own frequency rows, its columns at
their times, so it lines up whatever settings the view draws with."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF

from audionet_gui.core.inspect.inspection import row_of_freq
from audionet_gui.ui.theme import plot_colors

OPACITY = 0.6


def saliency_rgba(values: np.ndarray) -> np.ndarray:
    """(rows, cols) in [0, 1] -> (rows, cols, 4) uint8 red with the value as opacity."""
    v = np.clip(np.asarray(values, np.float32), 0, 1)
    rgba = np.zeros(v.shape + (4,), np.uint8)
    rgba[..., 0], rgba[..., 1], rgba[..., 2] = 255, 40, 20
    rgba[..., 3] = (v * OPACITY * 255).astype(np.uint8)
    return rgba


class SaliencyOverlay(pg.ImageItem):
    def __init__(self):
        super().__init__(axisOrder="row-major")
        self.setZValue(5)  # over the spectrogram, under the window region and the crosshair
        self.explanation = None

    def show_explanation(self, explanation, view_freqs_hz: np.ndarray) -> None:
        """Draw ``explanation`` (times in seconds, rows low frequency first) on a view whose rows have
        ``view_freqs_hz``."""
        self.explanation = explanation
        values = np.asarray(explanation.values)
        freqs = np.asarray(explanation.freqs_hz, np.float64)
        rows = [row_of_freq(view_freqs_hz, f) for f in freqs]
        step = (rows[-1] - rows[0]) / max(len(rows) - 1, 1) if len(rows) > 1 else 1.0
        bottom, top = rows[0] - step / 2, rows[-1] + step / 2
        self.setImage(saliency_rgba(values), autoLevels=False)
        self.setRect(QRectF(float(explanation.start), bottom, float(explanation.end - explanation.start),
                            top - bottom))
        self.show()

    def clear_explanation(self) -> None:
        self.explanation = None
        self.clear()
        self.hide()


class SaliencyWindowView(pg.PlotWidget):
    """One explained window on its own: the image the network saw, with the same overlay over it (the Identify
    page, which has no spectrogram of the file). The view's rows are the map's rows: both spread evenly over the
    image's frequency bins, so row i of the map covers the image's i-th band whatever its frequency scale."""

    def __init__(self, parent=None):
        background, _ = plot_colors()
        super().__init__(parent, background=background)
        self.setMenuEnabled(False)
        self.setMouseEnabled(x=False, y=False)
        self.setLabel("bottom", "time", units="s")
        self.image = pg.ImageItem(axisOrder="row-major")
        self.addItem(self.image)
        self.overlay = SaliencyOverlay()
        self.addItem(self.overlay)
        self.overlay.hide()

    def show_explanation(self, explanation) -> None:
        rows = len(explanation.freqs_hz)
        width = float(explanation.end - explanation.start)
        self.image.setImage(np.ascontiguousarray(np.asarray(explanation.image)[::-1]), autoLevels=False,
                            levels=(0, 255))  # image rows run high to low frequency; the view's y rises
        self.image.setRect(QRectF(float(explanation.start), 0.0, width, float(rows)))
        self.overlay.show_explanation(explanation, np.asarray(explanation.freqs_hz, np.float64))
        step = max(rows // 4, 1)
        self.getAxis("left").setTicks([[(i + 0.5, f"{explanation.freqs_hz[i]:.0f} Hz")
                                        for i in range(0, rows, step)]])
        self.setXRange(float(explanation.start), float(explanation.end), padding=0)
        self.setYRange(0, rows, padding=0)

    def clear_explanation(self) -> None:
        self.image.clear()
        self.overlay.clear_explanation()
