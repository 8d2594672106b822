"""The waveform above the spectrogram, sharing one time axis (zoom/pan either, both follow; their plot areas
are kept exactly aligned), with the selected window and the playhead drawn on both. Until a clip is shown a
placeholder says what to do."""

from __future__ import annotations

from PySide6.QtCore import QPoint, Qt, QTimer, Signal
from PySide6.QtWidgets import QLabel, QPushButton, QSplitter, QStackedWidget, QVBoxLayout, QWidget

from audionet_gui.ui.theme import muted_text_style
from audionet_gui.ui.widgets.spectrogram_view import SpectrogramView
from audionet_gui.ui.widgets.waveform_view import WaveformView


class LinkedViews(QStackedWidget):
    clicked = Signal(float)  # time (s) clicked on either view
    open_requested = Signal()  # the placeholder's Open button

    PLACEHOLDER = ("Open an audio file, double-click a clip on the Data page, or drop a file here, to see its "
                   "waveform, its spectrogram and the images the network sees.")

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
        self.placeholder_text = QLabel(self.PLACEHOLDER, wordWrap=True, alignment=Qt.AlignCenter,
                                       styleSheet=muted_text_style())
        self.open_button = QPushButton("Open audio…")
        self.open_button.setToolTip("Choose an audio file to inspect (File > Open Audio…)")
        self.open_button.clicked.connect(self.open_requested)
        self.placeholder = QWidget()  # the page shown without a clip: what to do, and the button for it
        e_layout = QVBoxLayout(self.placeholder)
        e_layout.addStretch(1)
        e_layout.addWidget(self.placeholder_text)
        e_layout.addWidget(self.open_button, 0, Qt.AlignHCenter)
        e_layout.addStretch(1)
        self.addWidget(self.placeholder)
        self.addWidget(splitter)
        # the hover readout floats next to the cursor, above both views
        self.readout = QLabel(self)
        self.readout.setStyleSheet("QLabel { background: palette(tool-tip-base); color: palette(tool-tip-text); "
                                   "border: 1px solid palette(mid); padding: 2px 5px; }")
        self.readout.hide()

    def show_views(self) -> None:
        self.setCurrentIndex(1)

    def show_placeholder(self, text: str | None = None) -> None:
        """No clip (or it could not be loaded: ``text`` says why): no axes of an earlier clip stay."""
        self.clear_data()
        self.hide_readout()
        self.placeholder_text.setText(text or self.PLACEHOLDER)
        self.setCurrentIndex(0)

    def show_readout(self, text: str, view) -> None:
        """``text`` beside the cursor over ``view`` (kept inside this widget)."""
        self.readout.setText(text)
        self.readout.adjustSize()
        cursor = view.mapTo(self, getattr(view, "last_pos", QPoint(0, 0)))
        w, h = self.readout.width(), self.readout.height()
        below = cursor.y() + 14 + h <= self.height()
        y = cursor.y() + 14 if below else cursor.y() - 14 - h
        if cursor.x() + 16 + w <= self.width():
            x = cursor.x() + 16
        elif cursor.x() - 16 - w >= 0:  # flip to the left at the right edge
            x = cursor.x() - 16 - w
        else:  # too narrow for either side: under (or over) the cursor, inside the view
            x = min(max(0, cursor.x() - w // 2), max(0, self.width() - w))
            y = cursor.y() + 24 if below else cursor.y() - 24 - h
        self.readout.move(x, max(0, y))
        self.readout.show()
        self.readout.raise_()

    def hide_readout(self) -> None:
        self.readout.hide()

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
