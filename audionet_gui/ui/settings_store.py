"""Every choice the app remembers between runs, with its QSettings key and its default, in one place.

``SettingsStore`` wraps one ``QSettings`` (the user's, or a file for tests and the self-test); nothing else in
the app spells a key. Per-project choices live in the project file, not here.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import QByteArray, QSettings


@dataclass(frozen=True)
class Key:
    name: str  # the QSettings key
    default: Any
    type: type | None = None  # what QSettings should convert the stored value to (INI files store text)


THEME = Key("theme", "system", str)
LAST_DIR = Key("last_dir", "", str)  # "" = the home folder
RECENT_PROJECTS = Key("recent_projects", [])
WINDOW_GEOMETRY = Key("window/geometry", None)
WINDOW_STATE = Key("window/state", None)
LIVE_DEVICE = Key("live/device", "", str)  # "" = the system's default input
RECORD_SECONDS = Key("live/record_seconds", 3.0, float)
FIRST_RUN_DONE = Key("first_run_done", False, bool)
WEIGHTS_GROUP = "weights"  # weights/<backbone> = the weights file the user chose for that network
MAX_RECENT = 8

ALL_KEYS = (THEME, LAST_DIR, RECENT_PROJECTS, WINDOW_GEOMETRY, WINDOW_STATE, LIVE_DEVICE, RECORD_SECONDS,
            FIRST_RUN_DONE)


class SettingsStore:
    def __init__(self, qsettings: QSettings | None = None):
        self.qsettings = qsettings if qsettings is not None else QSettings()

    # -- any key --------------------------------------------------------------------------------------------------
    def get(self, key: Key) -> Any:
        if key.type is None:
            value = self.qsettings.value(key.name, key.default)
        else:
            try:
                value = self.qsettings.value(key.name, key.default, type=key.type)
            except (TypeError, ValueError):  # a hand-edited value of the wrong type: the default
                value = key.default
        return key.default if value is None else value

    def set(self, key: Key, value: Any) -> None:
        self.qsettings.setValue(key.name, value)

    def sync(self) -> None:
        self.qsettings.sync()

    # -- named choices ---------------------------------------------------------------------------------------------
    @property
    def theme(self) -> str:
        return str(self.get(THEME) or THEME.default)

    @theme.setter
    def theme(self, name: str) -> None:
        self.set(THEME, name)

    @property
    def last_dir(self) -> str:
        return str(self.get(LAST_DIR) or Path.home())

    @last_dir.setter
    def last_dir(self, folder: str | Path) -> None:
        self.set(LAST_DIR, str(folder))

    @property
    def first_run_done(self) -> bool:
        return bool(self.get(FIRST_RUN_DONE))

    @first_run_done.setter
    def first_run_done(self, done: bool) -> None:
        self.set(FIRST_RUN_DONE, bool(done))

    @property
    def live_device(self) -> str:
        return str(self.get(LIVE_DEVICE) or LIVE_DEVICE.default)

    @live_device.setter
    def live_device(self, key: str | None) -> None:
        self.set(LIVE_DEVICE, key or LIVE_DEVICE.default)

    @property
    def record_seconds(self) -> float:
        return float(self.get(RECORD_SECONDS))

    @record_seconds.setter
    def record_seconds(self, seconds: float) -> None:
        self.set(RECORD_SECONDS, float(seconds))

    def recent_projects(self) -> list[str]:
        value = self.get(RECENT_PROJECTS)
        if isinstance(value, str):  # QSettings gives a one-item list back as a plain string
            value = [value]
        return [str(v) for v in (value or []) if v]

    def remember_recent(self, path: str | Path) -> list[str]:
        recent = [str(path)] + [p for p in self.recent_projects() if p != str(path)]
        self.set(RECENT_PROJECTS, recent[:MAX_RECENT])
        return recent[:MAX_RECENT]

    def weights_files(self) -> dict[str, str]:
        """backbone -> the weights file the user chose for it."""
        self.qsettings.beginGroup(WEIGHTS_GROUP)
        try:
            return {k: str(self.qsettings.value(k)) for k in self.qsettings.childKeys()}
        finally:
            self.qsettings.endGroup()

    def weights_file(self, backbone: str) -> str | None:
        return self.weights_files().get(backbone) or None

    def remember_weights_file(self, backbone: str, path: str) -> None:
        self.qsettings.setValue(f"{WEIGHTS_GROUP}/{backbone}", str(path))

    def window_geometry(self) -> tuple[QByteArray | None, QByteArray | None]:
        return self.get(WINDOW_GEOMETRY), self.get(WINDOW_STATE)

    def remember_window(self, geometry: QByteArray, state: QByteArray) -> None:
        self.set(WINDOW_GEOMETRY, geometry)
        self.set(WINDOW_STATE, state)


def as_store(settings: SettingsStore | QSettings | None) -> SettingsStore:
    """A store for ``settings`` (a page built alone in a test may be given a bare QSettings)."""
    return settings if isinstance(settings, SettingsStore) else SettingsStore(settings)


def apply_remembered_weights(training: dict[str, Any], store: SettingsStore) -> bool:
    """A new project's network starts from the weights file the user chose for it before (instead of ImageNet,
    which may not download), if that file is still there; True when it did."""
    if training.get("weights") != "imagenet":
        return False
    path = store.weights_file(str(training.get("backbone")))
    if not path or not Path(path).is_file():
        return False
    training["weights"] = path
    return True
