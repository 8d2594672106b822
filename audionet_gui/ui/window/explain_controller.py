"""Saliency for the Inspect and Identify pages: when a page's "Why?" toggle is on, its window (Inspect: the
selected one; Identify: the one the answer is surest about) is explained by the open model in a child process
(loading TensorFlow and the model never stalls the window; a newer window replaces an older request) and the map
is handed back to the page to draw.

A plain object the window owns; it knows the window only as the view it reports to.
"""

from __future__ import annotations

from typing import Any

from audionet_gui.core.model.explain import explain_at
from audionet_gui.qt.job_runner import JobSlot
from audionet_gui.ui.state import AppState


class ExplainController:
    def __init__(self, view: Any, state: AppState, inspector: Any, identify: Any = None):
        self.view, self.state, self.inspector = view, state, inspector
        self.slot = self._slot_for(inspector)  # each page its own slot: one page's request never drops the other's
        self.identify_slot = self._slot_for(identify) if identify is not None else None

    def _slot_for(self, page: Any) -> JobSlot:
        slot = JobSlot(parent=self.view, name="Explaining", process=True)
        slot.finished.connect(page.show_saliency)
        slot.failed.connect(lambda f: self.view.statusBar().showMessage(f"No saliency: {f.message}", 8000))
        page.explain_requested.connect(lambda path, start, s=slot: self.explain(path, start, s))
        return slot

    def explain(self, path: str, start_s: float, slot: JobSlot | None = None) -> None:
        model = self.state.model
        if model is None:
            self.view.statusBar().showMessage("Saliency needs a model: train one or open a model folder.", 8000)
            return
        self.view.statusBar().showMessage("Finding where the model looks…", 3000)
        (slot or self.slot).start(explain_at, model.path, path, start_s)

    def shutdown(self) -> None:
        self.slot.shutdown()
        if self.identify_slot is not None:
            self.identify_slot.shutdown()
