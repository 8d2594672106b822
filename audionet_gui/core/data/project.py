"""A project: the classes a user assembled (folders and loose files), an optional test folder, the
audio-to-image settings (one ``ImageSettings``, core/settings.py), the training settings and the trained
model's path. Saved as one JSON file.

Qt-free, so the app, the tests and any script can build, edit, save and load projects alike. Paths inside the
project file's folder are stored relative to it, so a project folder can be moved or shared as a whole.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import stat
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from audionet_gui.core.base.errors import AudioNetError, BundleError
from audionet_gui.core.base.fsutil import atomic_directory, atomic_write_json
from audionet_gui.core.base.jobs import ProgressTracker, ensure_token
from audionet_gui.core.data.convert import convert_dataset
from audionet_gui.core.data.dataset import BACKGROUND_CLASS, ClassSpec, DatasetSpec, class_sources, scan_dataset
from audionet_gui.core.model.bundle import check_bundle_target
from audionet_gui.core.model.training import TrainConfig
from audionet_gui.core.pipeline import default_workspace, train_from_folders
from audionet_gui.core.settings import DERIVED_FIELDS, ImageSettings, TrainingPlan

PathLike = str | Path

PROJECT_FORMAT = 2  # 2: one "settings" entry instead of "spectrogram" + "window" (format 1 is still read)
PROJECT_SUFFIX = ".audionet.json"
PROJECT_FOLDER_SUFFIX = "_project"  # voices.audionet.json keeps its model in voices_project/model
UNSAVED_DIR = "unsaved"  # <output root>/unsaved/<unique>: the folders of projects not saved yet

# What a new project trains with, unless the user changes it. ``weights``: "imagenet", "none" or a file path.
DEFAULT_TRAINING: dict[str, Any] = {
    "backbone": "inception_v3",
    "weights": "imagenet",
    "epochs": 60,
    "fine_tune": False,
    "seed": 0,
}


class ProjectError(AudioNetError):
    """A project file cannot be read or a project edit makes no sense (the message says which and why)."""


@dataclass
class ProjectClass:
    """One class: a name and where its audio is (whole folders and/or single files)."""

    name: str
    folders: list[str] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    excluded: list[str] = field(default_factory=list)  # files of its folders left out; the files stay on disk

    def sources(self) -> list[str]:
        return [*self.folders, *self.files]


@dataclass
class Project:
    name: str = "Untitled"
    classes: list[ProjectClass] = field(default_factory=list)
    test_folder: str | None = None
    settings: ImageSettings = field(default_factory=ImageSettings)  # how audio becomes images
    training: dict[str, Any] = field(default_factory=lambda: dict(DEFAULT_TRAINING))
    model_path: str | None = None
    workspace: str | None = None  # where converted images and caches go; None = the app's default
    path: Path | None = None  # the file this project was loaded from / saved to (not serialised)
    scratch: Path | None = None  # an unsaved project's own folder, made on first use (not serialised)

    # -- classes -------------------------------------------------------------------------------------------
    @property
    def class_names(self) -> list[str]:
        return [c.name for c in self.classes]

    def get_class(self, name: str) -> ProjectClass:
        for c in self.classes:
            if c.name == name:
                return c
        raise ProjectError(f"There is no class named '{name}'.")

    def unique_name(self, wanted: str) -> str:
        """``wanted``, or ``wanted (2)``, ``wanted (3)``... whichever is free."""
        wanted = wanted.strip() or "class"
        names = set(self.class_names)
        if wanted not in names:
            return wanted
        n = 2
        while f"{wanted} ({n})" in names:
            n += 1
        return f"{wanted} ({n})"

    def add_class(self, name: str, folders: Iterable[PathLike] = (), files: Iterable[PathLike] = ()) -> ProjectClass:
        cls = ProjectClass(self.unique_name(name), [str(Path(f)) for f in folders], [str(Path(f)) for f in files])
        self.classes.append(cls)
        return cls

    def add_paths(self, paths: Iterable[PathLike], into: str | None = None) -> list[str]:
        """Add dropped folders and files. Without ``into``, each folder becomes a class named after it and a
        loose file joins the class named after its parent folder (created if needed). With ``into``, everything
        joins that class. A source already in the project is not added twice. Returns the classes touched."""
        touched: list[str] = []
        present = {os.path.normpath(s) for c in self.classes for s in c.sources()}
        for raw in paths:
            p = Path(raw)
            if os.path.normpath(str(p)) in present:
                continue
            present.add(os.path.normpath(str(p)))
            if into is not None:
                cls = self.get_class(into)
            elif p.is_dir():
                cls = self.add_class(p.name or str(p))
            else:
                parent = p.parent.name or "files"
                cls = next((c for c in self.classes if c.name == parent), None) or self.add_class(parent)
            (cls.folders if p.is_dir() else cls.files).append(str(p))
            if cls.name not in touched:
                touched.append(cls.name)
        return touched

    def rename_class(self, old: str, new: str) -> None:
        new = new.strip()
        if not new:
            raise ProjectError("A class needs a name.")
        if new != old and new in self.class_names:
            raise ProjectError(f"There is already a class named '{new}'.")
        self.get_class(old).name = new

    def remove_class(self, name: str) -> None:
        self.classes.remove(self.get_class(name))

    def merge_classes(self, names: Iterable[str], into: str) -> ProjectClass:
        """Join the folders and files of ``names`` into the class ``into`` (one of them or a new name)."""
        names = list(dict.fromkeys(names))
        if len(names) < 2:
            raise ProjectError("Choose at least two classes to merge.")
        members = [self.get_class(n) for n in names]
        target = next((c for c in members if c.name == into), None)
        if target is None:
            if into in self.class_names:
                raise ProjectError(f"There is already a class named '{into}'.")
            target = members[0]
            target.name = into
        for c in members:
            if c is target:
                continue
            target.folders += [f for f in c.folders if f not in target.folders]
            target.files += [f for f in c.files if f not in target.files]
            target.excluded += [f for f in c.excluded if f not in target.excluded]
            self.classes.remove(c)
        return target

    def exclude_file(self, class_name: str, path: PathLike) -> None:
        """Leave one file out of a class. A project setting: the file on disk is not touched."""
        cls = self.get_class(class_name)
        key = os.path.normpath(str(path))
        loose = [f for f in cls.files if os.path.normpath(f) == key]
        if loose:
            cls.files = [f for f in cls.files if os.path.normpath(f) != key]
        elif key not in {os.path.normpath(f) for f in cls.excluded}:
            cls.excluded.append(str(path))

    def include_file(self, class_name: str, path: PathLike) -> None:
        """Undo ``exclude_file`` for a file of the class's folders."""
        cls = self.get_class(class_name)
        cls.excluded = [f for f in cls.excluded if os.path.normpath(f) != os.path.normpath(str(path))]

    def move_file(self, path: PathLike, from_class: str, to_class: str) -> None:
        """Count a file as ``to_class`` from now on: left out of ``from_class``, added to ``to_class`` as a loose
        file. Only the project changes; the file stays where it is on disk."""
        if from_class == to_class:
            return
        target = self.get_class(to_class)
        self.exclude_file(from_class, path)
        self.include_file(to_class, path)
        if os.path.normpath(str(path)) not in {os.path.normpath(f) for f in target.files}:
            target.files.append(str(path))

    # -- what the core jobs take -----------------------------------------------------------------------------
    def dataset_spec(self):
        """The project's classes as the ``DatasetSpec`` that scanning, conversion and training read."""

        return DatasetSpec(
            classes=[ClassSpec(c.name, [Path(f) for f in c.folders], [Path(f) for f in c.files],
                               [Path(f) for f in c.excluded]) for c in self.classes],
            test_dir=Path(self.test_folder) if self.test_folder else None,
        )

    def train_config(self):
        return TrainConfig.from_dict(self.training)

    def training_plan(self) -> TrainingPlan:
        """Augmented copies and early stopping, from the ``training`` section (ValueError for a bad value)."""
        return TrainingPlan.from_training(self.training)

    def image_settings(self) -> ImageSettings:
        """The settings resolved for the chosen backbone's image size: what training makes and Inspect shows."""

        return self.settings.for_backbone(self.train_config().backbone)

    def folder(self, default_root: PathLike) -> Path:
        """The project's own folder, where its model and its recordings of background noise go.

        A saved project's folder sits beside its file (``voices.audionet.json`` -> ``voices_project/``); an
        unsaved one gets a fresh, unique folder under ``<default_root>/unsaved`` the first time it is asked
        (kept in ``scratch``), so two unsaved projects never share one."""
        if self.path is not None:
            return self.path.parent / f"{self.stem}{PROJECT_FOLDER_SUFFIX}"
        if self.scratch is None:
            self.scratch = new_scratch_folder(default_root, self.stem)
        return self.scratch

    def model_dir(self, default_root: PathLike) -> Path:
        """Where this project's training writes its model: ``<folder>/model`` (never another project's)."""
        return self.folder(default_root) / "model"

    def default_model_dir(self, default_root: PathLike) -> Path:
        """The old name of ``model_dir`` (kept for scripts that call it)."""
        return self.model_dir(default_root)

    @property
    def stem(self) -> str:
        """The project file's name without ``.audionet.json`` (else the project's name), safe as a folder name."""
        stem = self.path.name[: -len(PROJECT_SUFFIX)] if self.path and self.path.name.endswith(PROJECT_SUFFIX) \
            else (self.path.stem if self.path else self.name)
        return "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in stem).strip("._") or "project"

    # -- files ------------------------------------------------------------------------------------------------
    def save(self, path: PathLike | None = None) -> Path:
        """Write the project atomically (to ``path``, else to where it came from)."""
        target = Path(path) if path is not None else self.path
        if target is None:
            raise ProjectError("The project has no file yet: choose where to save it.")
        target = target.absolute()
        atomic_write_json(target, self.to_dict(base=target.parent))
        self.path = target
        return target

    @classmethod
    def load(cls, path: PathLike) -> Project:
        path = Path(path).absolute()
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ProjectError(f"{path}: the project file does not exist.") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ProjectError(f"{path}: cannot read the project file ({exc}).") from None
        except json.JSONDecodeError as exc:
            raise ProjectError(f"{path}: not a project file (broken JSON at line {exc.lineno}).") from None
        project = cls.from_dict(data, base=path.parent, source=path)
        project.path = path
        return project

    def to_dict(self, base: Path | None = None) -> dict[str, Any]:
        rel = (lambda p: _relative(p, base)) if base is not None else (lambda p: p)
        return {
            "format": PROJECT_FORMAT,
            "kind": "audionet-project",
            "name": self.name,
            "classes": [
                {"name": c.name, "folders": [rel(f) for f in c.folders], "files": [rel(f) for f in c.files],
                 "excluded": [rel(f) for f in c.excluded]}
                for c in self.classes
            ],
            "test_folder": rel(self.test_folder) if self.test_folder else None,
            "settings": self.settings.to_dict(),
            "training": _training_paths(self.training, rel),
            "model_path": rel(self.model_path) if self.model_path else None,
            "workspace": rel(self.workspace) if self.workspace else None,
        }

    @classmethod
    def from_dict(cls, data: Any, base: Path | None = None, source: PathLike = "project") -> Project:
        if not isinstance(data, dict) or data.get("kind") != "audionet-project":
            raise ProjectError(f"{source}: not an AudioNet Studio project file.")
        fmt = data.get("format")
        if not isinstance(fmt, int) or fmt > PROJECT_FORMAT:
            raise ProjectError(
                f"{source}: written by a newer AudioNet Studio (project format {fmt}); update the app to open it."
            )
        ab = (lambda p: _absolute(p, base)) if base is not None else (lambda p: p)
        try:
            classes = [
                ProjectClass(str(c["name"]), [ab(f) for f in c.get("folders", [])], [ab(f) for f in c.get("files", [])],
                             [ab(f) for f in c.get("excluded", [])])
                for c in data.get("classes", [])
            ]
        except (KeyError, TypeError):
            raise ProjectError(f"{source}: the list of classes is damaged.") from None
        training = dict(DEFAULT_TRAINING)
        training.update(data.get("training") or {})
        training = _training_paths(training, ab)
        settings = _read_settings(data, training.pop("image_size", None), source)
        try:
            TrainingPlan.from_training(training)  # a bad value is named on opening, not minutes into training
        except (TypeError, ValueError) as exc:
            raise ProjectError(f"{source}: bad training settings ({exc}).") from None
        return cls(
            name=str(data.get("name") or "Untitled"),
            classes=classes,
            test_folder=ab(data["test_folder"]) if data.get("test_folder") else None,
            settings=settings,
            training=training,
            model_path=ab(data["model_path"]) if data.get("model_path") else None,
            workspace=ab(data["workspace"]) if data.get("workspace") else None,
        )


