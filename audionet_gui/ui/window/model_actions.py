"""The main window's model requests: open and show a saved model, copy it, identify files with it.

A mixin of ``MainWindow`` beside ``MainActions``; identifying a file (loading the model and predicting) runs as
one core function in a child process, in a ``JobSlot`` of its own (``side_job`` is its newest run), so it does
not wait for a data or training job.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QMessageBox

from audionet_gui.core.data.project import copy_model_folder
from audionet_gui.core.model.bundle import load_bundle
from audionet_gui.core.model.predict import identify_file
from audionet_gui.qt.job_runner import JobFailure, JobSlot
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
        self.identify_panel.set_busy(path)
        self.go_to("Identify")
        self._identifying = path
        # loading the model and predicting run in a child process; a newer file replaces one still running
        self.side_job = self._identify_slot().start(identify_file, self.project.model_path, path, top_k=5)

    def _identify_slot(self) -> JobSlot:
        slot = getattr(self, "_identify_jobs", None)
        if slot is None:
            slot = self._identify_jobs = JobSlot(self, name="Identifying", process=True)
            slot.finished.connect(self.identify_panel.show_prediction)
            slot.failed.connect(self._on_identify_failed)
        return slot

    def _on_identify_failed(self, f: JobFailure) -> None:
        self.identify_panel.show_error(self._identifying, f.message)
        self.log.add("error", f.message, getattr(f.exception, "path", None))
