"""The main window's model requests: open and show a saved model, copy it, identify files with it.

A mixin of ``MainWindow`` beside ``MainActions``; loading and prediction run as core functions in a
``JobRunner`` (``side_job``, so identifying does not wait for a data or training job).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QMessageBox

from audionet_gui.core.data.project import copy_model_folder
from audionet_gui.core.model.bundle import load_bundle
from audionet_gui.core.model.predict import predict_file
from audionet_gui.qt.job_runner import JobFailure, JobRunner
from audionet_gui.ui.dialogs.error_dialogs import show_fatal


class ModelActions:
    # -- models ---------------------------------------------------------------------------------------------------
    def show_model_on_disk(self, path: str) -> bool:
        try:
            info = load_bundle(path, load_model=False)  # JSON files only: quick, no TensorFlow
        except Exception as exc:
            show_fatal(self, "Opening the model", exc)
            return False
        self.show_model_metrics(path, info.metrics, info.labels)
        return True

    def show_model_metrics(self, path: str, metrics: dict, labels: list[str]) -> None:
        self.metrics = metrics
        backbone = (metrics.get("backbone") or {}).get("name", "")
        info = f"Model: {path} · {len(labels)} classes · backbone {backbone}"
        self.results_panel.show_metrics(metrics, path, info)
        history = metrics.get("history")
        if history:
            self.train_panel.curves.set_history(history)
        self.identify_panel.set_model(f"Model: {Path(path).name} ({', '.join(labels)})", labels)
        threshold = metrics.get("unknown_threshold")
        self.live_panel.set_model(path, labels, float(threshold) if threshold is not None else None)

    def ask_open_model(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Open a model folder", self._last_dir())
        if path and self.show_model_on_disk(path):
            self.project.model_path = path
            self.bundle = None
            self._dirty = True
            self.show_project()
            self.go_to("Results")

    def ask_save_model(self) -> None:
        src = self.project.model_path
        if not src:
            return
        dst = QFileDialog.getExistingDirectory(self, "Choose a folder to save the model in", self._last_dir())
        if not dst:
            return
        target = Path(dst) / Path(src).name
        self.run_job(copy_model_folder, src, target, title="Saving the model", doing="Saving the model",
                     on_finished=lambda out: self.statusBar().showMessage(f"Model saved to {out}", 8000))

    def identify_file(self, path: str) -> None:
        if not self.project.model_path:
            QMessageBox.information(self, "Identify", "Train a model or open one first.")
            return
        if self.side_job is not None and self.side_job.outcome is None and self.side_job.is_running():
            self.statusBar().showMessage("Still identifying the previous file…", 4000)
            return
        self.identify_panel.set_busy(path)
        self.go_to("Identify")
        if self.bundle is None or str(self.bundle.path) != str(self.project.model_path):

            self._run_side(load_bundle, self.project.model_path, then=lambda b: self._loaded_then_predict(b, path),
                           path=path)
        else:
            self._predict(path)

    def _loaded_then_predict(self, bundle, path: str) -> None:
        self.bundle = bundle
        self.live_panel.set_bundle(bundle)
        self._predict(path)

    def _predict(self, path: str) -> None:
        self._run_side(predict_file, self.bundle, path, top_k=5, then=self.identify_panel.show_prediction, path=path)

    def _run_side(self, fn: Callable, *args, then: Callable, path: str, **kwargs) -> None:
        runner = JobRunner(fn, *args, parent=self, **kwargs)
        runner.finished.connect(then)

        def failed(f: JobFailure) -> None:
            self.identify_panel.show_error(path, f.message)
            self.log.add("error", f.message, getattr(f.exception, "path", None))

        runner.failed.connect(failed)
        self.side_job = runner
        runner.start()