def _read_settings(data: dict[str, Any], training_image_size: Any, source: PathLike) -> ImageSettings:
    """The ``settings`` entry, or (format 1) the ``spectrogram`` and ``window`` entries with the image size of
    the training settings; format 1's spectrogram image size was always replaced by the backbone's, so it is
    not read."""
    try:
        if "settings" in data:
            settings = ImageSettings.from_dict(data["settings"])
        else:
            spectrogram = {k: v for k, v in (data.get("spectrogram") or {}).items() if k not in DERIVED_FIELDS}
            settings = ImageSettings.from_dict({"spectrogram": spectrogram, "window": data.get("window") or {}})
        if settings.image_size is None and training_image_size is not None:
            size = training_image_size
            settings = settings.with_image_size(*((size, size) if isinstance(size, int) else size))
    except (TypeError, ValueError, AttributeError) as exc:
        raise ProjectError(f"{source}: bad audio settings ({exc}).") from None
    return settings


def _training_paths(training: dict[str, Any], convert) -> dict[str, Any]:
    """The weights setting is a keyword or a file path; only a path is made relative/absolute."""
    out = dict(training)
    weights = out.get("weights")
    if isinstance(weights, str) and weights not in ("imagenet", "none", ""):
        out["weights"] = convert(weights)
    return out


