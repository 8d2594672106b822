"""Fast checks of the packaging files (the bundle itself is built and smoke-tested by scripts/build_bundle.sh,
never by the test suite): build.spec runs against stand-in PyInstaller targets, the desktop entry and icons are
valid, the frozen entry point finds bundled resources and dispatches to the app or the CLI."""

from __future__ import annotations

import ast
import configparser
import ctypes.util
import shutil
import subprocess
import sys
import types
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from PIL import Image

import audionet_gui
from audionet_gui import frozen, resources
from audionet_gui.cli.entry import COMMANDS

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "build.spec"
DESKTOP = ROOT / "resources" / "audionet.desktop"
ICONS = ROOT / "resources" / "icons"


class _Target:
    """Records what build.spec passes to a PyInstaller target (Analysis, PYZ, EXE, COLLECT)."""

    def __init__(self, *args, **kwargs):
        self.args, self.kwargs = args, kwargs
        self.pure, self.scripts, self.datas = [], [], []
        self.binaries = [("libstdc++.so.6", "/usr/lib/libstdc++.so.6", "BINARY"),
                         ("libgcc_s.so.1", "/usr/lib/libgcc_s.so.1", "BINARY"),
                         ("PySide6/Qt/lib/libQt6Core.so.6", "/venv/libQt6Core.so.6", "BINARY")]


@pytest.fixture(scope="module")
def spec(tmp_path_factory):
    """build.spec executed as PyInstaller would, with targets that record their arguments instead of building."""
    pytest.importorskip("PyInstaller")
    dist = tmp_path_factory.mktemp("dist")
    (dist / "AudioNetStudio").mkdir()
    made = {}

    def target(kind):
        def make(*args, **kwargs):
            made.setdefault(kind, []).append(_Target(*args, **kwargs))
            return made[kind][-1]
        return make

    namespace = {"SPECPATH": str(ROOT), "DISTPATH": str(dist), "__file__": str(SPEC),
                 **{kind: target(kind) for kind in ("Analysis", "PYZ", "EXE", "COLLECT")}}
    exec(compile(SPEC.read_text(encoding="utf-8"), str(SPEC), "exec"), namespace)
    return types.SimpleNamespace(ns=namespace, made=made, dist=dist)


def test_spec_is_python_and_has_one_analysis_exe_and_collect(spec):
    ast.parse(SPEC.read_text(encoding="utf-8"))
    assert [len(spec.made[k]) for k in ("Analysis", "EXE", "COLLECT")] == [1, 1, 1]
    exe = spec.made["EXE"][0]
    assert exe.kwargs["name"] == "AudioNetStudio" and exe.kwargs["exclude_binaries"] is True
    assert spec.made["COLLECT"][0].kwargs["name"] == "AudioNetStudio"


def test_spec_leaves_the_cpp_runtime_to_the_system(spec):
    collected = [entry[0] for entry in spec.made["COLLECT"][0].args[1]]
    assert collected == ["PySide6/Qt/lib/libQt6Core.so.6"]


def test_spec_entry_script_and_resources_exist(spec):
    analysis = spec.made["Analysis"][0]
    (entry,) = analysis.args[0]
    assert Path(entry) == ROOT / "audionet_gui" / "frozen.py" and Path(entry).is_file()
    datas = dict((Path(src), dst) for src, dst in analysis.kwargs["datas"])
    assert datas[ROOT / "resources"] == "resources"
    assert (ROOT / "resources" / "demo" / resources.DEMO_PROJECT_FILE).is_file()
    assert (ICONS / "audionet.svg").is_file()


def test_spec_ships_the_data_files_that_libraries_read_at_import(spec):
    """pyroomacoustics opens data/materials.json when it is imported (the bundle's `audionet train` failed on it)."""
    datas = [(Path(src), dst) for src, dst in spec.made["Analysis"][0].kwargs["datas"]]
    assert any(src.name == "materials.json" and dst.replace("\\", "/") == "pyroomacoustics/data" for src, dst in datas)


def test_spec_ships_our_sources_for_autograph(spec):
    assert spec.made["Analysis"][0].kwargs["module_collection_mode"] == {"audionet_gui": "pyz+py"}


