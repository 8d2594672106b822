"""The feature map of the open model: runs ``feature_map`` (core/model/featmap.py) in a child process (its own job
slot: loading TensorFlow and the model never stalls the window, and never waits for a training run) when the
Feature map page asks, and hands the map to the page. A map of a model that is no longer the open one is dropped.

A plain object the window owns; it knows the window only as the view it reports to.
"""

from __future__ import annotations

from typing import Any

from audionet_gui.core.model.featmap import feature_map
from audionet_gui.qt.job_runner import JobSlot
from audionet_gui.ui.state import AppState


class FeatureMapController:
    def __init__(self, view: Any, state: AppState, page: Any):
        self.view, self.state, self.page = view, state, page
        self.slot = JobSlot(parent=view, name="Mapping features", process=True)
        self.slot.progress.connect(page.show_progress)
        self.slot.finished.connect(self._on_finished)
        self.slot.failed.connect(lambda f: page.show_message(f"No feature map: {f.message}"))
        self.slot.cancelled.connect(lambda: page.show_message("Cancelled. Show the page again or press Map again."))
        self.slot.busy_changed.connect(page.set_running)
        page.map_requested.connect(self.start)
        page.cancel_requested.connect(self.slot.cancel)
        state.project_changed.connect(lambda *_: self.slot.cancel())
        state.model_changed.connect(lambda *_: self.slot.cancel())

    def start(self, again: bool = False) -> None:
        model = self.state.model
        if model is None:
            return
        self.slot.start(feature_map, model.path, use_cache=not again)

    def _on_finished(self, fmap) -> None:
        model = self.state.model
        if model is not None and str(fmap.model) == model.path:
            self.page.set_map(fmap)

    def shutdown(self) -> None:
        self.slot.shutdown()
