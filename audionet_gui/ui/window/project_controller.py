"""Projects: new, open, the demo, save (moving the project's own model with Save As), the user's edits, and the
jobs on a project's data (checking the files, making images, training).

A plain object the window owns. It changes the project through ``AppState`` (the pages follow its signals) and
runs core functions through ``JobController``; it knows the window only as the view it shows dialogs on.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from PySide6.QtWidgets import QFileDialog, QMessageBox

from audionet_gui.core.base.errors import WeightsUnavailableError
from audionet_gui.core.base.words import count
from audionet_gui.core.data.dataset import class_subfolders
from audionet_gui.core.data.project import (
    PROJECT_SUFFIX,
    Project,
    ProjectError,
    add_background_class,
    convert_project,
    move_model_on_save,
    scan_project,
    train_project,
    writable_copy,
)
from audionet_gui.qt.job_runner import JobFailure
from audionet_gui.qt.passes import in_separate_passes
from audionet_gui.resources import demo_project_path
from audionet_gui.ui.dialogs.error_dialogs import show_fatal
from audionet_gui.ui.dialogs.folder_dialog import ask_folders, start_dir
from audionet_gui.ui.dialogs.weights_dialog import ask_weights_choice
from audionet_gui.ui.pages.identify_panel import AUDIO_FILTER
from audionet_gui.ui.settings_store import SettingsStore, apply_remembered_weights
from audionet_gui.ui.state import AppState, ModelInfo
from audionet_gui.ui.window.job_controller import JobController

TRAIN_STAGES = {"converting": "convert", "features": "features", "training": "train", "fine_tuning": "train",
                "evaluating": "evaluate", "calibrating": "evaluate", "robustness": "evaluate", "saving": "bundle"}
SCAN_TITLE = "Checking files"


class ProjectController:
    def __init__(self, view: Any, state: AppState, store: SettingsStore, jobs: JobController):
        self.view, self.state, self.store, self.jobs = view, state, store, jobs
        self._scan_pending = False
        jobs.on_done.append(self._after_job)
        jobs.failure_handlers["Training"] = self._training_failed

    @property
    def output_root(self) -> Path:
        return self.state.output_root

    # -- which project -----------------------------------------------------------------------------------------
    def set_project(self, project: Project, scan: bool = True) -> None:
        """Make ``project`` the open one (one state change every page follows), with its model if it has one."""
        model = None
        if project.model_path and Path(project.model_path).is_dir():
            try:
                model = ModelInfo.read(project.model_path)
            except Exception as exc:  # a damaged model folder: the project still opens
                show_fatal(self.view, "Opening the model", exc)
        self.state.set_project(project, model)
        if scan and project.classes:
            self.start_scan()

    def fresh_project(self) -> Project:
        """A new, empty project, starting from the user's remembered choices (e.g. a weights file)."""
        project = Project()
        apply_remembered_weights(project.training, self.store)
        return project

    def new_project(self) -> None:
        if self.view.confirm_discard("start a new project"):
            self.cancel_jobs()
            self.set_project(self.fresh_project())

    def ask_open_project(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self.view, "Open project", self.store.last_dir, project_file_filter())
        if path:
            self.open_project(path)

    def open_project(self, path: str) -> bool:
        if not self.view.confirm_discard("open another project"):
            return False
        try:
            project = Project.load(path)
        except ProjectError as exc:
            show_fatal(self.view, "Opening the project", exc)
            return False
        self.cancel_jobs()
        self.set_project(project)
        self.remember_recent(project.path)
        self.store.last_dir = str(Path(path).parent)
        return True

    def open_demo(self) -> bool:
        if not self.view.confirm_discard("open the demo"):
            return False
        try:
            # a copy the user may change (recordings, saves), never the bundled files themselves
            path = writable_copy(demo_project_path(), self.output_root / "demo")
            project = Project.load(path)
        except (ProjectError, OSError) as exc:
            show_fatal(self.view, "Opening the demo", exc)
            return False
        apply_remembered_weights(project.training, self.store)
        self.cancel_jobs()
        self.set_project(project)
        return True

    def cancel_jobs(self) -> None:
        self.jobs.cancel()
        self.view.models.cancel()

    # -- saving ------------------------------------------------------------------------------------------------
    def save_project(self) -> bool:
        if self.state.project.path is None:
            return self.ask_save_project_as()
        return self.save_to(self.state.project.path)

    def ask_save_project_as(self) -> bool:
        suggested = str(Path(self.store.last_dir) / f"{self.state.project.name}{PROJECT_SUFFIX}")
        path, _ = QFileDialog.getSaveFileName(self.view, "Save project", suggested, project_file_filter())
        if not path:
            return False
        if not path.endswith(PROJECT_SUFFIX):
            path += PROJECT_SUFFIX
        return self.save_to(Path(path))

    def save_to(self, path: Path) -> bool:
        """Save the project as ``path``. Its own model moves with it (copied into the new project's folder first,
        then the project points there), so a later project never trains over it."""
        project = self.state.project
        old_name, old_model = project.name, project.model_path
        try:
            if project.name in ("Untitled", "") and path.name.endswith(PROJECT_SUFFIX):
                project.name = path.name[: -len(PROJECT_SUFFIX)]
            moved = move_model_on_save(project, path, self.output_root)
            if moved is not None:
                project.model_path = str(moved)
            saved = project.save(path)
        except (OSError, ProjectError) as exc:
            project.name, project.model_path = old_name, old_model
            show_fatal(self.view, "Saving the project", exc)
            return False
        self.remember_recent(saved)
        self.store.last_dir = str(saved.parent)
        if moved is not None:
            model = self.state.model
            self.state.set_model(replace(model, path=str(moved)) if model is not None else None)
            self.view.log.add("info", f"The model now lives with the project: {moved}")
        self.state.project_edited.emit(project)
        self.state.set_dirty(False)
        self.view.statusBar().showMessage(f"Saved {saved}", 5000)
        return True

    def remember_recent(self, path: Path) -> None:
        self.store.remember_recent(path)
        self.view.refresh_recent_menu()

    # -- edits -------------------------------------------------------------------------------------------------
    def edit_project(self, change: Callable[[Project], Any], rescan: bool = True) -> None:
        """Apply a user edit; a refused edit is explained, not half-applied."""
        try:
            change(self.state.project)
        except ProjectError as exc:
            QMessageBox.warning(self.view, "Not changed", str(exc))
            return
        self.state.edited()
        if rescan:
            self.start_scan()

    def add_paths(self, paths: list[str], into: str | None = None) -> None:
        touched: list[str] = []
        self.edit_project(lambda p: touched.extend(p.add_paths(paths, into)))
        self.view.go_to("Data")
        if touched:
            self.view.data_panel.select_class(touched[-1])
            self.view.statusBar().showMessage(f"Added to: {', '.join(touched)}", 5000)

    def set_test_folder(self, path: str | None) -> None:
        self.edit_project(lambda p: setattr(p, "test_folder", path))

    def add_background_class(self) -> None:
        """The Live page asks for a class of background noise to record into (in the project's own folder
        unless the class folders' place is writable)."""
        self.edit_project(lambda p: add_background_class(p, self.output_root))

    def set_training(self, training: dict) -> None:
        self.state.project.training = training
        self.state.set_dirty(True)

    def ask_add_class_folder(self) -> None:
        paths = ask_folders(self.view, "Add class folders (Ctrl-click for several; each name becomes a class)",
                            start_dir(self.state.project, self.store.last_dir))
        if paths:
            self.store.last_dir = str(Path(paths[0]).parent)
            self.add_class_folders(paths)

    def add_class_folders(self, paths: list[str]) -> None:
        """Chosen folders become classes; a folder of speaker folders may become one class per subfolder."""
        chosen: list[str] = []
        for path in paths:
            subs = class_subfolders(path)
            if len(subs) >= 2 and self.ask_one_class_per_subfolder(path, subs):
                chosen += [str(s) for s in subs]
            else:
                chosen.append(path)
        self.add_paths(chosen)

    def ask_one_class_per_subfolder(self, path: str, subs: list[Path]) -> bool:
        names = ", ".join(s.name for s in subs[:6]) + (", …" if len(subs) > 6 else "")
        answer = QMessageBox.question(
            self.view, "Add class folder",
            f"{Path(path).name} holds {count(len(subs), 'folder')} of recordings ({names}).\n\n"
            "Make one class per subfolder (as 'audionet train' does)? No makes one class of everything in it.",
            QMessageBox.Yes | QMessageBox.No, QMessageBox.Yes)
        return answer == QMessageBox.Yes

    def ask_add_files(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(self.view, "Add audio files",
                                                start_dir(self.state.project, self.store.last_dir), AUDIO_FILTER)
        if paths:
            selected = self.view.data_panel.selected_classes()
            self.add_paths(paths, selected[0] if len(selected) == 1 else None)

    # -- jobs on the data ----------------------------------------------------------------------------------------
    def _after_job(self) -> None:
        if self._scan_pending:
            self._scan_pending = False
            self.start_scan()

    def start_scan(self) -> None:
        if self.jobs.busy():
            if self.jobs.busy_with(SCAN_TITLE):
                self.jobs.job.cancel()  # a newer scan replaces it as soon as it stops
            self._scan_pending = True
            return
        self.state.set_scan(None)
        if not self.state.project.classes:
            return
        project = self.state.project
        self.jobs.run(scan_project, copy.deepcopy(project), title=SCAN_TITLE, doing="Checking the files",
                      on_finished=lambda scan: self.on_scan_finished(scan, project), process=True)

    def on_scan_finished(self, scan, project: Project | None = None) -> None:
        if self._scan_pending or (project is not None and project is not self.state.project):
            return  # the project changed while it ran (a fresh scan follows) or is another one now
        self.state.set_scan(scan)
        log = self.view.log
        for c in scan.report.classes:
            for path, reason in c.unreadable:
                log.add("warning", f"left out of class {c.name}: {reason}", path)
        for w in scan.report.warnings:
            log.add("warning", w)

    def start_convert(self) -> None:
        self.jobs.run(convert_project, copy.deepcopy(self.state.project), title="Making images",
                      doing="Making images", on_finished=self.on_convert_finished, process=True)

    def on_convert_finished(self, summary) -> None:
        self.view.log.add_file_errors(summary.failed)
        self.view.log.add("info", f"Made {count(summary.windows, 'image')} from {count(summary.files, 'file')} "
                                  f"({summary.seconds_of_audio:.0f} s of audio) in {summary.wall_seconds:.1f} s.")
        self.view.train_panel.status.setText(f"{count(summary.windows, 'image')} ready ({count(summary.cached, 'file')}"
                                             " already done).")

    def start_training(self) -> None:
        project = self.state.project
        if len(project.classes) < 2:
            QMessageBox.information(self.view, "Train", "Add at least two classes on the Data page first "
                                                        "(one folder of recordings per speaker or sound).")
            self.view.go_to("Data")
            return
        out_dir = self.state.model_dir()  # the project's own folder: never another project's model
        train = self.view.train_panel
        train.curves.clear()
        train.reset_stages()
        train.status.setText(f"Training with {project.training.get('backbone')}; the model goes to {out_dir}")
        self.view.go_to("Train")
        self.jobs.run(train_project, copy.deepcopy(project), out_dir, title="Training", doing="Training",
                      on_finished=lambda report: self.on_training_finished(report, project),
                      on_progress=self.on_training_progress, staged=True, on_ended=self.on_training_ended,
                      process=True)

    def on_training_ended(self, outcome: str) -> None:
        """Cancelled or failed: the header says so (not the run's last progress) and what is kept."""
        train = self.view.train_panel
        epochs = len(train.curves.epochs)
        after = f" after {count(epochs, 'epoch')}" if epochs else ""
        kept = "The previous model is kept." if self.state.model is not None else "No model was saved."
        train.mark_stopped(outcome)
        train.status.setText(f"Training {outcome}{after}. {kept} Press Train to start again.")

    def on_training_progress(self, p) -> None:
        stage = TRAIN_STAGES.get(p.stage)
        train = self.view.train_panel
        if stage:
            count = f"{p.done}/{p.total}" if p.total else (str(p.done) if p.done else "running")
            train.mark_stage(stage, count)
        if p.extra and "epoch" in p.extra:
            train.curves.add_epoch(p.extra)

    def on_training_finished(self, report, project: Project | None = None) -> None:
        if project is not None and project is not self.state.project:
            # finished just as another project was opened: it stays in its own project's folder, unused here
            self.view.log.add("info", f"A model of the previous project was saved in {report.bundle_path}.")
            return
        train = self.view.train_panel
        train.mark_all_done()
        failed = ((report.metrics.get("data") or {}).get("convert") or {}).get("failed") or []
        self.view.log.add_file_errors(failed)
        for w in report.warnings:
            self.view.log.add("warning", w)
        train.status.setText(" · ".join(report.summary_lines()[2:5]))
        model = ModelInfo.from_metrics(report.bundle_path, report.metrics, report.labels)
        self.state.set_model(model, adopt=True, reload=True)  # a retrained model may be in the same folder
        # The project's edit and the Results page follow in passes of their own: in one pass with the pages that
        # follow the new model they held the GUI thread 110-120 ms at load 6 (tests/ui/window/test_responsiveness).
        in_separate_passes(self.view, [self.state.edited, lambda: self.view.go_to("Results")])

    def _training_failed(self, failure: JobFailure) -> bool:
        if isinstance(failure.exception, WeightsUnavailableError):
            self.offer_weights_choice(failure)
            return True
        return False

    def offer_weights_choice(self, failure: JobFailure) -> None:
        project = self.state.project
        backbone = str(project.training.get("backbone"))
        choice, path = ask_weights_choice(self.view, backbone, failure.message)
        if choice == "file" and path:
            self.view.remember_weights_file(backbone, path)
            project.training["weights"] = path
        elif choice == "small_cnn":
            project.training["backbone"] = "small_cnn"
        else:
            return
        self.state.edited()
        self.start_training()


def project_file_filter() -> str:
    return f"AudioNet projects (*{PROJECT_SUFFIX});;All files (*)"