def test_spec_collects_every_command_the_cli_imports_by_name(spec):
    hidden = set(spec.made["Analysis"][0].kwargs["hiddenimports"])
    available = {name for name in COMMANDS if (ROOT / "audionet_gui" / "cli" / f"{name}.py").is_file()}
    assert available and {f"audionet_gui.cli.{name}" for name in available} <= hidden
    assert {"audionet_gui.selftest", "audionet_gui.__main__", "audionet_gui.cli.entry"} <= hidden


def test_spec_excludes_unused_packages_but_keeps_what_the_app_needs(spec):
    excludes = set(spec.made["Analysis"][0].kwargs["excludes"])
    assert {"matplotlib", "IPython", "tkinter", "pandas", "pyqtgraph.examples", "pytest"} <= excludes
    # the feature map's t-SNE: scikit-learn and what its import needs
    assert not {"sklearn", "scipy", "joblib", "threadpoolctl"} & excludes
    # Keras keeps a model's weights as HDF5 inside model.keras, and ImageNet weight files are .h5.
    assert "h5py" not in excludes
    for needed in ("tensorflow", "keras", "PySide6", "pyqtgraph", "numpy", "soundfile", "soxr", "PIL"):
        assert needed not in excludes
    app_imports = spec.ns["imported_top_level_names"](ROOT / "audionet_gui")
    assert not {name for name in excludes if "." not in name} & app_imports


def test_spec_drops_the_librosa_stack_exactly_when_no_module_imports_librosa(spec):
    excludes = set(spec.made["Analysis"][0].kwargs["excludes"])
    stack = set(spec.ns["LIBROSA_STACK"])
    if "librosa" in spec.ns["APP_IMPORTS"]:
        assert not stack & excludes
    else:
        assert {"librosa", "numba", "llvmlite"} <= excludes
    # scipy stays while pyroomacoustics (which imports it) is used, else it goes with the librosa stack
    assert ("scipy" in excludes) == ("pyroomacoustics" not in spec.ns["APP_IMPORTS"] and "librosa" not in
                                     spec.ns["APP_IMPORTS"])


def test_import_scan_sees_lazy_imports_inside_functions(spec, tmp_path):
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "a.py").write_text("import os.path\ndef f():\n    import librosa\n    from scipy import signal\n"
                              "from . import b\n")
    assert spec.ns["imported_top_level_names"](pkg) == {"os", "librosa", "scipy"}


def test_spec_writes_an_executable_cli_wrapper_that_calls_the_app_with_cli(spec):
    wrapper = spec.dist / "AudioNetStudio" / "audionet"
    text = wrapper.read_text()
    assert text.startswith("#!/bin/sh") and '--cli "$@"' in text
    assert wrapper.stat().st_mode & 0o111
    if shutil.which("sh"):
        subprocess.run(["sh", "-n", str(wrapper)], check=True)


def test_build_script_is_valid_bash():
    script = ROOT / "scripts" / "build_bundle.sh"
    assert script.stat().st_mode & 0o111
    subprocess.run(["bash", "-n", str(script)], check=True)


# ---------------------------------------------------------------------------------------- desktop entry, icons

def _desktop_entry() -> dict:
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # keys are case-sensitive
    parser.read(DESKTOP, encoding="utf-8")
    return dict(parser["Desktop Entry"])


def test_desktop_entry_has_the_required_keys():
    entry = _desktop_entry()
    assert entry["Type"] == "Application" and entry["Name"] == "AudioNet Studio"
    assert entry["Exec"].split()[0] == "AudioNetStudio"  # the bundle's executable
    assert entry["Icon"] == "audionet" and (ICONS / "audionet.png").is_file()
    assert entry["Terminal"] == "false"
    assert entry["Categories"].endswith(";") and "Audio" in entry["Categories"].split(";")


@pytest.mark.skipif(not shutil.which("desktop-file-validate"), reason="desktop-file-utils not installed")
def test_desktop_entry_passes_desktop_file_validate():
    result = subprocess.run(["desktop-file-validate", str(DESKTOP)], capture_output=True, text=True)
    assert result.returncode == 0 and "error" not in result.stdout + result.stderr, result.stdout + result.stderr


def test_icons_are_a_valid_svg_and_a_256_px_png():
    root = ET.parse(ICONS / "audionet.svg").getroot()
    assert root.tag.endswith("svg") and root.get("viewBox") == "0 0 256 256"
    with Image.open(ICONS / "audionet.png") as png:
        assert png.format == "PNG" and png.size == (256, 256) and png.mode == "RGBA"
        assert png.getpixel((128, 128))[3] == 255 and png.getpixel((0, 0))[3] == 0  # opaque tile, round corners


