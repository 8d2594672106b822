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

from audionet_gui.core.audio.enrol_check import check_files
from audionet_gui.core.base.fsutil import NOT_EMPTY, atomic_write_text, replace_refusal
from audionet_gui.core.data.project import copy_model_folder
from audionet_gui.core.live.recorder import record_into_class
from audionet_gui.core.model.bundle import VERSION_FILE
from audionet_gui.core.model.enroll import enroll_speaker, name_voice
from audionet_gui.core.model.timeline import identify_with_turns
from audionet_gui.core.timeline_formats import render
from audionet_gui.qt.job_runner import JobFailure, JobRunner, JobSlot
from audionet_gui.ui.dialogs.add_speaker import AddSpeakerDialog
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
        self.turns = None  # the speaker turns of the last identified file (a core FileTimeline)
        self.identify_jobs.finished.connect(self._keep_turns)
        self.enroll_jobs = JobSlot(view, name="Enrolling", process=True)
        self.enroll_jobs.finished.connect(self._on_enrolled)
        self.enroll_jobs.failed.connect(self._on_enroll_failed)
        self.speaker_dialog: AddSpeakerDialog | None = None
        self.check_jobs = JobSlot(view, name="Checking the recordings", process=True)
        self.check_jobs.finished.connect(self._on_checked)
        self.check_jobs.failed.connect(self._on_speaker_job_failed)
        self.record_jobs = JobSlot(view, name="Recording", process=True)
        self.record_jobs.finished.connect(self._on_recorded)
        self.record_jobs.failed.connect(self._on_speaker_job_failed)
        lanes = self.view.identify_panel.lanes
        lanes.export_requested.connect(self.export_turns)
        lanes.name_voice_requested.connect(self.name_voice)

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
        replace = False
        refusal = replace_refusal(target, marker=VERSION_FILE)  # core decides; the user may overrule one answer
        if refusal == NOT_EMPTY:
            answer = QMessageBox.question(
                self.view, "Replace the folder?",
                f"{target} already exists and is not a model folder.\n\nReplace it with the model? Everything in "
                "it will be deleted.", QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
                QMessageBox.StandardButton.Cancel)
            if answer != QMessageBox.StandardButton.Yes:
                return
            replace = True
        elif refusal is not None:
            QMessageBox.warning(self.view, "Save model", f"The model cannot be saved as {target}: it {refusal}.")
            return
        self.jobs.run(copy_model_folder, src, target, replace=replace, title="Saving the model",
                      doing="Saving the model",
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
        self.side_job = self.identify_jobs.start(identify_with_turns, self.state.project.model_path, path, top_k=5)

    def _on_identify_failed(self, f: JobFailure) -> None:
        self.view.identify_panel.show_error(self._identifying, f.message)
        self.view.log.add("error", f.message, getattr(f.exception, "path", None))

    def _keep_turns(self, prediction: Any) -> None:
        self.turns = (getattr(prediction, "extra", None) or {}).get("turns")

    # -- speaker turns: export, name a voice ------------------------------------------------------------------
    def export_turns(self, fmt: str, path: str) -> None:
        if self.turns is None:
            return
        try:
            atomic_write_text(path, render(self.turns.to_dict(), fmt))
        except OSError as exc:
            QMessageBox.warning(self.view, "Export", f"{path}: cannot be written ({exc.strerror or exc})")
            return
        self.view.statusBar().showMessage(f"Turns saved to {path}", 8000)

    def name_voice(self, label: str, name: str) -> None:
        """Enrol the turns of ``label`` as ``name`` into the project's model (in a child process), then identify
        the file again with the new model."""
        if self.turns is None or not self.state.project.model_path:
            return
        self.view.statusBar().showMessage(f"Learning {name}'s voice from {label}…")
        self.enroll_jobs.start(name_voice, self.state.project.model_path, self.turns.file, self.turns.segments,
                               label, name)

    # -- add a speaker ------------------------------------------------------------------------------------------
    def add_speaker(self) -> None:
        """The "Add a speaker" dialog: record or pick audio, see the enrolment check, enrol into the model."""
        model_path = self.state.project.model_path
        if not model_path or self.state.model is None:
            QMessageBox.information(self.view, "Add a speaker", "Train a model or open one first.")
            return
        dialog = AddSpeakerDialog(self.view)
        dialog.check_requested.connect(lambda paths: self.check_jobs.start(check_files, paths))
        dialog.record_requested.connect(self._record_speaker)
        dialog.enroll_requested.connect(
            lambda name, paths: self.enroll_jobs.start(enroll_speaker, model_path, name, paths, model_path))
        dialog.finished.connect(self._speaker_dialog_closed)
        self.speaker_dialog = dialog
        dialog.open()

    def _record_speaker(self, name: str, seconds: float) -> None:
        folder = Path(self.state.project.model_path).parent / "recordings" / (
            "".join(c if c.isalnum() or c in "-_" else "_" for c in name) or "new speaker")
        self.speaker_dialog.show_busy(f"Recording {seconds:.0f} s: speak now…")
        self.record_jobs.start(record_into_class, folder, seconds)

    def _on_checked(self, check: dict) -> None:
        if self.speaker_dialog is not None:
            self.speaker_dialog.show_check(check)

    def _on_recorded(self, path: Any) -> None:
        if self.speaker_dialog is not None:
            self.speaker_dialog.add_paths([str(path)])

    def _on_speaker_job_failed(self, f: JobFailure) -> None:
        if self.speaker_dialog is not None:
            self.speaker_dialog.show_error(f.message)

    def _speaker_dialog_closed(self, _result: int) -> None:
        self.check_jobs.cancel()
        self.record_jobs.cancel()
        self.speaker_dialog = None

    def _on_enrolled(self, report: Any) -> None:
        self.view.statusBar().showMessage(f"The model now knows {report.name} ({report.windows['train']} training "
                                          f"windows, {report.seconds:.0f} s)", 10000)
        self.view.log.add("info", f"enrolled {report.name} into {report.bundle_path}", None)
        if self.speaker_dialog is not None:
            self.speaker_dialog.accept()
        try:
            model = ModelInfo.read(str(report.bundle_path))
        except Exception as exc:
            show_fatal(self.view, "Opening the model", exc)
            return
        self.state.set_model(model, reload=True)  # same folder, new model: the loaded bundle is stale
        if self.turns is not None:
            self.identify_file(self.turns.file)

    def _on_enroll_failed(self, f: JobFailure) -> None:
        if self.speaker_dialog is not None:
            self.speaker_dialog.show_error(f.message)
        else:
            QMessageBox.warning(self.view, "Enrolling", f.message)
        self.view.log.add("error", f.message, getattr(f.exception, "path", None))

    def cancel(self) -> None:
        for slot in (self.identify_jobs, self.enroll_jobs, self.check_jobs, self.record_jobs):
            slot.cancel()

    def shutdown(self, timeout_ms: int = 30000) -> None:
        for slot in (self.identify_jobs, self.enroll_jobs, self.check_jobs, self.record_jobs):
            slot.shutdown(timeout_ms / 1000.0)
