"""The README's demo command on a machine without a screen (issue 11, point 9): instead of a window nobody sees,
the demo's main job, headless, and what it wrote."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from PIL import Image

from audionet_gui import __main__ as app_main
from audionet_gui import headless_demo
from audionet_gui.core.data.project import Project
from audionet_gui.resources import demo_class_names
from tests.ui.window.test_project_storage import fake_train_project

ROOT = Path(__file__).resolve().parent.parent


def test_without_a_screen_the_demo_command_runs_headless(monkeypatch):
    ran = []
    monkeypatch.setattr(headless_demo, "main", lambda out: ran.append(out) or 0)
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(app_main.sys, "platform", "linux")
    monkeypatch.setattr(headless_demo.sys, "platform", "linux")
    assert not headless_demo.has_screen()
    assert app_main.main(["--demo", "--out", "/tmp/somewhere"]) == 0
    assert ran == ["/tmp/somewhere"]
    monkeypatch.setenv("DISPLAY", ":0")
    assert headless_demo.has_screen()
    assert app_main.main(["--demo", "--headless"]) == 0 and ran[-1] is None  # asked for explicitly


def test_demo_script_uses_the_headless_run_without_a_screen():
    script = (ROOT / "scripts" / "demo.sh").read_text()
    assert "--demo --headless" in script and "xvfb-run" not in script
    result = subprocess.run(["bash", "-n", str(ROOT / "scripts" / "demo.sh")], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_the_headless_demo_trains_identifies_prints_and_screenshots(qtbot, tmp_path, monkeypatch):
    """Training is the stand-in of the GUI tests (a tiny untrained bundle); identifying the conversation and the
    screenshot are real."""
    monkeypatch.setattr(headless_demo, "train_project", fake_train_project)
    lines = []
    run = headless_demo.run_headless_demo(tmp_path, log=lines.append)
    text = "\n".join(lines)
    assert "training on 6 speakers" in text and "Who speaks when in conversation.wav:" in text
    assert run.segments and all(label in set(demo_class_names()) | {"unknown", "no speech", "silence"}
                                for _s, _e, label, _p in run.segments)
    assert f"Model:      {run.model_dir}" in text and f"Screenshot: {run.screenshot}" in text
    assert headless_demo.SEE_THE_WINDOW in text and "machine with a screen" in text
    with Image.open(run.screenshot) as shot:
        assert shot.size[0] >= 1000 and len(shot.getcolors(1 << 16) or []) > 20  # a window, not a blank image
    # the app opens the demo's copy with the model it trained
    assert Project.load(run.project_file).model_path == str(run.model_dir)


@pytest.mark.slow
def test_the_headless_demo_really_trains(tmp_path):
    lines = []
    run = headless_demo.run_headless_demo(tmp_path, log=lines.append, epochs=1, image_size=(32, 32))
    assert run.model_dir.is_dir() and run.screenshot.is_file() and run.segments
    assert any("epoch 1/" in line for line in lines)
