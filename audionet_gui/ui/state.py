"""The app's state, with one owner: the open project, its scan, its model (path, labels, metrics and training
history) and the loaded model bundle. Pages subscribe to the change signals and read the state from here; they
keep no copies of it. (napari's evented models are the pattern: a change is made here and announced once.)

Signals (each emitted once per change, after the state holds the new value):

* ``project_changed(project)``: a different project (New, Open, the demo). Everything else changed with it, so
  no ``scan_changed``/``model_changed``/``bundle_changed`` follows: every subscriber re-reads the whole state.
* ``project_edited(project)``: the same project's classes or settings were edited.
* ``dirty_changed(bool)``: the project has (or no longer has) unsaved changes.
* ``scan_changed(scan)``: the project's files were checked (or the check was dropped: None).
* ``model_changed(model)``: the project's model is another one (``ModelInfo`` or None).
* ``bundle_changed(bundle)``: the project's model is loaded (``ModelBundle``) or unloaded (None).
* ``bundle_failed(message)``: loading the model failed.

The model is loaded by one loader, here (``request_bundle``), in the background; Identify and Live both use it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal

from audionet_gui.core.data.project import Project
from audionet_gui.core.model.bundle import load_bundle
from audionet_gui.qt.job_runner import JobFailure, JobRunner


@dataclass(frozen=True)
class ModelInfo:
    """What the pages show about a model without loading it: its folder, classes, metrics (with the training
    history) and the confidence under which its answer is 'unknown'."""

    path: str
    labels: tuple[str, ...]
    metrics: dict = field(default_factory=dict, compare=False)
    threshold: float | None = None

    @classmethod
    def from_metrics(cls, path: str | Path, metrics: dict, labels) -> ModelInfo:
        threshold = metrics.get("unknown_threshold")
        return cls(str(path), tuple(labels), dict(metrics), float(threshold) if threshold is not None else None)

    @classmethod
    def from_bundle(cls, bundle) -> ModelInfo:
        """From a ``ModelBundle`` (loaded or ``load_model=False``)."""
        metrics = getattr(bundle, "metrics", None) or {}
        return cls(str(bundle.path), tuple(bundle.labels), dict(metrics), float(bundle.unknown_threshold))

    @classmethod
    def read(cls, path: str | Path) -> ModelInfo:
        """The model folder's JSON files only (quick, no TensorFlow); raises what ``load_bundle`` raises."""
        return cls.from_bundle(load_bundle(path, load_model=False))

    @property
    def backbone(self) -> str:
        return str((self.metrics.get("backbone") or {}).get("name", ""))

    @property
    def history(self) -> Any:
        return self.metrics.get("history")

    @property
    def name(self) -> str:
        return Path(self.path).name

    def description(self) -> str:
        return f"Model: {self.name} ({', '.join(self.labels)})"


