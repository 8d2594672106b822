"""What the app says when a network's pretrained weights cannot be had (offline, no file): in plain words,
with the ways out as buttons."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

NO_WEIGHTS_BACKBONE = "small_cnn"


def offline_message(backbone: str) -> str:
    return (f"The network <b>{backbone}</b> starts from knowledge it learned on millions of photos "
            "(\"ImageNet weights\"). That file is downloaded from the internet the first time, and this "
            "computer could not download it (it looks offline, or the download server cannot be reached).<br><br>"
            "You can:<ul>"
            "<li><b>Choose a weights file</b> you already have for this network (for example copied from a "
            "computer that is online: Keras keeps them in <code>~/.keras/models</code>). The app remembers it.</li>"
            f"<li><b>Use {NO_WEIGHTS_BACKBONE}</b>, a smaller network that learns from scratch and needs no "
            "download. It is quick and works well with a clean recording set.</li></ul>")


def ask_weights_choice(parent: QWidget | None, backbone: str, details: str = "") -> tuple[str, str | None]:
    """Ask what to do. Returns ("file", path), ("small_cnn", None) or ("cancel", None)."""
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Warning)
    box.setWindowTitle("Pretrained weights not available")
    box.setTextFormat(Qt.RichText)
    box.setText(offline_message(backbone))
    if details:
        box.setDetailedText(details)
    choose = box.addButton("Choose weights file…", QMessageBox.AcceptRole)
    switch = box.addButton(f"Use {NO_WEIGHTS_BACKBONE}", QMessageBox.AcceptRole)
    box.addButton(QMessageBox.Cancel)
    box.setDefaultButton(switch)
    box.exec()
    clicked = box.clickedButton()
    if clicked is choose:
        path, _ = QFileDialog.getOpenFileName(parent, f"Weights file for {backbone}", "",
                                              "Keras weights (*.h5 *.weights.h5);;All files (*)")
        return ("file", path) if path else ("cancel", None)
    if clicked is switch:
        return (NO_WEIGHTS_BACKBONE, None)
    return ("cancel", None)
