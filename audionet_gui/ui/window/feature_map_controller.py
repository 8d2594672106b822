"""The feature map of the open model: runs ``feature_map`` (core/model/featmap.py) in a child process (its own job
slot: loading TensorFlow and the model never stalls the window, and never waits for a training run) and hands the
map to the Feature map page. A map of a model that is no longer the open one is dropped.

The map is asked for as soon as a model becomes the project's (trained, opened, or with the project), not when the
page is first shown. A model trained here comes with its map kept (training made it: a file read, about 1 s); any
other model's first map needs TensorFlow, the model and t-SNE in a fresh process (14.9 s on the demo on a quiet
machine), so waiting for the click would make the user wait. Later maps of the same model are read from the cache.

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
        self._path: str | None = None  # the model the running (or last) job maps
        state.project_changed.connect(lambda *_: self._prefetch())
        state.model_changed.connect(lambda *_: self._prefetch())

    def start(self, again: bool = False) -> None:
        model = self.state.model
        if model is None:
            return
        if not again and self.slot.is_busy() and self._path == model.path:
            return  # already being made (made ahead, see above): let it finish
        self._path = model.path
        self.slot.start(feature_map, model.path, use_cache=not again)

    def _prefetch(self) -> None:
        if self.state.model is None:
            self.slot.cancel()
            self._path = None
        else:
            self.start()

    def _on_finished(self, fmap) -> None:
        model = self.state.model
        if model is not None and str(fmap.model) == model.path:
            self.page.set_map(fmap)

    def shutdown(self) -> None:
        self.slot.shutdown()
