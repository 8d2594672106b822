"""Saliency for the Inspect page: when its "Why?" toggle is on, the selected window is explained by the open
model in a child process (loading TensorFlow and the model never stalls the window; a newer window replaces an
older request) and the map is handed back to the page to draw.

A plain object the window owns; it knows the window only as the view it reports to.
"""

from __future__ import annotations

from typing import Any

from audionet_gui.core.model.explain import explain_at
from audionet_gui.qt.job_runner import JobSlot
from audionet_gui.ui.state import AppState


class ExplainController:
    def __init__(self, view: Any, state: AppState, inspector: Any):
        self.view, self.state, self.inspector = view, state, inspector
        self.slot = JobSlot(parent=view, name="Explaining", process=True)
        self.slot.finished.connect(inspector.show_saliency)
        self.slot.failed.connect(lambda f: view.statusBar().showMessage(f"No saliency: {f.message}", 8000))
        inspector.explain_requested.connect(self.explain)

    def explain(self, path: str, start_s: float) -> None:
        model = self.state.model
        if model is None:
            self.view.statusBar().showMessage("Saliency needs a model: train one or open a model folder.", 8000)
            return
        self.view.statusBar().showMessage("Finding where the model looks…", 3000)
        self.slot.start(explain_at, model.path, path, start_s)

    def shutdown(self) -> None:
        self.slot.shutdown()
