"""Fatal job errors in words a user understands, each with what to do next."""

from __future__ import annotations

from PySide6.QtWidgets import QMessageBox, QWidget

from audionet_gui.core.base.errors import AudioFileError, BundleError, DatasetError, WeightsUnavailableError
from audionet_gui.core.base.job_process import WorkerProcessError
from audionet_gui.core.data.project import ProjectError


def explain(exc: BaseException, doing: str) -> tuple[str, str]:
    """(what happened, what to do) for an exception that stopped ``doing`` (e.g. "Training")."""
    msg = str(exc) or type(exc).__name__
    if isinstance(exc, WeightsUnavailableError):
        return (f"{doing} needs pretrained weights that could not be had: {msg}",
                "Choose a weights file for this network, or pick the small_cnn backbone on the Train page.")
    if isinstance(exc, DatasetError):
        return (f"{doing} stopped because of the data: {msg}",
                "On the Data page, make sure there are at least two classes and that each has readable audio.")
    if isinstance(exc, AudioFileError):
        return (f"{doing} stopped at a file: {exc.path}: {exc.reason}",
                "Remove or replace that file, then try again.")
    if isinstance(exc, BundleError):
        return (f"The model could not be used: {msg}",
                "Choose a model folder made by AudioNet Studio (it holds model.keras, labels.json and "
                "config.json), or train a new model.")
    if isinstance(exc, ProjectError):
        return (msg, "Choose another project file, or start a new project.")
    if isinstance(exc, WorkerProcessError):
        return (f"{doing} stopped: {msg}.",
                "The window is fine: try again. If it happens again, the computer may be short of memory: close "
                "other programs or choose a smaller network (mobilenet_v2, small_cnn).")
    if isinstance(exc, MemoryError):
        return (f"{doing} ran out of memory.",
                "Close other programs, or choose a smaller network (mobilenet_v2, small_cnn) or shorter windows.")
    if isinstance(exc, PermissionError):
        return (f"{doing} was not allowed to read or write a file: {msg}",
                "Check the folder's permissions, or save to a folder you own.")
    if isinstance(exc, OSError):
        return (f"{doing} could not read or write files: {msg}",
                "Check that there is free disk space and that the folders still exist.")
    if isinstance(exc, ValueError):
        return (f"{doing} cannot run with these settings: {msg}", "Change the settings on the Train page.")
    return (f"{doing} failed unexpectedly: {msg}",
            "The details are in the log (View > Log). If it happens again, report them with the steps that led here.")


def show_fatal(parent: QWidget | None, doing: str, exc: BaseException, details: str = "") -> QMessageBox:
    what, todo = explain(exc, doing)
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Critical)
    box.setWindowTitle(f"{doing} stopped")
    box.setText(what)
    box.setInformativeText(f"What to do: {todo}")
    if details:
        box.setDetailedText(details)
    box.setStandardButtons(QMessageBox.Ok)
    box.open()  # window-modal, does not block the caller (tests and the job bar go on)
    return box
