"""Models: open a saved model, copy it elsewhere, identify files with the project's model.

A plain object the window owns. The model and its loaded bundle belong to ``AppState`` (one loader there, shared
with the Live page); prediction runs as a core function in a ``JobRunner`` of its own (``side_job``), so
identifying does not wait for a data or training job.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtWidgets import QFileDialog, QMessageBox

from audionet_gui.core.data.project import copy_model_folder
from audionet_gui.core.model.predict import predict_file
from audionet_gui.qt.job_runner import JobFailure, JobRunner
from audionet_gui.ui.dialogs.error_dialogs import show_fatal
from audionet_gui.ui.settings_store import SettingsStore
from audionet_gui.ui.state import AppState, ModelInfo
from audionet_gui.ui.window.job_controller import JobController


class ModelController:
    def __init__(self, view: Any, state: AppState, store: SettingsStore, jobs: JobController):
        self.view, self.state, self.store, self.jobs = view, state, store, jobs
        self.side_job: JobRunner | None = None
        self._waiting: str | None = None  # a file to identify once the model is loaded
        state.bundle_changed.connect(self._on_bundle)
        state.bundle_failed.connect(self._on_bundle_failed)
        state.project_changed.connect(lambda _p: setattr(self, "_waiting", None))

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
        path = QFileDialog.getExistingDirectory(self.view, "Open a model folder", self.store.last_dir)
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
        if self._waiting is not None or (self.side_job is not None and self.side_job.outcome is None
                                         and self.side_job.is_running()):
            self.view.statusBar().showMessage("Still identifying the previous file…", 4000)
            return
        self.view.identify_panel.set_busy(path)
        self.view.go_to("Identify")
        bundle = self.state.request_bundle()
        if bundle is None:
            self._waiting = path  # the state is loading it: bundle_changed or bundle_failed follows
        else:
            self._predict(bundle, path)

    def _on_bundle(self, bundle) -> None:
        path, self._waiting = self._waiting, None
        if bundle is not None and path is not None:
            self._predict(bundle, path)

    def _on_bundle_failed(self, message: str) -> None:
        path, self._waiting = self._waiting, None
        if path is not None:
            self.view.identify_panel.show_error(path, message)
            self.view.log.add("error", message)

    def _predict(self, bundle, path: str) -> None:
        runner = JobRunner(predict_file, bundle, path, top_k=5, parent=self.view, name="Identifying")
        runner.finished.connect(self.view.identify_panel.show_prediction)

        def failed(f: JobFailure) -> None:
            self.view.identify_panel.show_error(path, f.message)
            self.view.log.add("error", f.message, getattr(f.exception, "path", None))

        runner.failed.connect(failed)
        self.side_job = runner
        runner.start()

    def cancel(self) -> None:
        self._waiting = None
        if self.side_job is not None and self.side_job.is_running():
            self.side_job.cancel()

    def shutdown(self, timeout_ms: int = 30000) -> None:
        self.cancel()
        if self.side_job is not None and self.side_job.is_running():
            self.side_job.wait(timeout_ms)
