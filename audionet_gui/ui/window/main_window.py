"""The main window: a sidebar of pages (Data | Inspect | Train | Results | Identify | Live), the job bar and the
log. It holds the open project and the loaded model, applies the user's requests to them and runs core jobs
through ``JobRunner``; it computes nothing itself."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QSettings, QSize, QStandardPaths, Qt
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QApplication,
    QDockWidget,
    QHBoxLayout,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QMessageBox,
    QStackedWidget,
    QWidget,
)

from audionet_gui.core.data.project import Project, ProjectError, add_background_class
from audionet_gui.core.model.warmup import warm_up
from audionet_gui.qt.job_runner import JobRunner, prestart_process_server
from audionet_gui.ui.pages.data_panel import ClassRow, DataPanel, local_paths
from audionet_gui.ui.pages.identify_panel import IdentifyPanel
from audionet_gui.ui.pages.inspector import InspectorPanel
from audionet_gui.ui.pages.live_panel import LivePanel
from audionet_gui.ui.pages.results_panel import ResultsPanel
from audionet_gui.ui.pages.train_panel import TrainPanel
from audionet_gui.ui.widgets.job_bar import JobBar
from audionet_gui.ui.widgets.log_panel import LogPanel
from audionet_gui.ui.widgets.record_box import record_targets
from audionet_gui.ui.window.main_actions import MainActions
from audionet_gui.ui.window.model_actions import ModelActions

PAGES = ("Data", "Inspect", "Train", "Results", "Identify", "Live")
PAGE_TIPS = {
    "Data": "Your classes: folders of recordings, one per speaker or sound",
    "Inspect": "Look at a clip's waveform, spectrogram and the exact image the network sees",
    "Train": "Settings, and training with live curves",
    "Results": "How well the model does on audio it never saw",
    "Identify": "Who speaks in a file",
    "Live": "Identify speakers from the microphone",
}
MAX_RECENT = 8


class MainWindow(QMainWindow, MainActions, ModelActions):
    def __init__(self, settings: QSettings | None = None, output_root: Path | None = None):
        super().__init__()
        self.settings = settings or QSettings()
        self.output_root = Path(output_root) if output_root else default_output_root()
        self.project = Project()
        self.scan = None  # core.project.ProjectScan of the current project
        self.bundle = None  # loaded core.bundle.ModelBundle for Identify
        self.metrics: dict = {}
        self.job: JobRunner | None = None  # the one data/training job at a time
        self.side_job: JobRunner | None = None  # model loading / identification
        self._unsaved = False

        self.setWindowTitle("AudioNet Studio[*]")
        self.setAcceptDrops(True)
        self.nav = QListWidget()
        self.nav.setObjectName("nav")
        self.nav.setFixedWidth(140)
        self.nav.setIconSize(QSize(20, 20))
        self.stack = QStackedWidget()
        self.data_panel = DataPanel()
        self.inspector = InspectorPanel()
        self.train_panel = TrainPanel()
        self.results_panel = ResultsPanel()
        self.identify_panel = IdentifyPanel()
        self.live_panel = LivePanel(settings=self.settings)
        for name, page in zip(PAGES, (self.data_panel, self.inspector, self.train_panel, self.results_panel,
                                      self.identify_panel, self.live_panel)):
            item = QListWidgetItem(name)
            item.setToolTip(PAGE_TIPS[name])
            item.setSizeHint(QSize(120, 36))
            self.nav.addItem(item)
            self.stack.addWidget(page)
        self.nav.currentRowChanged.connect(self.stack.setCurrentIndex)
        self.nav.setCurrentRow(0)
        self.nav.setStyleSheet("QListWidget#nav { font-size: 11pt; } QListWidget#nav::item { padding-left: 10px; }")
        central = QWidget()
        row = QHBoxLayout(central)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(0)
        row.addWidget(self.nav)
        row.addWidget(self.stack, 1)
        self.setCentralWidget(central)

        self.job_bar = JobBar()
        self.statusBar().addPermanentWidget(self.job_bar, 1)
        self.statusBar().setSizeGripEnabled(True)
        self.log = LogPanel()
        self.log_dock = QDockWidget("Log", self)
        self.log_dock.setObjectName("log_dock")
        self.log_dock.setWidget(self.log)
        self.addDockWidget(Qt.BottomDockWidgetArea, self.log_dock)
        self.log_dock.hide()
        self.log.error_logged.connect(self.log_dock.show)

        self._connect_panels()
        self.build_menus()
        self._restore_window()
        self.show_project()

    # -- wiring ---------------------------------------------------------------------------------------------------
    def _connect_panels(self) -> None:
        d = self.data_panel
        d.paths_dropped.connect(self.add_paths)
        d.add_folder_requested.connect(self.ask_add_class_folder)
        d.add_files_requested.connect(self.ask_add_files)
        d.rename_requested.connect(lambda old, new: self.edit_project(lambda p: p.rename_class(old, new)))
        d.remove_requested.connect(lambda names: self.edit_project(lambda p: [p.remove_class(n) for n in names]))
        d.merge_requested.connect(lambda names, into: self.edit_project(lambda p: p.merge_classes(names, into)))
        d.test_folder_changed.connect(self.set_test_folder)
        d.rescan_requested.connect(self.start_scan)
        d.clip_activated.connect(self.inspect_file)
        t = self.train_panel
        t.audio_settings.changed.connect(self._on_audio_settings)
        t.model_settings.changed.connect(self._on_model_settings)
        t.model_settings.weights_file_chosen.connect(self.remember_weights_file)
        t.model_settings.remembered = self.remembered_weights()
        t.train_requested.connect(self.start_training)
        t.convert_requested.connect(self.start_convert)
        r = self.results_panel
        r.save_model_requested.connect(self.ask_save_model)
        r.open_model_requested.connect(self.ask_open_model)
        r.window_activated.connect(self.inspect_window)
        i = self.identify_panel
        i.file_requested.connect(self.identify_file)
        i.open_model_requested.connect(self.ask_open_model)
        self.job_bar.cancel_requested.connect(self.cancel_job)
        self.log.file_activated.connect(self.inspect_file)
        self.inspector.status.connect(lambda text: self.statusBar().showMessage(text, 5000))
        self.inspector.spectrogram_config_edited.connect(self._on_inspector_config)
        lp = self.live_panel
        lp.sample_recorded.connect(lambda _path: self.start_scan())
        lp.background_class_requested.connect(self.add_background_class)
        lp.open_model_requested.connect(self.ask_open_model)
        lp.train_page_requested.connect(lambda: self.go_to("Train"))
        lp.bundle_loaded.connect(self._on_live_bundle)
        lp.message.connect(lambda kind, text: self.log.add(kind, text))

    def warm_up(self) -> JobRunner:
        """Import TensorFlow/Keras in the background now (see core/warmup.py); ``self.engine_ready`` once done."""

        self.engine_ready = False
        prestart_process_server()  # jobs run in child processes forked from it
        runner = JobRunner(warm_up, parent=self, name="warm-up")
        runner.done.connect(lambda: setattr(self, "engine_ready", True))
        self.warm_up_job = runner
        return runner.start()

    def go_to(self, page: str) -> None:
        self.nav.setCurrentRow(PAGES.index(page))

    def current_page(self) -> str:
        return PAGES[self.nav.currentRow()]

    # -- project ---------------------------------------------------------------------------------------------------
    @property
    def _dirty(self) -> bool:
        """The project has changes that are not saved (shown as * in the title)."""
        return self._unsaved

    @_dirty.setter
    def _dirty(self, value: bool) -> None:
        self._unsaved = bool(value)
        self.setWindowModified(self._unsaved)

    def set_project(self, project: Project, scan: bool = True) -> None:
        self.project = project
        self.scan = None
        self._dirty = False
        self.metrics = {}
        self.bundle = None
        self.show_project()
        if project.model_path and Path(project.model_path).is_dir():
            self.show_model_on_disk(project.model_path)
        else:
            self.results_panel.clear()
            self.identify_panel.set_model(None)
            self.live_panel.set_model(None)
        if scan and project.classes:
            self.start_scan()

    def show_project(self) -> None:
        p = self.project
        self.data_panel.set_rows(self.class_rows(), self.data_summary())
        self.data_panel.set_test_folder(p.test_folder)
        self.train_panel.audio_settings.set_values(p.spectrogram, p.window)
        self.train_panel.model_settings.set_values(p.training)
        self._push_inspector_configs()
        self.live_panel.set_classes(record_targets(p))
        where = str(p.path) if p.path else "not saved yet"
        self.setWindowTitle(f"{p.name}[*] ({where}) - AudioNet Studio")
        self.setWindowModified(self._dirty)

    def edit_project(self, change: Callable[[Project], Any], rescan: bool = True) -> None:
        """Apply a user edit; a refused edit is explained, not half-applied."""
        try:
            change(self.project)
        except ProjectError as exc:
            QMessageBox.warning(self, "Not changed", str(exc))
            return
        self._dirty = True
        self.show_project()
        if rescan:
            self.start_scan()

    def add_paths(self, paths: list[str], into: str | None = None) -> None:
        touched: list[str] = []
        self.edit_project(lambda p: touched.extend(p.add_paths(paths, into)))
        self.go_to("Data")
        if touched:
            self.data_panel.select_class(touched[-1])
            self.statusBar().showMessage(f"Added to: {', '.join(touched)}", 5000)

    def set_test_folder(self, path: str | None) -> None:
        self.edit_project(lambda p: setattr(p, "test_folder", path))

    def _on_audio_settings(self, spectrogram: dict, window: dict) -> None:
        self.project.spectrogram, self.project.window = spectrogram, window
        self._dirty = True
        self._push_inspector_configs()

    def add_background_class(self) -> None:
        """The Live page asks for a class of background noise to record into."""

        self.edit_project(lambda p: add_background_class(p, self.output_root))

    def _on_live_bundle(self, bundle) -> None:
        if str(bundle.path) == str(self.project.model_path):
            self.bundle = bundle  # Identify can use it without loading it again

    def _on_inspector_config(self, cfg) -> None:
        """Spectrogram settings changed in the inspector become the project's (the image size stays the
        backbone's business)."""
        values = {k: v for k, v in cfg.to_dict().items() if k not in ("image_width", "image_height")}
        self.project.spectrogram = {**self.project.spectrogram, **values}
        self._dirty = True
        self.train_panel.audio_settings.set_values(self.project.spectrogram, self.project.window)

    def _on_model_settings(self, training: dict) -> None:
        self.project.training = training
        self._dirty = True

    def _push_inspector_configs(self) -> None:
        try:
            self.inspector.set_configs(self.project.image_spectrogram_config(), self.project.window_config())
        except (ValueError, TypeError) as exc:
            self.log.add("warning", f"Settings not shown in the inspector: {exc}")

    def class_rows(self):
        reports = {c.name: c for c in self.scan.report.classes} if self.scan else {}
        rows = []
        for c in self.project.classes:
            rep = reports.get(c.name)
            rows.append(ClassRow(c.name, c.sources(), rep.files if rep else None, rep.duration_s if rep else None,
                                 list(rep.unreadable) if rep else [], list(rep.warnings) if rep else [],
                                 self.scan.files.get(c.name, []) if self.scan else []))
        return rows

    def data_summary(self) -> str:
        if not self.project.classes:
            return ""
        if not self.scan:
            return f"{len(self.project.classes)} classes; checking the files…"
        r = self.scan.report
        text = f"{len(r.classes)} classes, {r.total_files} clips, {r.total_duration_s / 60:.1f} min of audio"
        if r.test_files:
            text += f"; {r.test_files} clips in the test folder"
        if r.warnings:
            text += ". " + "; ".join(r.warnings)
        return text

    # -- inspect ---------------------------------------------------------------------------------------------------
    def inspect_file(self, path: str) -> None:
        self.inspector.show_file(path)
        self.go_to("Inspect")

    def inspect_window(self, path: str, start_s: float) -> None:
        self.inspector.show_window(path, start_s)
        self.go_to("Inspect")

    # -- settings and window state ------------------------------------------------------------------------------
    def _restore_window(self) -> None:
        geometry = self.settings.value("window/geometry")
        if geometry is None or not self.restoreGeometry(geometry):
            self.resize(1200, 760)
        state = self.settings.value("window/state")
        if state is not None:
            self.restoreState(state)

    def remembered_weights(self) -> dict[str, str]:
        self.settings.beginGroup("weights")
        try:
            return {k: str(self.settings.value(k)) for k in self.settings.childKeys()}
        finally:
            self.settings.endGroup()

    def remember_weights_file(self, backbone: str, path: str) -> None:
        self.settings.setValue(f"weights/{backbone}", path)
        self.train_panel.model_settings.remembered = self.remembered_weights()

    def recent_projects(self) -> list[str]:
        value = self.settings.value("recent_projects", [])
        if isinstance(value, str):
            value = [value]
        return [v for v in (value or []) if v]

    def remember_recent(self, path: Path) -> None:
        recent = [str(path)] + [p for p in self.recent_projects() if p != str(path)]
        self.settings.setValue("recent_projects", recent[:MAX_RECENT])
        self.refresh_recent_menu()

    def closeEvent(self, event: QCloseEvent) -> None:
        if not self.confirm_discard("quit"):
            event.ignore()
            return
        self.live_panel.shutdown()
        for runner in (self.job, self.side_job, getattr(self, "warm_up_job", None)):
            if runner is not None and runner.is_running():
                runner.cancel()
                runner.wait(30000)  # an import cannot be interrupted; a job stops at its next check
        self.settings.setValue("window/geometry", self.saveGeometry())
        self.settings.setValue("window/state", self.saveState())
        self.settings.sync()
        super().closeEvent(event)

    def confirm_discard(self, doing: str) -> bool:
        """Ask before losing unsaved edits or a training run; a scan or a conversion is simply cancelled."""
        training = self.job_busy() and self.job.name == "Training"
        if not self._dirty and not training:
            return True
        parts = []
        if training:
            parts.append("Training is running; it will be cancelled.")
        if self._dirty:
            parts.append("The project has unsaved changes.")
        answer = QMessageBox.question(self, "AudioNet Studio", " ".join(parts) + f"\n\n{doing.capitalize()} anyway?",
                                      QMessageBox.Yes | QMessageBox.No, QMessageBox.No)
        return answer == QMessageBox.Yes

    # -- drops anywhere on the window go to the Data page (the Identify page takes its own) ------------------------
    def dragEnterEvent(self, e) -> None:
        if local_paths(e.mimeData()):
            e.acceptProposedAction()

    def dropEvent(self, e) -> None:
        paths = local_paths(e.mimeData())
        if paths:
            e.acceptProposedAction()
            self.add_paths(paths)


def default_output_root() -> Path:
    base = QStandardPaths.writableLocation(QStandardPaths.AppDataLocation) or str(Path.home() / ".audionet")
    return Path(base) / "projects"


def app_instance() -> QApplication:
    return QApplication.instance()  # type: ignore[return-value]
