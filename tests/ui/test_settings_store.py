"""SettingsStore: each remembered choice has its key and default in one module, and survives a restart."""

from __future__ import annotations

import re
from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings

from audionet_gui.ui import settings_store
from audionet_gui.ui.settings_store import MAX_RECENT, SettingsStore, apply_remembered_weights


def store_at(path: Path) -> SettingsStore:
    return SettingsStore(QSettings(str(path), QSettings.IniFormat))


def test_defaults_then_values_survive_a_restart(tmp_path):
    s = store_at(tmp_path / "s.ini")
    assert s.theme == "system" and s.last_dir == str(Path.home()) and not s.first_run_done
    assert s.live_device == "" and s.record_seconds == 3.0 and s.recent_projects() == [] and s.weights_files() == {}
    assert s.window_geometry() == (None, None)
    s.theme, s.last_dir, s.first_run_done, s.live_device, s.record_seconds = "dark", tmp_path, True, "usb:2", 4.5
    s.remember_weights_file("mobilenet_v2", "/w/m.h5")
    s.remember_window(QByteArray(b"geo"), QByteArray(b"state"))
    for i in range(MAX_RECENT + 2):
        s.remember_recent(f"/p/{i}.audionet.json")
    s.remember_recent("/p/3.audionet.json")
    s.sync()
    t = store_at(tmp_path / "s.ini")
    assert t.theme == "dark" and t.last_dir == str(tmp_path) and t.first_run_done is True
    assert t.live_device == "usb:2" and t.record_seconds == 4.5
    assert t.weights_file("mobilenet_v2") == "/w/m.h5" and t.weights_file("inception_v3") is None
    assert t.window_geometry() == (QByteArray(b"geo"), QByteArray(b"state"))
    recent = t.recent_projects()
    assert len(recent) == MAX_RECENT and recent[0] == "/p/3.audionet.json" and recent.count("/p/3.audionet.json") == 1


def test_one_recent_project_comes_back_as_a_list(tmp_path):
    s = store_at(tmp_path / "s.ini")
    s.remember_recent("/p/only.audionet.json")
    s.sync()
    assert store_at(tmp_path / "s.ini").recent_projects() == ["/p/only.audionet.json"]


def test_a_remembered_weights_file_replaces_imagenet_only_if_it_is_there(tmp_path):
    s = store_at(tmp_path / "s.ini")
    weights = tmp_path / "w.h5"
    s.remember_weights_file("inception_v3", str(weights))
    training = {"backbone": "inception_v3", "weights": "imagenet"}
    assert not apply_remembered_weights(training, s) and training["weights"] == "imagenet"  # the file is gone
    weights.write_bytes(b"x")
    assert apply_remembered_weights(training, s) and training["weights"] == str(weights)
    other = {"backbone": "inception_v3", "weights": "none"}
    assert not apply_remembered_weights(other, s) and other["weights"] == "none"  # the user's own choice stays


def test_no_settings_key_is_spelled_outside_the_store():
    root = Path(settings_store.__file__).parents[1]
    keys = [k.name for k in settings_store.ALL_KEYS] + [settings_store.WEIGHTS_GROUP + "/"]
    for path in root.rglob("*.py"):
        if path.name == "settings_store.py":
            continue
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"(?i)settings\(?\)?\.(value|setValue)\(\s*f?[\"']", text), f"{path}: a settings key"
        for key in keys:
            assert f'"{key}' not in text, f"{path}: spells the settings key {key!r}"