def _relative(p: str, base: Path) -> str:
    """``p`` relative to ``base`` (POSIX separators) when it lies inside it, else absolute."""
    absolute = Path(p) if Path(p).is_absolute() else (Path.cwd() / p)
    try:
        return absolute.resolve().relative_to(base.resolve()).as_posix() or "."
    except ValueError:
        return str(absolute)


def _absolute(p: str, base: Path) -> str:
    path = Path(p)
    return str(path if path.is_absolute() else (base / path))


@dataclass
class ProjectScan:
    """A scan of a project's data: the core's report plus the files of each class (for the clip list)."""

    report: Any  # core.dataset.DatasetReport
    files: dict[str, list[str]]


def scan_project(project: Project, progress=None, cancel=None) -> ProjectScan:
    """Scan the project's classes (a long job: ``progress`` and ``cancel`` as every core job)."""

    spec = project.dataset_spec()
    report = scan_dataset(spec, progress=progress, cancel=cancel, window=project.settings.window)
    files = {c.name: [str(s.path) for s in class_sources(c)] for c in spec.classes}
    return ProjectScan(report, files)


def convert_project(project: Project, progress=None, cancel=None):
    """Make the window images training will use (same workspace as ``train_project``), nothing more."""

    spec = project.dataset_spec()
    settings = project.image_settings()
    workspace = Path(project.workspace) if project.workspace else default_workspace(spec)
    return convert_dataset(spec, workspace, settings.spectrogram, settings.window, progress=progress, cancel=cancel)


