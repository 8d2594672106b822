"""The main window's menus and the requests behind them: projects, models, and starting/cancelling jobs.

A mixin of ``MainWindow`` (kept apart so each file does one job). Every long step runs as a core function in a
``JobRunner`` (scanning, converting and training in a child process); these methods only choose which one and
show what comes back.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QApplication, QFileDialog, QMessageBox

from audionet_gui.core.base.errors import WeightsUnavailableError
from audionet_gui.core.data.project import (
    PROJECT_SUFFIX,
    Project,
    ProjectError,
    convert_project,
    scan_project,
    train_project,
    writable_copy,
)
from audionet_gui.qt.job_runner import JobFailure, JobRunner
from audionet_gui.resources import demo_project_path
from audionet_gui.ui.dialogs.about import AboutDialog
from audionet_gui.ui.dialogs.error_dialogs import show_fatal
from audionet_gui.ui.dialogs.weights_dialog import ask_weights_choice
from audionet_gui.ui.pages.identify_panel import AUDIO_FILTER
from audionet_gui.ui.theme import THEMES, apply_theme

TRAIN_STAGES = {"converting": "convert", "features": "features", "training": "train", "fine_tuning": "train",
                "evaluating": "evaluate", "saving": "bundle"}


class MainActions:
    # -- menus -------------------------------------------------------------------------------------------------
    def build_menus(self) -> None:
        mb = self.menuBar()
        self.actions: dict[str, QAction] = {}

        def act(menu, key: str, text: str, slot: Callable, shortcut=None, tip: str = "") -> QAction:
            a = QAction(text, self)
            if shortcut is not None:
                a.setShortcut(QKeySequence(shortcut))
            if tip:
                a.setStatusTip(tip)
                a.setToolTip(tip)
            a.triggered.connect(lambda _checked=False: slot())
            menu.addAction(a)
            self.actions[key] = a
            return a

        f = mb.addMenu("&File")
        act(f, "new", "&New Project", self.new_project, QKeySequence.New, "Start an empty project")
        act(f, "open", "&Open Project…", self.ask_open_project, QKeySequence.Open, "Open a saved project file")
        self.recent_menu = f.addMenu("Open &Recent")
        act(f, "demo", "Open &Demo Project", self.open_demo, None, "The bundled FSDD speakers demo")
        f.addSeparator()
        act(f, "save", "&Save Project", self.save_project, QKeySequence.Save, "Save the project file")
        act(f, "save_as", "Save Project &As…", self.ask_save_project_as, QKeySequence("Ctrl+Shift+S"))
        f.addSeparator()
        act(f, "open_model", "Open &Model…", self.ask_open_model, QKeySequence("Ctrl+M"), "Open a saved model folder")
        act(f, "save_model", "Save Model &As…", self.ask_save_model, None, "Copy the trained model folder")
        f.addSeparator()
        act(f, "quit", "&Quit", self.close, QKeySequence.Quit)

        d = mb.addMenu("&Data")
        act(d, "add_folder", "Add Class &Folder…", self.ask_add_class_folder, QKeySequence("Ctrl+Shift+O"),
            "A folder of recordings becomes a class named after it")
        act(d, "add_files", "Add &Files…", self.ask_add_files, None)
        act(d, "rename", "&Rename Class…", self.data_panel._ask_rename, QKeySequence("F2"))
        act(d, "remove", "Re&move Classes", self.data_panel._ask_remove, QKeySequence.Delete)
        act(d, "rescan", "&Check Files Again", self.start_scan, QKeySequence("F5"))

        t = mb.addMenu("&Train")
        act(t, "train", "&Train", self.start_training, QKeySequence("Ctrl+T"), "Make images, train and test")
        act(t, "convert", "Make &Images Only", self.start_convert, QKeySequence("Ctrl+Shift+T"))
        act(t, "cancel", "&Cancel Job", self.cancel_job, QKeySequence("Esc"), "Stop the running job")
        act(t, "identify", "&Identify a File…", self.identify_panel._choose, QKeySequence("Ctrl+I"))

        v = mb.addMenu("&View")
        for i, name in enumerate(("Data", "Inspect", "Train", "Results", "Identify", "Live")):
            act(v, f"page_{name}", name, lambda n=name: self.go_to(n), QKeySequence(f"Ctrl+{i + 1}"))
        v.addSeparator()
        log_action = self.log_dock.toggleViewAction()
        log_action.setShortcut(QKeySequence("Ctrl+L"))
        v.addAction(log_action)
        theme_menu = v.addMenu("&Theme")
        group = QActionGroup(self)
        current = str(self.settings.value("theme", "system"))
        for name in THEMES:
            a = QAction(name.capitalize(), self, checkable=True)
            a.setChecked(name == current)
            a.triggered.connect(lambda _c=False, n=name: self.set_theme(n))
            group.addAction(a)
            theme_menu.addAction(a)

        h = mb.addMenu("&Help")
        act(h, "about", "&About AudioNet Studio", self.show_about, QKeySequence("F1"))
        act(h, "about_qt", "About &Qt", QApplication.aboutQt)
        self.refresh_recent_menu()

    def refresh_recent_menu(self) -> None:
        self.recent_menu.clear()
        recent = self.recent_projects()
        for path in recent:
            a = self.recent_menu.addAction(path)
            a.triggered.connect(lambda _c=False, p=path: self.open_project(p))
        self.recent_menu.setEnabled(bool(recent))

    def set_theme(self, name: str) -> None:
        self.settings.setValue("theme", name)
        apply_theme(QApplication.instance(), name)
        self.statusBar().showMessage("Theme changed; plots pick it up when they are next redrawn.", 5000)

    def show_about(self) -> None:
        AboutDialog(self).exec()

    # -- projects -----------------------------------------------------------------------------------------------
    def new_project(self) -> None:
        if self.confirm_discard("start a new project"):
            self.cancel_job()
            self.set_project(Project())

    def ask_open_project(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open project", self._last_dir(), project_file_filter())
        if path:
            self.open_project(path)

    def open_project(self, path: str) -> bool:
        if not self.confirm_discard("open another project"):
            return False
        try:
            project = Project.load(path)
        except ProjectError as exc:
            show_fatal(self, "Opening the project", exc)
            return False
        self.cancel_job()
        self.set_project(project)
        self.remember_recent(project.path)
        self.settings.setValue("last_dir", str(Path(path).parent))
        return True

    def open_demo(self) -> bool:
        try:
            # a copy the user may change (recordings, saves), never the bundled files themselves
            path = writable_copy(demo_project_path(), self.output_root / "demo")
            project = Project.load(path)
        except (ProjectError, OSError) as exc:
            show_fatal(self, "Opening the demo", exc)
            return False
        self.cancel_job()
        self.set_project(project)
        return True

    def save_project(self) -> bool:
        if self.project.path is None:
            return self.ask_save_project_as()
        return self._save_to(self.project.path)

    def ask_save_project_as(self) -> bool:
        suggested = str(Path(self._last_dir()) / f"{self.project.name}{PROJECT_SUFFIX}")
        path, _ = QFileDialog.getSaveFileName(self, "Save project", suggested, project_file_filter())
        if not path:
            return False
        if not path.endswith(PROJECT_SUFFIX):
            path += PROJECT_SUFFIX
        return self._save_to(Path(path))

    def _save_to(self, path: Path) -> bool:
        try:
            if self.project.name in ("Untitled", "") and path.name.endswith(".audionet.json"):
                self.project.name = path.name[: -len(".audionet.json")]
            saved = self.project.save(path)
        except (OSError, ProjectError) as exc:
            show_fatal(self, "Saving the project", exc)
            return False
        self._dirty = False
        self.remember_recent(saved)
        self.settings.setValue("last_dir", str(saved.parent))
        self.show_project()
        self.statusBar().showMessage(f"Saved {saved}", 5000)
        return True

    def _last_dir(self) -> str:
        return str(self.settings.value("last_dir", str(Path.home())))

    # -- data ---------------------------------------------------------------------------------------------------
    def ask_add_class_folder(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Add a class folder (its name becomes the class name)",
                                                self._last_dir())
        if path:
            self.settings.setValue("last_dir", str(Path(path).parent))
            self.add_paths([path])

    def ask_add_files(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(self, "Add audio files", self._last_dir(), AUDIO_FILTER)
        if paths:
            selected = self.data_panel.selected_classes()
            self.add_paths(paths, selected[0] if len(selected) == 1 else None)

    # -- jobs ---------------------------------------------------------------------------------------------------
    def run_job(self, fn: Callable, *args, title: str, on_finished: Callable[[Any], None],
                on_progress: Callable | None = None, doing: str = "The job", **kwargs) -> JobRunner | None:
        if self.job_busy():
            QMessageBox.information(self, "Busy", "Another job is running. Wait for it or cancel it first.")
            return None
        runner = JobRunner(fn, *args, parent=self, name=title, **kwargs)
        runner.progress.connect(self.job_bar.show_progress)
        if on_progress:
            runner.progress.connect(on_progress)
        runner.finished.connect(on_finished)
        runner.finished.connect(lambda _r: self.job_bar.set_idle(f"{title}: done"))
        runner.failed.connect(lambda f: self.on_job_failed(doing, f))
        runner.cancelled.connect(lambda: self.on_job_cancelled(title))
        runner.done.connect(self._on_job_done)
        self.job = runner
        self.job_bar.set_running(title)
        self.train_panel.set_running(True)
        runner.start()
        return runner

    def job_busy(self) -> bool:
        """A job is running and has not reported its outcome (its thread may still be winding down after)."""
        return self.job is not None and self.job.outcome is None and self.job.is_running()

    def cancel_job(self) -> None:
        if self.job is not None and self.job.is_running():
            self.job.cancel()
        if self.side_job is not None and self.side_job.is_running():
            self.side_job.cancel()

    def on_job_failed(self, doing: str, failure: JobFailure) -> None:
        self.job_bar.set_idle(f"{doing} stopped")
        self.log.add("error", failure.message)
        if isinstance(failure.exception, WeightsUnavailableError) and doing == "Training":
            self.offer_weights_choice(failure)
            return
        show_fatal(self, doing, failure.exception, failure.traceback)

    def on_job_cancelled(self, title: str) -> None:
        self.job_bar.set_idle(f"{title}: cancelled")
        self.log.add("info", f"{title}: cancelled. Finished work is kept; nothing half-written was left.")

    def _on_job_done(self) -> None:
        self.train_panel.set_running(False)
        if getattr(self, "_scan_pending", False):
            self._scan_pending = False
            self.start_scan()

    def start_scan(self) -> None:
        if self.job_busy():
            if self.job.name == "Checking files":
                self.job.cancel()  # a newer scan replaces it as soon as it stops
            self._scan_pending = True
            return
        self.scan = None
        self.data_panel.set_rows(self.class_rows(), self.data_summary())
        if not self.project.classes:
            return
        self.run_job(scan_project, copy.deepcopy(self.project), title="Checking files", doing="Checking the files",
                     on_finished=self.on_scan_finished, process=True)

    def on_scan_finished(self, scan) -> None:
        if getattr(self, "_scan_pending", False):
            return  # the project changed while it ran: a fresh scan follows
        self.scan = scan
        self.data_panel.set_rows(self.class_rows(), self.data_summary())
        for c in scan.report.classes:
            for path, reason in c.unreadable:
                self.log.add("warning", f"left out of class {c.name}: {reason}", path)
        for w in scan.report.warnings:
            self.log.add("warning", w)

    def start_convert(self) -> None:
        self.run_job(convert_project, copy.deepcopy(self.project), title="Making images", doing="Making images",
                     on_finished=self.on_convert_finished, process=True)

    def on_convert_finished(self, summary) -> None:
        self.log.add_file_errors(summary.failed)
        self.log.add("info", f"Made {summary.windows} images from {summary.files} files "
                             f"({summary.seconds_of_audio:.0f} s of audio) in {summary.wall_seconds:.1f} s.")
        self.train_panel.status.setText(f"{summary.windows} images ready ({summary.cached} files were already done).")

    def start_training(self) -> None:
        if len(self.project.classes) < 2:
            QMessageBox.information(self, "Train", "Add at least two classes on the Data page first "
                                                   "(one folder of recordings per speaker or sound).")
            self.go_to("Data")
            return
        out_dir = Path(self.project.model_path) if self.project.model_path else \
            self.project.default_model_dir(self.output_root)
        self.train_panel.curves.clear()
        self.train_panel.reset_stages()
        self.train_panel.status.setText(f"Training with {self.project.training.get('backbone')}; the model goes to "
                                        f"{out_dir}")
        self.go_to("Train")
        self.run_job(train_project, copy.deepcopy(self.project), out_dir, title="Training", doing="Training",
                     on_finished=self.on_training_finished, on_progress=self.on_training_progress, process=True)

    def on_training_progress(self, p) -> None:
        stage = TRAIN_STAGES.get(p.stage)
        if stage:
            count = f"{p.done}/{p.total}" if p.total else (str(p.done) if p.done else "running")
            self.train_panel.mark_stage(stage, count)
        if p.extra and "epoch" in p.extra:
            self.train_panel.curves.add_epoch(p.extra)

    def on_training_finished(self, report) -> None:
        self.project.model_path = str(report.bundle_path)
        self._dirty = True
        self.train_panel.mark_all_done()
        failed = ((report.metrics.get("data") or {}).get("convert") or {}).get("failed") or []
        self.log.add_file_errors(failed)
        for w in report.warnings:
            self.log.add("warning", w)
        self.train_panel.status.setText(" · ".join(report.summary_lines()[2:5]))
        self.bundle = None
        self.show_model_metrics(str(report.bundle_path), report.metrics, report.labels)
        self.show_project()
        self.go_to("Results")

    def offer_weights_choice(self, failure: JobFailure) -> None:
        backbone = str(self.project.training.get("backbone"))
        choice, path = ask_weights_choice(self, backbone, failure.message)
        if choice == "file" and path:
            self.remember_weights_file(backbone, path)
            self.project.training["weights"] = path
        elif choice == "small_cnn":
            self.project.training["backbone"] = "small_cnn"
        else:
            return
        self._dirty = True
        self.show_project()
        self.start_training()


def project_file_filter() -> str:
    return f"AudioNet projects (*{PROJECT_SUFFIX});;All files (*)"