# ----------------------------------------------------------------------------------------- frozen entry point

@pytest.fixture
def as_bundle(monkeypatch, tmp_path):
    """Pretend to run frozen from a bundle unpacked at tmp_path (a copy of resources/ in _internal)."""
    internal = tmp_path / "unpacked" / "_internal"
    shutil.copytree(ROOT / "resources" / "icons", internal / "resources" / "icons")
    (internal / "resources" / "demo").mkdir()
    (internal / "resources" / "demo" / resources.DEMO_PROJECT_FILE).write_text("{}")
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "_MEIPASS", str(internal), raising=False)
    # set, then delete: monkeypatch only restores variables it saw, and the code under test sets this one
    monkeypatch.setenv("AUDIONET_RESOURCES", "")
    monkeypatch.delenv("AUDIONET_RESOURCES")
    return internal


def test_frozen_app_finds_resources_wherever_it_is_unpacked(as_bundle, monkeypatch):
    frozen.point_at_bundled_resources()
    assert resources.resources_dir() == as_bundle / "resources"
    assert resources.icon_path("audionet.svg").is_file()
    assert resources.demo_project_path().is_file()


def test_a_resources_folder_the_user_chose_wins(as_bundle, monkeypatch, tmp_path):
    monkeypatch.setenv("AUDIONET_RESOURCES", str(tmp_path / "mine"))
    frozen.point_at_bundled_resources()
    assert resources.resources_dir() == tmp_path / "mine"


def test_not_frozen_leaves_the_environment_alone(monkeypatch):
    monkeypatch.setenv("AUDIONET_RESOURCES", "")
    monkeypatch.delenv("AUDIONET_RESOURCES")
    monkeypatch.delattr(sys, "_MEIPASS", raising=False)
    frozen.point_at_bundled_resources()
    assert "AUDIONET_RESOURCES" not in __import__("os").environ
    assert resources.resources_dir() == ROOT / "resources"


def test_bundled_portaudio_is_offered_only_when_the_system_has_none(as_bundle, monkeypatch):
    (as_bundle / "libportaudio.so.2").write_bytes(b"")
    system = {"portaudio": None, "sndfile": "libsndfile.so.1"}
    monkeypatch.setattr(ctypes.util, "find_library", lambda name: system.get(name))
    monkeypatch.setattr(sys, "platform", "linux")
    frozen.use_bundled_portaudio_if_missing()
    assert ctypes.util.find_library("portaudio") == str(as_bundle / "libportaudio.so.2")
    assert ctypes.util.find_library("sndfile") == "libsndfile.so.1"
    assert ctypes.util.find_library("jack") is None

    system["portaudio"] = "libportaudio.so.2"  # installed on the system: that one wins
    assert ctypes.util.find_library("portaudio") == "libportaudio.so.2"


def test_no_bundled_portaudio_changes_nothing(as_bundle, monkeypatch):
    def system_find(name):
        return None

    monkeypatch.setattr(ctypes.util, "find_library", system_find)
    frozen.use_bundled_portaudio_if_missing()
    assert ctypes.util.find_library is system_find


def test_cli_is_chosen_by_flag_or_executable_name():
    assert frozen.wants_cli("/opt/AudioNetStudio/AudioNetStudio", ["--cli", "train"])
    assert frozen.wants_cli("/usr/local/bin/audionet", ["train"])
    assert not frozen.wants_cli("/opt/AudioNetStudio/AudioNetStudio", ["--self-test"])
    assert not frozen.wants_cli("/opt/AudioNetStudio/AudioNetStudio", [])


def test_cli_flag_reaches_the_cli(capsys):
    with pytest.raises(SystemExit) as exc:
        frozen.main(["AudioNetStudio", "--cli", "--version"])
    assert exc.value.code == 0 and capsys.readouterr().out.startswith("audionet ")


def test_the_bundle_runs_the_apps_own_main(monkeypatch):
    calls = []
    app_main = types.ModuleType("audionet_gui.__main__")
    app_main.main = lambda args: calls.append(args) or 0

    monkeypatch.setitem(sys.modules, "audionet_gui.__main__", app_main)
    monkeypatch.setattr(audionet_gui, "__main__", app_main, raising=False)
    assert frozen.run_gui(["--self-test"]) == 0
    assert calls == [["--self-test"]]
