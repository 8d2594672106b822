"""AppState: one signal per change (a new project is one change), and one loader for the model that every
asker shares."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from audionet_gui.core.data.project import Project
from audionet_gui.ui.state import AppState, ModelInfo
from tests.tiny_models import write_bundle

SIGNALS = ("project_changed", "project_edited", "dirty_changed", "scan_changed", "model_changed", "bundle_changed",
           "bundle_failed")


class Recorder:
    def __init__(self, state: AppState):
        self.events: list[tuple[str, object]] = []
        for name in SIGNALS:
            getattr(state, name).connect(lambda value, n=name: self.events.append((n, value)))

    def take(self) -> list[str]:
        names = [n for n, _ in self.events]
        self.events.clear()
        return names


@pytest.fixture
def state(qtbot, tmp_path):
    s = AppState(tmp_path / "out")
    yield s
    s.shutdown()


def test_each_change_is_announced_once(state):
    seen = Recorder(state)
    project = Project(name="a")
    state.set_project(project)
    assert seen.take() == ["project_changed"] and state.project is project
    state.edited()
    assert seen.take() == ["dirty_changed", "project_edited"] and state.dirty
    state.edited()
    assert seen.take() == ["project_edited"]  # still unsaved: no second dirty_changed
    scan = object()
    state.set_scan(scan)
    state.set_scan(scan)
    assert seen.take() == ["scan_changed"]
    model = ModelInfo("/m/one", ("a", "b"), {"test": {"accuracy": 1.0}}, 0.4)
    state.set_model(model, adopt=True)
    assert seen.take() == ["model_changed"] and project.model_path == "/m/one"
    bundle = SimpleNamespace(path="/m/one", labels=["a", "b"], unknown_threshold=0.4)
    state.set_bundle(bundle)
    assert seen.take() == ["bundle_changed"]  # the same model: no model_changed
    state.set_bundle(bundle)
    assert seen.take() == []
    state.set_model(ModelInfo("/m/two", ("c",)))
    assert seen.take() == ["model_changed", "bundle_changed"] and state.bundle is None
    # a new project is one change: the scan, model and bundle go with it, with no signals of their own
    state.set_bundle(SimpleNamespace(path="/m/two", labels=["c"], unknown_threshold=0.5))
    seen.take()
    state.set_project(Project(name="b"))
    assert seen.take() == ["project_changed", "dirty_changed"]
    assert state.scan is None and state.model is None and state.bundle is None and not state.dirty
    state.set_project(Project(name="c"))
    assert seen.take() == ["project_changed"]


def test_a_bundle_of_another_model_becomes_the_model(state):
    seen = Recorder(state)
    state.set_bundle(SimpleNamespace(path="/m/x", labels=["p", "q"], unknown_threshold=0.7))
    assert seen.take() == ["model_changed", "bundle_changed"]
    assert state.model.path == "/m/x" and state.model.labels == ("p", "q") and state.model.threshold == 0.7


def test_one_loader_for_everyone(qtbot, state, tmp_path):
    path = write_bundle(tmp_path / "model", labels=("a", "b"))
    state.set_model(ModelInfo.read(path))
    assert state.model.labels == ("a", "b")
    seen = Recorder(state)
    assert state.request_bundle() is None  # loading in the background
    assert state.request_bundle() is None  # asked again while it loads: the same load
    loader = state._loader
    with qtbot.waitSignal(state.bundle_changed, timeout=60000):
        pass
    assert state._loader is loader
    assert seen.take() == ["bundle_changed"]
    assert state.bundle is not None and str(state.bundle.path) == str(path)
    assert state.request_bundle() is state.bundle  # loaded: no new load
    assert state._loader is loader


def test_a_model_that_cannot_load_is_reported(qtbot, state, tmp_path):
    broken = tmp_path / "broken"
    broken.mkdir()
    state.set_model(ModelInfo(str(broken), ("a",)))
    with qtbot.waitSignal(state.bundle_failed, timeout=60000) as blocker:
        state.request_bundle()
    assert str(broken) in blocker.args[0] or "model" in blocker.args[0].lower()
    assert state.bundle is None


def test_a_load_finished_after_the_model_changed_is_dropped(qtbot, state, tmp_path):
    path = write_bundle(tmp_path / "model", labels=("a", "b"))
    state.set_model(ModelInfo.read(path))
    state.request_bundle()
    loader = state._loader
    state.set_project(Project(name="other"))
    qtbot.waitUntil(lambda: not loader.is_running(), timeout=60000)
    qtbot.wait(50)
    assert state.bundle is None and state.model is None
