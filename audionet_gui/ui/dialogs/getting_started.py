"""Help > Getting started: the three steps of a first run, with the buttons that take them."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QPushButton, QVBoxLayout, QWidget

GETTING_STARTED = (
    "<h3>Getting started</h3>"
    "<p>AudioNet Studio learns to tell voices (or sounds) apart from examples, in three steps:</p>"
    "<ol>"
    "<li><b>Add classes</b> (Data page): one folder of recordings per speaker or sound. <i>Add class "
    "folder…</i> takes several folders at once, or a folder of speaker folders (one class each). Ten or more "
    "short clips, or 20 s or more of speech, per class work well.</li>"
    "<li><b>Train</b> (Train page): press Train. The audio is cut into windows, each becomes a spectrogram "
    "image, and a network learns them; the curves show it learning. Results says how well it does on recordings "
    "it never heard.</li>"
    "<li><b>Try it</b>: Identify names who speaks in a file (and when, in a conversation); Live listens to the "
    "microphone.</li>"
    "</ol>"
    "<p>The bundled demo has six speakers ready: open it, press Train (10 to 15 minutes on two cores), then "
    "<i>Try the demo conversation</i> on the Identify page. Inspect shows what the network sees of any clip.</p>"
)


class GettingStartedDialog(QDialog):
    action = Signal(str)  # "open_demo" or "page:Data"

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Getting started")
        self.text = QLabel(GETTING_STARTED)
        self.text.setWordWrap(True)
        self.text.setMinimumWidth(520)
        buttons = QDialogButtonBox(QDialogButtonBox.Close)
        self.demo_button = QPushButton("Open the demo")
        self.data_button = QPushButton("Add my own classes")
        buttons.addButton(self.demo_button, QDialogButtonBox.ActionRole)
        buttons.addButton(self.data_button, QDialogButtonBox.ActionRole)
        self.demo_button.clicked.connect(lambda: self._take("open_demo"))
        self.data_button.clicked.connect(lambda: self._take("page:Data"))
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.text)
        layout.addWidget(buttons)

    def _take(self, action: str) -> None:
        self.accept()
        self.action.emit(action)
