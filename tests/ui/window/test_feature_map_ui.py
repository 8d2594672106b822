"""The Feature map page: a model's windows as points (computed off the GUI process when the page is shown), a
hover names the file and time, and a click opens that window on the Inspect page and plays it."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPoint, Qt

from audionet_gui.core.data.convert.manifest import load_manifest, write_manifest
from audionet_gui.core.model.bundle import load_bundle
from audionet_gui.core.model.featmap import FeatureMap
from audionet_gui.ui.pages.feature_map_panel import FeatureMapPanel
from audionet_gui.ui.state import ModelInfo
from tests.audio_factory import write
from tests.tiny_models import voice_bundle_with_workspace
from tests.tone_dataset import SR, tone_clip

VOICES = {"anna": 300.0, "ben": 800.0, "yolanda": 2500.0}


def screen_point(panel: FeatureMapPanel, i: int) -> QPoint:
    """Where point ``i`` is drawn on the plot's viewport."""
    vb = panel.plot.getPlotItem().getViewBox()
    return panel.plot.mapFromScene(vb.mapViewToScene(pg.Point(*map(float, panel.fmap.xy[i]))))


def small_map() -> FeatureMap:
    xy = np.array([[0, 0], [1, 0], [5, 5], [6, 5], [0, 5]], np.float32)
    return FeatureMap("m", ["a", "b"], xy, ["/x/a1.wav", "/x/a1.wav", "/x/b1.wav", "/x/b2.wav", "/x/a2.wav"],
                      np.array([0.0, 0.5, 0.0, 1.0, 2.5]), np.array([1.0, 1.5, 1.0, 2.0, 3.5]),
                      np.array([0, 0, 1, 1, 0]), np.array([0, 0, 1, 1, 1]), np.full(5, 0.9, np.float32),
                      ["train"] * 5, np.array([False, False, False, False, True]))


def test_the_page_draws_each_point_and_a_click_asks_for_its_window(qtbot):
    panel = FeatureMapPanel()
    qtbot.addWidget(panel)
    panel.resize(700, 500)
    panel.show()
    panel.set_map(small_map())
    qtbot.wait(50)
    classes = [s for s in panel._scatters if s.opts["hoverable"]]
    assert sorted(len(s.data) for s in classes) == [2, 3]
    marks = {s.opts["name"]: len(s.data) for s in panel._scatters if not s.opts["hoverable"]}
    assert marks == {"named wrongly (1 window)": 1, "its file sounds like another class (1 window)": 1}
    assert "5 windows of 4 files, 1 window named wrongly, 0 files" in panel.status.text()
    requested = []
    panel.window_requested.connect(lambda path, start: requested.append((path, start)))
    pos = screen_point(panel, 3)
    qtbot.mouseMove(panel.plot.viewport(), pos)
    qtbot.waitUntil(lambda: "b2.wav" in panel.readout.text(), timeout=3000)
    assert "1.00–2.00 s" in panel.readout.text() and "class b" in panel.readout.text()
    qtbot.mouseClick(panel.plot.viewport(), Qt.LeftButton, pos=pos)
    assert requested == [("/x/b2.wav", 1.0)]
    # the cross over the wrongly named point does not swallow the click
    qtbot.mouseClick(panel.plot.viewport(), Qt.LeftButton, pos=screen_point(panel, 4))
    assert requested[-1] == ("/x/a2.wav", 2.5)


def test_the_status_says_where_a_kept_map_came_from(qtbot):
    panel = FeatureMapPanel()
    qtbot.addWidget(panel)
    panel.set_map(replace(small_map(), cached=True, made_by="training"))
    assert panel.status.text().endswith("(made when the model was trained).")
    panel.set_map(replace(small_map(), cached=True))
    assert panel.status.text().endswith("(kept from the last time).")
    panel.set_map(small_map())
    assert "made when" not in panel.status.text() and "kept" not in panel.status.text()


def test_the_map_of_the_open_model_opens_a_clicked_window_in_inspect_and_plays_it(qtbot, window, tmp_path,
                                                                                  monkeypatch):
    model = voice_bundle_with_workspace(tmp_path / "m", VOICES, list(VOICES))
    rng = np.random.default_rng(3)
    rows = load_manifest(tmp_path / "m" / "ws")
    audio = {src: write(tmp_path / "audio" / src, tone_clip(VOICES[src.split("_")[0]], 2.0, rng), SR)
             for src in sorted({r.source for r in rows})}
    write_manifest(tmp_path / "m" / "ws", [replace(r, source=str(audio[r.source])) for r in rows])
    played = []
    monkeypatch.setattr(window.inspector, "play", lambda window_only=False: played.append(window_only) or True)
    failures = []
    window.mapper.slot.failed.connect(lambda f: failures.append(f.message))

    window.state.set_model(ModelInfo.read(model))
    window._on_audio_settings(load_bundle(model, load_model=False).settings)  # as the project that trained it
    window.go_to("Feature map")  # showing the page asks for the map; a child process makes it
    page = window.feature_map
    qtbot.waitUntil(lambda: page.fmap is not None or bool(failures), timeout=240000)
    assert not failures, failures
    assert len(page.fmap) == len(rows)
    assert sum(len(s.data) for s in page._scatters if s.opts["hoverable"]) == len(rows)
    qtbot.wait(50)
    requested = []
    page.window_requested.connect(lambda p, s: requested.append((p, s)))
    i = int(np.flatnonzero(page.fmap.starts > 0)[0])
    pos = screen_point(page, i)
    qtbot.mouseMove(page.plot.viewport(), pos)
    qtbot.mouseClick(page.plot.viewport(), Qt.LeftButton, pos=pos)
    # windows of one tone have the same features, so points may lie on top of each other: any under the cursor
    under = {(page.fmap.files[j], float(page.fmap.starts[j])) for j in range(len(page.fmap))
             if max(abs((screen_point(page, j) - pos).x()), abs((screen_point(page, j) - pos).y())) <= 7}
    assert len(requested) == 1 and requested[0] in under
    path, start = requested[0]
    assert window.current_page() == "Inspect"
    inspector = window.inspector
    qtbot.waitUntil(lambda: bool(played), timeout=20000)
    assert inspector.inspection.path == path and played == [True]
    assert abs(inspector.inspection.windows[inspector.window_index].start_s - start) < 1e-6
    # another model: the old map goes
    window.state.set_model(None)
    assert page.fmap is None and not page._scatters
