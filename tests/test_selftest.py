"""audionet_gui.selftest: the tiny convert -> train -> save -> load -> identify check behind ``--self-test``."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from audionet_gui import selftest
from audionet_gui.core.data.project import Project
from audionet_gui.core.settings import ImageSettings
from tests.tone_dataset import make_tone_dataset

PITCHES = {"low": 300.0, "high": 2000.0}


def _tone_project(root: Path) -> Path:
    make_tone_dataset(root / "train", PITCHES, files_per_class=6, seconds=1.5, seed=1)
    make_tone_dataset(root / "test", PITCHES, files_per_class=2, seconds=1.5, seed=2)
    project = Project(name="tones", test_folder=str(root / "test"),
                      settings=ImageSettings().with_values({"window_s": 1.0, "hop_s": 0.5}))
    for label in PITCHES:
        project.add_class(label, folders=[root / "train" / label])
    return project.save(root / "tones.audionet.json")


def test_a_missing_project_is_a_problem_not_a_crash(tmp_path):
    check = selftest.run_pipeline_check(tmp_path / "nowhere.audionet.json")
    assert not check.ok and "missing" in check.problems[0]


def test_a_failing_training_is_reported_with_its_reason(tmp_path):
    (tmp_path / "empty_a").mkdir()
    (tmp_path / "empty_b").mkdir()
    project = Project(name="empty")
    project.add_class("a", folders=[tmp_path / "empty_a"])
    project.add_class("b", folders=[tmp_path / "empty_b"])
    check = selftest.run_pipeline_check(project.save(tmp_path / "empty.audionet.json"), epochs=1, image_size=(32, 32))
    assert not check.ok and check.problems[0].startswith("training on the demo failed")


@pytest.mark.slow
def test_pipeline_check_trains_saves_loads_and_identifies(tmp_path):
    lines = []
    check = selftest.run_pipeline_check(_tone_project(tmp_path), epochs=1, image_size=(32, 32), log=lines.append)
    assert check.ok, check.problems
    assert check.labels == ["low", "high"] and check.train_windows > 0
    assert Path(check.identified_file).parent.parent == tmp_path / "test"
    assert check.identified_label in {"low", "high", "unknown"}
    assert set(check.stages) == {"convert+train", "load", "identify"}
    assert any(line.startswith("identified ") for line in lines)
    assert not list(tmp_path.glob("**/model.keras"))  # everything it wrote was temporary


@pytest.mark.slow
def test_app_self_test_opens_the_window_and_runs_the_pipeline():
    """``audionet-gui --self-test``: what scripts/build_bundle.sh runs against a build, here from source."""

    root = Path(__file__).resolve().parents[1]
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", TF_CPP_MIN_LOG_LEVEL="2")
    proc = subprocess.run([sys.executable, "-m", "audionet_gui", "--self-test"], capture_output=True, text=True,
                          env=env, cwd=root, timeout=600)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "self-test: ok" in proc.stdout
    assert "self-test: identified" in proc.stdout  # the tiny pipeline ran