def train_project(project: Project, out_dir: PathLike, progress=None, cancel=None):
    """Convert, train, test and save the model bundle in ``out_dir`` (core.pipeline.train_from_folders)."""

    train_cfg = project.train_config()
    return train_from_folders(project.dataset_spec(), out_dir, settings=project.settings,
                              train_cfg=train_cfg, workspace=project.workspace or None,
                              progress=progress, cancel=cancel,
                              augment=project.training_plan().augment_plan(train_cfg.seed))


def copy_model_folder(src: PathLike, dst: PathLike, progress=None, cancel=None, replace: bool = False) -> Path:
    """Copy a model folder to ``dst`` atomically: ``dst`` is the old folder or the complete new one, never half.

    ``dst`` must be new, empty or a model folder (``check_bundle_target``) unless ``replace`` (the user said so).
    Only the model folder's own regular files are copied: a link inside it (``notes.txt -> /etc/shadow``) is
    never followed, nor a pipe or a device read."""

    src, dst = Path(src), Path(dst)
    if not src.is_dir():
        raise ProjectError(f"{src}: the model folder does not exist.")
    if dst.resolve() == src.resolve():
        return dst
    if not replace:
        try:
            check_bundle_target(dst)
        except BundleError as exc:
            raise ProjectError(f"The model was not saved: {exc}") from None
    cancel = ensure_token(cancel)
    files = _own_regular_files(src)
    tracker = ProgressTracker(progress, "saving", len(files))
    with atomic_directory(dst) as tmp:
        for f in files:
            cancel.raise_if_cancelled()
            target = tmp / f.relative_to(src)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(f, target, follow_symlinks=False)
            tracker.advance(message=f.name)
    return dst


