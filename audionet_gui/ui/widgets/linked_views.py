"""The waveform above the spectrogram, sharing one time axis (zoom/pan either, both follow; their plot areas
are kept exactly aligned), with the selected window and the playhead drawn on both. Until a clip is shown a
placeholder says what to do."""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QLabel, QSplitter, QStackedWidget

from audionet_gui.ui.theme import muted_text_style
from audionet_gui.ui.widgets.spectrogram_view import SpectrogramView
from audionet_gui.ui.widgets.waveform_view import WaveformView


class LinkedViews(QStackedWidget):
    clicked = Signal(float)  # time (s) clicked on either view

    def __init__(self, parent=None):
        super().__init__(parent)
        self.waveform = WaveformView()
        self.spectrogram = SpectrogramView()
        self.waveform.setXLink(self.spectrogram.plot)
        self.spectrogram.plot.getAxis("left").setWidth(62)
        self._align_timer = QTimer(self, singleShot=True, interval=0)
        self._align_timer.timeout.connect(self._align_time_axes)
        self.spectrogram.plot.vb.sigResized.connect(self._align_timer.start)
        self.waveform.plot.vb.sigResized.connect(self._align_timer.start)
        self.waveform.clicked.connect(self.clicked)
        self.spectrogram.clicked.connect(self.clicked)

        splitter = QSplitter(Qt.Vertical)
        splitter.addWidget(self.waveform)
        splitter.addWidget(self.spectrogram)
        splitter.setStretchFactor(0, 1)
        splitter.setStretchFactor(1, 3)
        splitter.setSizes([150, 450])
        self.placeholder = QLabel("Click a clip on the Data page, or drop an audio file here, to see its waveform, "
                                  "its spectrogram and the images the network sees.", wordWrap=True,
                                  alignment=Qt.AlignCenter, styleSheet=muted_text_style())
        self.addWidget(self.placeholder)
        self.addWidget(splitter)

    def show_views(self) -> None:
        self.setCurrentIndex(1)

    def clear_data(self) -> None:
        self.waveform.clear_data()
        self.spectrogram.clear_data()

    def set_window(self, start_s: float | None, end_s: float | None) -> None:
        self.waveform.set_window(start_s, end_s)
        self.spectrogram.set_window(start_s, end_s)

    def set_playhead(self, time_s: float | None) -> None:
        self.waveform.set_playhead(time_s)
        self.spectrogram.set_playhead(time_s)

    def _align_time_axes(self) -> None:
        # the spectrogram's colour bar makes its plot narrower: pad the waveform to match
        area = self.spectrogram.plot.vb.sceneBoundingRect()
        self.waveform.match_plot_area(area.left(), area.right())