class AppState(QObject):
    project_changed = Signal(object)
    project_edited = Signal(object)
    dirty_changed = Signal(bool)
    scan_changed = Signal(object)
    model_changed = Signal(object)
    bundle_changed = Signal(object)
    bundle_failed = Signal(str)

    def __init__(self, output_root: str | Path | None = None, parent: QObject | None = None):
        super().__init__(parent)
        self.output_root = Path(output_root) if output_root is not None else None
        self._project = Project()
        self._scan = None
        self._model: ModelInfo | None = None
        self._bundle = None
        self._dirty = False
        self._loader: JobRunner | None = None
        self._loading: str | None = None  # the model path the loader is loading

    # -- reading ---------------------------------------------------------------------------------------------------
    @property
    def project(self) -> Project:
        return self._project

    @property
    def scan(self):
        """The ``ProjectScan`` of the project's files, or None (not checked yet, or being checked)."""
        return self._scan

    @property
    def model(self) -> ModelInfo | None:
        return self._model

    @property
    def bundle(self):
        """The loaded ``ModelBundle`` of ``model``, or None (not loaded yet)."""
        return self._bundle

    @property
    def dirty(self) -> bool:
        return self._dirty

    def model_dir(self) -> Path:
        """Where the project's training writes its model: the project's own folder (see ``Project.folder``)."""
        if self.output_root is None:
            raise RuntimeError("AppState has no output root for project folders.")
        return self._project.model_dir(self.output_root)

    # -- changing --------------------------------------------------------------------------------------------------
    def set_project(self, project: Project, model: ModelInfo | None = None) -> None:
        """Another project (and its model, if it has one): one change, one ``project_changed``."""
        self._project = project
        self._scan = None
        self._model = model
        self._bundle = None
        self._loading = None
        was_dirty, self._dirty = self._dirty, False
        self.project_changed.emit(project)
        if was_dirty:
            self.dirty_changed.emit(False)

    def edited(self) -> None:
        """The project was changed in place (classes, settings, model path): announce it and mark it unsaved."""
        self.set_dirty(True)
        self.project_edited.emit(self._project)

    def set_dirty(self, dirty: bool) -> None:
        dirty = bool(dirty)
        if dirty != self._dirty:
            self._dirty = dirty
            self.dirty_changed.emit(dirty)

    def set_scan(self, scan) -> None:
        if scan is self._scan:
            return
        self._scan = scan
        self.scan_changed.emit(scan)

    def set_model(self, model: ModelInfo | None, adopt: bool = False, reload: bool = False) -> None:
        """Show ``model`` as the project's model; ``adopt``: the project now uses it (its model path changes and
        the project is marked unsaved). A different model path unloads the bundle, as ``reload`` does (a model
        trained again into the same folder)."""
        if adopt:
            path = model.path if model is not None else None
            if path != self._project.model_path:
                self._project.model_path = path
                self.set_dirty(True)
        same_path = (model and model.path) == (self._model and self._model.path)
        self._model = model
        self.model_changed.emit(model)
        if reload or not same_path:
            self._loading = None
            self._set_bundle(None)

    def set_bundle(self, bundle) -> None:
        """A loaded bundle (e.g. a page given one in a test); a bundle of another model makes it the model."""
        if bundle is not None and (self._model is None or str(bundle.path) != self._model.path):
            self._model = ModelInfo.from_bundle(bundle)
            self.model_changed.emit(self._model)
        self._set_bundle(bundle)

    def _set_bundle(self, bundle) -> None:
        if bundle is self._bundle:
            return
        self._bundle = bundle
        self.bundle_changed.emit(bundle)

    def request_bundle(self):
        """The loaded bundle of the current model if there is one; else start loading it in the background (once,
        however often asked) and return None: ``bundle_changed`` or ``bundle_failed`` follows."""
        if self._bundle is not None or self._model is None:
            return self._bundle
        path = self._model.path
        if self._loading == path and self._loader is not None and self._loader.is_running():
            return None
        self._loading = path
        loader = JobRunner(load_bundle, path, parent=self, name="Loading the model")
        loader.finished.connect(lambda bundle, p=path: self._on_loaded(p, bundle))
        loader.failed.connect(lambda failure, p=path: self._on_load_failed(p, failure))
        self._loader = loader
        loader.start()
        return None

    def loading(self) -> bool:
        return self._loading is not None and self._loader is not None and self._loader.is_running()

    def _on_loaded(self, path: str, bundle) -> None:
        if self._model is None or path != self._model.path or self._loading != path:
            return  # the model changed while it loaded
        self._loading = None
        self._set_bundle(bundle)

    def _on_load_failed(self, path: str, failure: JobFailure) -> None:
        if self._model is None or path != self._model.path or self._loading != path:
            return
        self._loading = None
        self.bundle_failed.emit(failure.message)

    def shutdown(self, timeout_ms: int = 30000) -> None:
        """Wait for a model still loading (its thread cannot be interrupted); call before the app quits."""
        if self._loader is not None and self._loader.is_running():
            self._loader.cancel()
            self._loader.wait(timeout_ms)