def _own_regular_files(folder: Path) -> list[Path]:
    """The regular files under ``folder``, not through links (os.walk does not descend into linked folders)."""
    out = []
    for dirpath, _dirnames, filenames in os.walk(folder, followlinks=False):
        for name in sorted(filenames):
            path = Path(dirpath) / name
            with contextlib.suppress(OSError):
                if stat.S_ISREG(os.lstat(path).st_mode):
                    out.append(path)
    return out


def add_background_class(project: Project, default_root: PathLike) -> ProjectClass:
    """Give the project a background-noise class with a folder to record into (returns it if it exists):
    beside the first class folder when that place is writable, else in the project's own folder."""
    for c in project.classes:
        if c.name == BACKGROUND_CLASS and c.folders:
            return c
    candidates = [Path(c.folders[0]).parent for c in project.classes if c.folders]
    candidates.append(project.folder(default_root))
    for base in candidates:
        folder = base / BACKGROUND_CLASS
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError:
            continue
        if os.access(folder, os.W_OK):
            existing = next((c for c in project.classes if c.name == BACKGROUND_CLASS), None)
            if existing is not None:
                existing.folders.append(str(folder))
                return existing
            cls = ProjectClass(BACKGROUND_CLASS, [str(folder)], [])
            project.classes.append(cls)
            return cls
    raise ProjectError("No writable place was found for a background-noise folder.")


def writable_copy(project_file: PathLike, dest: PathLike) -> Path:
    """The project file of a copy of ``project_file``'s folder under ``dest``, made once.

    For the bundled demo: it sits inside the app (read-only when installed, and never the user's to change),
    but recording a sample or saving writes into the project's folders; those go to the copy instead.
    """

    project_file, dest = Path(project_file), Path(dest)
    copied = dest / project_file.name
    if not copied.is_file():
        with atomic_directory(dest) as tmp:
            shutil.copytree(project_file.parent, tmp, dirs_exist_ok=True)
    return copied


def new_scratch_folder(default_root: PathLike, stem: str = "Untitled") -> Path:
    """Make and return a folder no other project uses: ``<default_root>/unsaved/<stem>-<time>-<n>``."""
    base = Path(default_root) / UNSAVED_DIR
    base.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    for n in range(1, 10_000):
        folder = base / f"{stem}-{stamp}-{n}"
        try:
            folder.mkdir()
        except FileExistsError:
            continue
        return folder
    raise ProjectError(f"{base}: no free folder name for a new project.")


def move_model_on_save(project: Project, target: PathLike, default_root: PathLike) -> Path | None:
    """Before ``project`` is saved as ``target``: copy its own model (the one in its current folder) into the
    folder of the project at ``target`` and return the new model path (None: nothing to move).

    Copy, then switch: the new folder is complete before the caller points the project at it, and the old
    model stays where it was (a saved project's file still points to it). A model the project merely refers to
    (opened from elsewhere) is not the project's to move."""
    if not project.model_path or (project.path is None and project.scratch is None):
        return None  # no model, or an unsaved project that never had a folder (so no model of its own)
    current = Path(project.model_path)
    own = project.model_dir(default_root)
    if not current.is_dir() or _resolved(current) != _resolved(own):
        return None
    saved = Project(name=project.name, path=Path(target).absolute())
    destination = saved.model_dir(default_root)
    if _resolved(destination) == _resolved(current):
        return None
    try:
        check_bundle_target(destination)  # a folder of the user's own by that name is never replaced
    except BundleError as exc:
        raise ProjectError(f"The model cannot move with the project: {exc}") from None
    copy_model_folder(current, destination)
    return destination


def _resolved(p: Path) -> Path:
    try:
        return p.resolve()
    except OSError:
        return p.absolute()
