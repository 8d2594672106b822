"""The window's one data/training job at a time: start it in a ``JobRunner``, show its progress in the job bar,
its outcome in the log (a fatal error in a dialog), and let it be cancelled.

A plain object the window owns; it knows the window only as the view it reports to (``job_bar``, ``log``,
``train_panel``), so it imports nothing of the window's.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtWidgets import QMessageBox

from audionet_gui.qt.job_runner import JobFailure, JobRunner
from audionet_gui.ui.dialogs.error_dialogs import show_fatal


class JobController:
    def __init__(self, view: Any):
        self.view = view
        self.job: JobRunner | None = None
        self.on_done: list[Callable[[], None]] = []  # called after every job, once its thread stopped
        # doing -> handler of a failure; True when it dealt with it (else the fatal-error dialog)
        self.failure_handlers: dict[str, Callable[[JobFailure], bool]] = {}

    def run(self, fn: Callable, *args, title: str, on_finished: Callable[[Any], None],
            on_progress: Callable | None = None, doing: str = "The job", staged: bool = False,
            on_ended: Callable[[str], None] | None = None, **kwargs) -> JobRunner | None:
        """``staged``: a job of several stages (its time left is the current stage's); ``on_ended(outcome)``:
        called when it was cancelled or failed."""
        if self.busy():
            QMessageBox.information(self.view, "Busy", "Another job is running. Wait for it or cancel it first.")
            return None
        v = self.view
        runner = JobRunner(fn, *args, parent=v, name=title, **kwargs)
        runner.progress.connect(v.job_bar.show_progress)
        if on_progress:
            runner.progress.connect(on_progress)
        runner.finished.connect(on_finished)
        runner.finished.connect(lambda _r: v.job_bar.set_idle(f"{title}: done"))
        runner.failed.connect(lambda f: self._on_failed(doing, f))
        runner.cancelled.connect(lambda: self._on_cancelled(title))
        if on_ended is not None:
            runner.failed.connect(lambda _f: on_ended("failed"))
            runner.cancelled.connect(lambda: on_ended("cancelled"))
        runner.done.connect(self._on_done)
        self.job = runner
        v.job_bar.set_running(title, staged)
        v.train_panel.set_running(True)
        runner.start()
        return runner

    def busy(self) -> bool:
        """A job is running and has not reported its outcome (its thread may still be winding down after)."""
        return self.job is not None and self.job.outcome is None and self.job.is_running()

    def busy_with(self, title: str) -> bool:
        return self.busy() and self.job.name == title

    def cancel(self) -> None:
        if self.job is not None and self.job.is_running():
            self.job.cancel()

    def shutdown(self, timeout_ms: int = 30000) -> None:
        if self.job is not None and self.job.is_running():
            self.job.cancel()
            self.job.wait(timeout_ms)  # a job stops at its next check

    def _on_failed(self, doing: str, failure: JobFailure) -> None:
        self.view.job_bar.set_idle(f"{doing} stopped")
        self.view.log.add("error", failure.message)
        handler = self.failure_handlers.get(doing)
        if handler is not None and handler(failure):
            return
        show_fatal(self.view, doing, failure.exception, failure.traceback)

    def _on_cancelled(self, title: str) -> None:
        self.view.job_bar.set_idle(f"{title}: cancelled")
        self.view.log.add("info", f"{title}: cancelled. Finished work is kept; nothing half-written was left.")

    def _on_done(self) -> None:
        self.view.train_panel.set_running(False)
        for callback in list(self.on_done):
            callback()
