"""The main window: a sidebar of pages (Data | Inspect | Train | Results | Feature map | Identify | Live), the
menus, the job bar and the log. It lays them out and wires them; the state lives in ``AppState`` (ui/state.py),
which the pages follow, remembered choices in ``SettingsStore`` (ui/settings_store.py), and the requests go to
plain controller objects: ``ProjectController`` (projects, data jobs, training), ``ModelController`` (models,
identifying), ``JobController`` (the one data/training job at a time) and the doctor, explain and feature map
controllers. None of them imports this module."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QSettings, QSize, QStandardPaths, Qt
from PySide6.QtGui import QAction, QActionGroup, QCloseEvent, QKeySequence
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

from audionet_gui.core.data.project import Project
from audionet_gui.core.model.warmup import warm_up
from audionet_gui.qt.job_runner import JobRunner, prestart_process_server
from audionet_gui.resources import demo_conversation_path
from audionet_gui.ui.dialogs.about import AboutDialog
from audionet_gui.ui.dialogs.getting_started import GettingStartedDialog
from audionet_gui.ui.pages.data_panel import DataPanel, local_paths
from audionet_gui.ui.pages.feature_map_panel import FeatureMapPanel
from audionet_gui.ui.pages.identify_panel import IdentifyPanel
from audionet_gui.ui.pages.inspector import InspectorPanel
from audionet_gui.ui.pages.live_panel import LivePanel
from audionet_gui.ui.pages.results_panel import ResultsPanel
from audionet_gui.ui.pages.train_panel import TrainPanel
from audionet_gui.ui.settings_store import SettingsStore, as_store
from audionet_gui.ui.state import AppState
from audionet_gui.ui.theme import THEMES, apply_theme
from audionet_gui.ui.widgets.job_bar import JobBar
from audionet_gui.ui.widgets.log_panel import LogPanel
from audionet_gui.ui.widgets.record_box import record_targets
from audionet_gui.ui.window.doctor_controller import DoctorController
from audionet_gui.ui.window.explain_controller import ExplainController
from audionet_gui.ui.window.feature_map_controller import FeatureMapController
from audionet_gui.ui.window.job_controller import JobController
from audionet_gui.ui.window.model_controller import ModelController
from audionet_gui.ui.window.project_controller import ProjectController

PAGES = ("Data", "Inspect", "Train", "Results", "Feature map", "Identify", "Live")
PAGE_TIPS = {
    "Data": "Your classes: folders of recordings, one per speaker or sound",
    "Inspect": "Look at a clip's waveform, spectrogram and the exact image the network sees",
    "Train": "Settings, and training with live curves",
    "Results": "How well the model does on audio it never saw",
    "Feature map": "Every window the model learned from, in 2-D: which classes it mixes up, which files look misfiled",
    "Identify": "Who speaks in a file",
    "Live": "Identify speakers from the microphone",
}


class MainWindow(QMainWindow):
    def __init__(self, settings: SettingsStore | QSettings | None = None, output_root: Path | None = None):
        super().__init__()
        self.store = as_store(settings)
        self.settings = self.store.qsettings  # the QSettings behind the store (for tests and the self-test)
        self.output_root = Path(output_root) if output_root else default_output_root()
        self.state = AppState(self.output_root, parent=self)

        self.setWindowTitle("AudioNet Studio[*]")
        self.setAcceptDrops(True)
        self.nav = QListWidget()
        self.nav.setObjectName("nav")
        self.nav.setFixedWidth(140)
        self.nav.setIconSize(QSize(20, 20))
        self.stack = QStackedWidget()
        self.data_panel = DataPanel(state=self.state)
        self.inspector = InspectorPanel(state=self.state)
        self.train_panel = TrainPanel(state=self.state)
        self.results_panel = ResultsPanel(state=self.state)
        self.feature_map = FeatureMapPanel(state=self.state)
        self.identify_panel = IdentifyPanel(state=self.state)
        self.live_panel = LivePanel(settings=self.store, state=self.state)
        for name, page in zip(PAGES, (self.data_panel, self.inspector, self.train_panel, self.results_panel,
                                      self.feature_map, self.identify_panel, self.live_panel)):
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

        self.jobs = JobController(self)
        self.models = ModelController(self, self.state, self.store, self.jobs)
        self.projects = ProjectController(self, self.state, self.store, self.jobs)
        self.doctor = DoctorController(self, self.state, self.projects, self.data_panel.doctor)
        self.explainer = ExplainController(self, self.state, self.inspector, self.identify_panel)
        self.mapper = FeatureMapController(self, self.state, self.feature_map)
        self.feature_map.window_requested.connect(lambda path, start: self.inspect_window(path, start, play=True))
        self.state.project_changed.connect(self.show_project)
        self.state.project_changed.connect(lambda _p: self.jobs.busy() or self.job_bar.set_idle())
        self.state.project_edited.connect(self.show_project)
        self.state.dirty_changed.connect(self.setWindowModified)
        self._connect_panels()
        self.build_menus()
        self._restore_window()
        self.state.set_project(self.projects.fresh_project())

    # -- wiring ---------------------------------------------------------------------------------------------------
    def _connect_panels(self) -> None:
        p, m = self.projects, self.models
        d = self.data_panel
        d.paths_dropped.connect(p.add_paths)
        d.add_folder_requested.connect(p.ask_add_class_folder)
        d.add_files_requested.connect(p.ask_add_files)
        d.rename_requested.connect(lambda old, new: p.edit_project(lambda pr: pr.rename_class(old, new)))
        d.remove_requested.connect(lambda names: p.edit_project(lambda pr: [pr.remove_class(n) for n in names]))
        d.merge_requested.connect(lambda names, into: p.edit_project(lambda pr: pr.merge_classes(names, into)))
        d.test_folder_changed.connect(p.set_test_folder)
        d.rescan_requested.connect(p.start_scan)
        d.clip_activated.connect(self.inspect_file)
        t = self.train_panel
        t.audio_settings.edited.connect(self._on_audio_settings)
        t.model_settings.changed.connect(self._on_model_settings)
        t.model_settings.weights_file_chosen.connect(self.remember_weights_file)
        t.model_settings.remembered = self.store.weights_files()
        t.train_requested.connect(p.start_training)
        t.convert_requested.connect(p.start_convert)
        r = self.results_panel
        r.save_model_requested.connect(m.ask_save_model)
        r.open_model_requested.connect(m.ask_open_model)
        r.window_activated.connect(self.inspect_window)
        i = self.identify_panel
        i.file_requested.connect(m.identify_file)
        i.add_speaker_requested.connect(m.add_speaker)
        i.open_model_requested.connect(m.ask_open_model)
        for page in (d, t, r, i):
            page.action_requested.connect(self.do_action)
        self.job_bar.cancel_requested.connect(self.cancel_job)
        self.log.file_activated.connect(self.inspect_file)
        self.inspector.status.connect(lambda text: self.statusBar().showMessage(text, 5000))
        self.inspector.settings_edited.connect(self._on_audio_settings)
        lp = self.live_panel
        lp.sample_recorded.connect(lambda _path: p.start_scan())
        lp.background_class_requested.connect(p.add_background_class)
        lp.open_model_requested.connect(m.ask_open_model)
        lp.train_page_requested.connect(lambda: self.go_to("Train"))
        lp.message.connect(lambda kind, text: self.log.add(kind, text))

    # -- menus -------------------------------------------------------------------------------------------------
    def build_menus(self) -> None:
        p, m = self.projects, self.models
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
        act(f, "new", "&New Project", p.new_project, QKeySequence.New, "Start an empty project")
        act(f, "open", "&Open Project…", p.ask_open_project, QKeySequence.Open, "Open a saved project file")
        self.recent_menu = f.addMenu("Open &Recent")
        act(f, "demo", "Open &Demo Project", p.open_demo, None, "The bundled FSDD speakers demo")
        f.addSeparator()
        act(f, "save", "&Save Project", p.save_project, QKeySequence.Save, "Save the project file")
        act(f, "save_as", "Save Project &As…", p.ask_save_project_as, QKeySequence("Ctrl+Shift+S"))
        f.addSeparator()
        act(f, "open_audio", "Open &Audio…", self.ask_inspect_file, QKeySequence("Ctrl+Shift+I"),
            "Look at an audio file on the Inspect page: waveform, spectrogram, the images the network sees")
        act(f, "open_model", "Open &Model…", m.ask_open_model, QKeySequence("Ctrl+M"), "Open a saved model folder")
        act(f, "save_model", "Save Model &As…", m.ask_save_model, None, "Copy the trained model folder")
        f.addSeparator()
        act(f, "quit", "&Quit", self.close, QKeySequence.Quit)

        d = mb.addMenu("&Data")
        act(d, "add_folder", "Add Class &Folder…", p.ask_add_class_folder, QKeySequence("Ctrl+Shift+O"),
            "A folder of recordings becomes a class named after it")
        act(d, "add_files", "Add &Files…", p.ask_add_files, None)
        act(d, "rename", "&Rename Class…", self.data_panel._ask_rename, QKeySequence("F2"))
        act(d, "remove", "Re&move Classes", self.data_panel._ask_remove, QKeySequence.Delete)
        act(d, "rescan", "&Check Files Again", p.start_scan, QKeySequence("F5"))

        t = mb.addMenu("&Train")
        act(t, "train", "&Train", p.start_training, QKeySequence("Ctrl+T"), "Make images, train and test")
        act(t, "convert", "Make &Images Only", p.start_convert, QKeySequence("Ctrl+Shift+T"))
        act(t, "cancel", "&Cancel Job", self.cancel_job, QKeySequence("Esc"), "Stop the running job")
        act(t, "identify", "&Identify a File…", self.identify_panel._choose, QKeySequence("Ctrl+I"))

        v = mb.addMenu("&View")
        for i, name in enumerate(PAGES):
            act(v, f"page_{name}", name, lambda n=name: self.go_to(n), QKeySequence(f"Ctrl+{i + 1}"))
        v.addSeparator()
        log_action = self.log_dock.toggleViewAction()
        log_action.setShortcut(QKeySequence("Ctrl+L"))
        v.addAction(log_action)
        theme_menu = v.addMenu("&Theme")
        group = QActionGroup(self)
        current = self.store.theme
        for name in THEMES:
            a = QAction(name.capitalize(), self, checkable=True)
            a.setChecked(name == current)
            a.triggered.connect(lambda _c=False, n=name: self.set_theme(n))
            group.addAction(a)
            theme_menu.addAction(a)

        h = mb.addMenu("&Help")
        act(h, "getting_started", "&Getting Started", self.show_getting_started, QKeySequence("F1"),
            "Add classes, train, try it: the three steps, and the demo")
        act(h, "about", "&About AudioNet Studio", self.show_about)
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
        self.store.theme = name
        apply_theme(QApplication.instance(), name)
        self.statusBar().showMessage("Theme changed; plots pick it up when they are next redrawn.", 5000)

    def show_about(self) -> None:
        AboutDialog(self).exec()

    def getting_started_dialog(self) -> GettingStartedDialog:
        dialog = GettingStartedDialog(self)
        dialog.action.connect(self.do_action)
        return dialog

    def show_getting_started(self) -> None:
        self.getting_started_dialog().exec()

    def do_action(self, action: str) -> None:
        """A next-step button of a page (ui/guide.py) or of Getting started."""
        if action.startswith("page:"):
            self.go_to(action.split(":", 1)[1])
        elif action == "add_folder":
            self.projects.ask_add_class_folder()
        elif action == "open_demo":
            self.open_demo()
        elif action == "train":
            self.start_training()
        elif action == "open_model":
            self.models.ask_open_model()
        elif action == "identify_demo":
            self.identify_file(str(demo_conversation_path()))

    # -- pages -----------------------------------------------------------------------------------------------------
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

    def show_project(self, *_args) -> None:
        """What the window itself shows of the project (the settings forms, the title, the Live page's classes);
        the pages follow the state on their own."""
        p = self.project
        self.train_panel.model_settings.set_values(p.training)
        self._push_inspector_configs()
        self.live_panel.set_classes(record_targets(p))
        where = str(p.path) if p.path else "not saved yet"
        self.setWindowTitle(f"{p.name}[*] ({where}) - AudioNet Studio")
        self.setWindowModified(self.state.dirty)

    # -- the audio-to-image settings: one owner (the project), two forms (Train and Inspect) -----------------------
    def _on_audio_settings(self, settings) -> None:
        """The settings form of the Train or the Inspect page was edited: the project's settings change once
        and both pages show them."""
        if settings != self.project.settings:
            self.project.settings = settings
            self._dirty = True
        self._push_inspector_configs()

    def _on_model_settings(self, training: dict) -> None:
        self.projects.set_training(training)
        self._push_inspector_configs()  # the backbone sets the image size

    def _push_inspector_configs(self) -> None:
        """Show the project's settings on the Train and the Inspect page (drawn at the backbone's image size)."""
        settings = self.project.settings
        try:
            resolved = self.project.image_settings()
        except (ValueError, TypeError) as exc:
            resolved = None
            self.log.add("warning", f"The image size does not fit the network: {exc}")
        self.train_panel.audio_settings.set_settings(settings, resolved)
        self.inspector.set_settings(settings, resolved)


    # -- the state, as the tests and the self-test read it ---------------------------------------------------------
    @property
    def project(self) -> Project:
        return self.state.project

    @property
    def scan(self):
        return self.state.scan

    @property
    def bundle(self):
        return self.state.bundle

    @property
    def metrics(self) -> dict:
        return self.state.model.metrics if self.state.model is not None else {}

    @property
    def _dirty(self) -> bool:
        """The project has changes that are not saved (shown as * in the title)."""
        return self.state.dirty

    @_dirty.setter
    def _dirty(self, value: bool) -> None:
        self.state.set_dirty(value)

    @property
    def job(self) -> JobRunner | None:
        return self.jobs.job

    @property
    def side_job(self) -> JobRunner | None:
        return self.models.side_job

    # -- requests other code makes of the window (delegated to the controllers) -------------------------------------
    def set_project(self, project: Project, scan: bool = True) -> None:
        self.projects.set_project(project, scan)

    def new_project(self) -> None:
        self.projects.new_project()

    def open_project(self, path: str) -> bool:
        return self.projects.open_project(path)

    def open_demo(self) -> bool:
        return self.projects.open_demo()

    def save_project(self) -> bool:
        return self.projects.save_project()

    def _save_to(self, path: Path) -> bool:
        return self.projects.save_to(Path(path))

    def edit_project(self, change, rescan: bool = True) -> None:
        self.projects.edit_project(change, rescan)

    def add_paths(self, paths: list[str], into: str | None = None) -> None:
        self.projects.add_paths(paths, into)

    def set_test_folder(self, path: str | None) -> None:
        self.projects.set_test_folder(path)

    def start_scan(self) -> None:
        self.projects.start_scan()

    def start_convert(self) -> None:
        self.projects.start_convert()

    def start_training(self) -> None:
        self.projects.start_training()

    def offer_weights_choice(self, failure) -> None:
        self.projects.offer_weights_choice(failure)

    def run_job(self, fn: Callable, *args, **kwargs) -> JobRunner | None:
        return self.jobs.run(fn, *args, **kwargs)

    def job_busy(self) -> bool:
        return self.jobs.busy()

    def cancel_job(self) -> None:
        self.jobs.cancel()
        self.models.cancel()

    def show_model_metrics(self, path: str, metrics: dict, labels: list[str]) -> None:
        self.models.show_model_metrics(path, metrics, labels)

    def identify_file(self, path: str) -> None:
        self.models.identify_file(path)

    # -- inspect ---------------------------------------------------------------------------------------------------
    def inspect_file(self, path: str) -> None:
        self.inspector.show_file(path)
        self.go_to("Inspect")

    def ask_inspect_file(self) -> None:
        self.go_to("Inspect")
        self.inspector.ask_open()

    def inspect_window(self, path: str, start_s: float, play: bool = False) -> None:
        if play:
            self.inspector.show_window(path, start_s, play=True)
        else:
            self.inspector.show_window(path, start_s)
        self.go_to("Inspect")

    # -- remembered choices and window state ------------------------------------------------------------------------
    def _restore_window(self) -> None:
        geometry, state = self.store.window_geometry()
        if geometry is None or not self.restoreGeometry(geometry):
            self.resize(1200, 760)
        if state is not None:
            self.restoreState(state)

    def remembered_weights(self) -> dict[str, str]:
        return self.store.weights_files()

    def remember_weights_file(self, backbone: str, path: str) -> None:
        self.store.remember_weights_file(backbone, path)
        self.train_panel.model_settings.remembered = self.store.weights_files()

    def recent_projects(self) -> list[str]:
        return self.store.recent_projects()

    def closeEvent(self, event: QCloseEvent) -> None:
        if not self.confirm_discard("quit"):
            event.ignore()
            return
        self.live_panel.shutdown()
        self.jobs.shutdown()
        self.doctor.shutdown()
        self.explainer.shutdown()
        self.mapper.shutdown()
        self.models.shutdown()
        self.state.shutdown()
        runner = getattr(self, "warm_up_job", None)
        if runner is not None and runner.is_running():
            runner.wait(30000)  # an import cannot be interrupted
        self.store.remember_window(self.saveGeometry(), self.saveState())
        self.store.sync()
        super().closeEvent(event)

    def confirm_discard(self, doing: str) -> bool:
        """Ask before losing unsaved edits (Save / Discard / Cancel) or a training run; a scan or a conversion is
        simply cancelled. True when the caller may go on."""
        training = self.jobs.busy_with("Training")
        if not self.state.dirty and not training:
            return True
        note = "Training is running; it will be cancelled.\n\n" if training else ""
        if not self.state.dirty:
            answer = QMessageBox.question(self, "AudioNet Studio", f"{note}{doing.capitalize()} anyway?",
                                          QMessageBox.Yes | QMessageBox.No, QMessageBox.No)
            return answer == QMessageBox.Yes
        answer = QMessageBox.question(
            self, "AudioNet Studio", f"{note}Save the changes to {self.project.name} before you {doing}?",
            QMessageBox.Save | QMessageBox.Discard | QMessageBox.Cancel, QMessageBox.Save)
        if answer == QMessageBox.Save:
            return self.save_project()
        return answer in (QMessageBox.Discard, QMessageBox.Yes)

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
