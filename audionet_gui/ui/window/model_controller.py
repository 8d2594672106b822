"""Models: open a saved model, copy it elsewhere, identify files with the project's model.

A plain object the window owns. The model belongs to ``AppState``; identifying a file (loading the model and
predicting) runs as one core function in a child process, in a ``JobSlot`` of its own (``side_job`` is its newest
run: a newer file replaces one still running), so it neither waits for a data or training job nor holds the GUI
process's interpreter lock.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtWidgets import QFileDialog, QMessageBox

from audionet_gui.core.data.project import copy_model_folder
from audionet_gui.core.model.predict import identify_file
from audionet_gui.qt.job_runner import JobFailure, JobRunner, JobSlot
from audionet_gui.ui.dialogs.error_dialogs import show_fatal
from audionet_gui.ui.dialogs.folder_dialog import start_dir
from audionet_gui.ui.settings_store import SettingsStore
from audionet_gui.ui.state import AppState, ModelInfo
from audionet_gui.ui.window.job_controller import JobController


class ModelController:
    def __init__(self, view: Any, state: AppState, store: SettingsStore, jobs: JobController):
        self.view, self.state, self.store, self.jobs = view, state, store, jobs
        self.side_job: JobRunner | None = None  # the newest identification
        self._identifying: str | None = None
        self.identify_jobs = JobSlot(view, name="Identifying", process=True)
        self.identify_jobs.finished.connect(self.view.identify_panel.show_prediction)
        self.identify_jobs.failed.connect(self._on_identify_failed)
        self.identify_jobs.progress.connect(self.view.identify_panel.show_progress)
        self.identify_jobs.cancelled.connect(lambda: self.view.identify_panel.show_cancelled(self._identifying))
        self.view.identify_panel.cancel_requested.connect(self.cancel)
        state.project_changed.connect(lambda _p: self.identify_jobs.cancel())

    def show_model_on_disk(self, path: str) -> bool:
        try:
            model = ModelInfo.read(path)
        except Exception as exc:
            show_fatal(self.view, "Opening the model", exc)
            return False
        self.state.set_model(model)
        return True

    def show_model_metrics(self, path: str, metrics: dict, labels: list[str]) -> None:
        self.state.set_model(ModelInfo.from_metrics(path, metrics, labels))

    def ask_open_model(self) -> None:
        path = QFileDialog.getExistingDirectory(self.view, "Open a model folder",
                                                start_dir(self.state.project, self.store.last_dir))
        if not path:
            return
        try:
            model = ModelInfo.read(path)
        except Exception as exc:
            show_fatal(self.view, "Opening the model", exc)
            return
        self.state.set_model(model, adopt=True)
        self.state.edited()
        self.view.go_to("Results")

    def ask_save_model(self) -> None:
        src = self.state.project.model_path
        if not src:
            return
        dst = QFileDialog.getExistingDirectory(self.view, "Choose a folder to save the model in", self.store.last_dir)
        if not dst:
            return
        target = Path(dst) / Path(src).name
        self.jobs.run(copy_model_folder, src, target, title="Saving the model", doing="Saving the model",
                      on_finished=lambda out: self.view.statusBar().showMessage(f"Model saved to {out}", 8000))

    # -- identify ------------------------------------------------------------------------------------------------
    def identify_file(self, path: str) -> None:
        if not self.state.project.model_path or self.state.model is None:
            QMessageBox.information(self.view, "Identify", "Train a model or open one first.")
            return
        self.view.identify_panel.set_busy(path)
        self.view.go_to("Identify")
        self._identifying = path
        # loading the model and predicting run in a child process; a newer file replaces one still running
        self.side_job = self.identify_jobs.start(identify_file, self.state.project.model_path, path, top_k=5)

    def _on_identify_failed(self, f: JobFailure) -> None:
        self.view.identify_panel.show_error(self._identifying, f.message)
        self.view.log.add("error", f.message, getattr(f.exception, "path", None))

    def cancel(self) -> None:
        self.identify_jobs.cancel()

    def shutdown(self, timeout_ms: int = 30000) -> None:
        self.identify_jobs.shutdown(timeout_ms / 1000.0)
