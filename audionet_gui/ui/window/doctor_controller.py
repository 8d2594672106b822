"""The dataset doctor on the open project: runs ``doctor_project`` in a child process (its own job slot, so a
check never blocks a scan or a training run and a newer check replaces an older one), shows the findings in the
Data page's doctor view, and applies its fixes as project edits (the files themselves are never touched).

A plain object the window owns; it knows the window only as the view it reports to.
"""

from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import Any

from audionet_gui.core.data.doctor.project_job import doctor_project
from audionet_gui.qt.job_runner import JobSlot
from audionet_gui.ui.state import AppState


class DoctorController:
    def __init__(self, view: Any, state: AppState, projects: Any, widget: Any):
        self.view, self.state, self.projects, self.widget = view, state, projects, widget
        self.slot = JobSlot(parent=view, name="Checking the data", process=True)
        self.slot.progress.connect(widget.show_progress)
        self.slot.finished.connect(lambda r: widget.set_findings(r.findings, r.files, r.seconds))
        self.slot.failed.connect(lambda f: widget.show_message(f"The check stopped: {f.message}"))
        self.slot.cancelled.connect(lambda: widget.show_message("Check cancelled."))
        self.slot.busy_changed.connect(widget.set_running)
        widget.run_requested.connect(self.start)
        widget.cancel_requested.connect(self.slot.cancel)
        widget.exclude_requested.connect(self.exclude)
        widget.move_requested.connect(self.move)
        widget.include_requested.connect(self.include)
        widget.file_activated.connect(view.inspect_file)
        state.project_changed.connect(self._on_project_changed)
        state.project_edited.connect(lambda *_: self._show_project())
        self._show_project()

    def start(self, judge_labels: bool = False) -> None:
        if not self.state.project.classes:
            self.widget.show_message("Add class folders first.")
            return
        self.slot.start(doctor_project, copy.deepcopy(self.state.project), judge_labels)

    def exclude(self, class_name: str, path: str) -> None:
        done: list[bool] = []
        self.projects.edit_project(lambda p: (p.exclude_file(class_name, path), done.append(True)))
        if done:  # a refused edit (no such class) was explained by edit_project and changed nothing
            self.widget.remove_path(path)
            self.view.log.add("info", f"Left {Path(path).name} out of '{class_name}' (the file is untouched).")

    def move(self, path: str, from_class: str, to_class: str) -> None:
        done: list[bool] = []
        self.projects.edit_project(lambda p: (p.move_file(path, from_class, to_class), done.append(True)))
        if done:
            self.widget.remove_path(path)
            self.view.log.add("info", f"{Path(path).name} now counts as '{to_class}' (the file stays where it is).")

    def include(self, class_name: str, path: str) -> None:
        """Take a left-out file back into its class; a file moved to another class is moved back."""
        moved_to = self._moved_to(class_name, path)
        done: list[bool] = []
        if moved_to is not None:
            self.projects.edit_project(lambda p: (p.move_file(path, moved_to, class_name), done.append(True)))
        else:
            self.projects.edit_project(lambda p: (p.include_file(class_name, path), done.append(True)))
        if done:
            back = f" (no longer counted as '{moved_to}')" if moved_to else ""
            self.view.log.add("info", f"{Path(path).name} is in '{class_name}' again{back}.")

    def _moved_to(self, class_name: str, path: str) -> str | None:
        key = os.path.normpath(path)
        return next((c.name for c in self.state.project.classes if c.name != class_name
                     and key in {os.path.normpath(f) for f in c.files}), None)

    def _show_project(self) -> None:
        project = self.state.project
        self.widget.set_classes(project.class_names)
        self.widget.set_excluded([(c.name, f, self._moved_to(c.name, f)) for c in project.classes for f in c.excluded])

    def shutdown(self) -> None:
        self.slot.shutdown()

    def _on_project_changed(self, *_args) -> None:
        self.slot.cancel()
        self.widget.clear()
        self._show_project()
