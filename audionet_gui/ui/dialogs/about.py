"""The About box: what this is, the versions it runs on, and the licences of what it ships and uses."""

from __future__ import annotations

import platform
from importlib import metadata

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QTextBrowser, QVBoxLayout, QWidget

from audionet_gui import __version__

# (distribution, licence) of what the app is built on; versions are read from the installed packages.
COMPONENTS = [
    ("PySide6-Essentials", "LGPL-3.0 (Qt for Python)"),
    ("pyqtgraph", "MIT"),
    ("numpy", "BSD-3-Clause"),
    ("tensorflow-cpu", "Apache-2.0"),
    ("keras", "Apache-2.0"),
    ("librosa", "ISC"),
    ("soundfile", "BSD-3-Clause (libsndfile: LGPL-2.1)"),
    ("sounddevice", "MIT (PortAudio: MIT)"),
    ("pydub", "MIT (uses ffmpeg: LGPL/GPL)"),
    ("pillow", "MIT-CMU (HPND)"),
]


def component_versions() -> list[tuple[str, str, str]]:
    out = []
    for dist, licence in COMPONENTS:
        try:
            version = metadata.version(dist)
        except metadata.PackageNotFoundError:
            version = "not installed"
        out.append((dist, version, licence))
    return out


def about_html() -> str:
    rows = "".join(f"<tr><td>{d}</td><td>{v}</td><td>{lic}</td></tr>" for d, v, lic in component_versions())
    return f"""
<h2>AudioNet Studio {__version__}</h2>
<p>Teach a computer to recognise voices and sounds: audio becomes spectrogram images, and an image network
(Inception v3 by default) is retrained on them.</p>
<p>Python {platform.python_version()} on {platform.system()} {platform.machine()}.</p>
<h3>Built on</h3>
<table cellspacing="4"><tr><th align="left">Component</th><th align="left">Version</th>
<th align="left">Licence</th></tr>{rows}</table>
<h3>Demo audio</h3>
<p>The demo project's clips come from the Free Spoken Digit Dataset (FSDD) by Zohar Jackson and contributors,
licensed under Creative Commons Attribution-ShareAlike 4.0 (CC BY-SA 4.0). See
<code>resources/demo/CREDITS.md</code>.</p>
<h3>Background noise and speech detector</h3>
<p>Training copies are mixed with the background noise recordings of Speech Commands (Pete Warden, Google,
2018), licensed under Creative Commons Attribution 4.0 (CC BY 4.0); see <code>resources/noise/CREDITS.md</code>.
Speech is detected with the weights of Silero VAD (Silero Team), MIT licence; see
<code>resources/vad/CREDITS.md</code>.</p>
<h3>Pretrained weights</h3>
<p>ImageNet weights, when you use them, are downloaded by Keras from its own servers under their licences;
AudioNet Studio does not ship them.</p>
"""


class AboutDialog(QDialog):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("About AudioNet Studio")
        self.resize(620, 560)
        text = QTextBrowser()
        text.setOpenExternalLinks(True)
        text.setHtml(about_html())
        buttons = QDialogButtonBox(QDialogButtonBox.Close)
        buttons.rejected.connect(self.reject)
        buttons.accepted.connect(self.accept)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(""))
        layout.addWidget(text)
        layout.addWidget(buttons)
        self.text = text
