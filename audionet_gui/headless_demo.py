"""The demo on a machine without a screen (``bash scripts/demo.sh`` over SSH, a server, a container): instead of
a window nobody can see, do the demo's main job and say what happened.

    python -m audionet_gui --demo --headless [--out DIR]

It trains the bundled demo (six FSDD speakers), identifies the demo conversation, prints who speaks when, saves a
screenshot of the window showing that answer, and says where the model and the screenshot are and how to see the
window on a machine with a screen. The model is written into the demo project's own folder (the copy the app
opens), so the app shows it when the demo is opened there later.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QSettings, qInstallMessageHandler
from PySide6.QtWidgets import QApplication

from audionet_gui.core.base.jobs import Progress
from audionet_gui.core.base.words import count
from audionet_gui.core.data.project import Project, train_project, writable_copy
from audionet_gui.core.model.predict import identify_file
from audionet_gui.resources import demo_conversation_path, demo_project_path
from audionet_gui.ui.state import ModelInfo
from audionet_gui.ui.window.main_window import MainWindow, default_output_root

SEE_THE_WINDOW = ("To see the window, run `bash scripts/demo.sh` (or `.venv/bin/python -m audionet_gui --demo`) on "
                  "a machine with a screen; from another computer, `ssh -X` or a remote desktop gives it one.")


def has_screen() -> bool:
    """A display Qt can open a window on (X11 or Wayland), or an explicit offscreen/other platform choice."""
    if sys.platform in ("win32", "darwin"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY") or os.environ.get("QT_QPA_PLATFORM"))


@dataclass
class DemoRun:
    project_file: Path
    model_dir: Path
    screenshot: Path
    segments: list[tuple[float, float, str, float]]
    summary: list[str]


def who_spoke_when(prediction) -> list[str]:
    """One line per segment of a ``FilePrediction``'s timeline: "  0.0 –   2.5 s  george (93 %)"."""
    return [f"{s.start_s:6.1f} – {s.end_s:6.1f} s  {s.label} ({100 * float(s.p):.0f} %)" for s in prediction.timeline]


class _ProgressPrinter:
    """A line per stage and per epoch: enough to see it work, not a flood."""

    def __init__(self, log: Callable[[str], None]):
        self.log, self.stage, self.epoch = log, None, None

    def __call__(self, p: Progress) -> None:
        if p.stage != self.stage:
            self.stage = p.stage
            self.log(f"  {p.stage.replace('_', ' ')}…")
        epoch = (p.extra or {}).get("epoch")
        if epoch is not None and epoch != self.epoch:
            self.epoch = epoch
            acc, val = p.extra.get("accuracy"), p.extra.get("val_accuracy")
            figures = ", ".join(f"{name} {100 * float(v):.0f} %" for name, v in (("accuracy", acc),
                                                                                ("validation", val))
                                if v is not None and v == v)
            self.log(f"    epoch {int(epoch)}{'/' + str(p.total) if p.total else ''}: {figures}")


def run_headless_demo(out_root: Path, log: Callable[[str], None] = print, epochs: int | None = None,
                      image_size: tuple[int, int] | None = None) -> DemoRun:
    """Train the demo in ``out_root``/demo, identify its conversation, screenshot the window. ``epochs`` and
    ``image_size`` make it quicker (tests); by default the demo's own settings."""
    out_root = Path(out_root)
    project_file = writable_copy(demo_project_path(), out_root / "demo")
    project = Project.load(project_file)
    if epochs is not None:
        project.training = {**project.training, "epochs": int(epochs)}
    if image_size is not None:
        project.settings = project.settings.with_image_size(*image_size)
    model_dir = project.model_dir(out_root)
    log(f"AudioNet Studio demo without a screen: training on {count(len(project.classes), 'speaker')} "
        f"({', '.join(project.class_names)})")
    t0 = time.monotonic()
    report = train_project(project, model_dir, progress=_ProgressPrinter(log))
    log(f"  trained in {time.monotonic() - t0:.0f} s")
    summary = report.summary_lines()
    for line in summary[2:5]:
        log(f"  {line}")
    project.model_path = str(report.bundle_path)
    project.save(project_file)

    conversation = demo_conversation_path()
    log(f"Who speaks when in {conversation.name}:")
    prediction = identify_file(report.bundle_path, conversation, top_k=5)
    for line in who_spoke_when(prediction):
        log(f"  {line}")
    screenshot = out_root / "demo-identify.png"
    _screenshot(project, report.bundle_path, prediction, screenshot)
    log(f"Model:      {report.bundle_path}")
    log(f"Screenshot: {screenshot} (the Identify page with this answer)")
    log(f"Project:    {project_file} (File > Open Project… shows it with its model)")
    log(SEE_THE_WINDOW)
    segments = [(s.start_s, s.end_s, s.label, float(s.p)) for s in prediction.timeline]
    return DemoRun(project_file, Path(report.bundle_path), screenshot, segments, summary)


def _screenshot(project: Project, model_dir, prediction, path: Path) -> None:
    """The window as it would show this answer (an offscreen window; the user's settings are not touched)."""
    app = QApplication.instance() or QApplication([sys.argv[0]])  # __main__ made it offscreen
    previous = qInstallMessageHandler(_quiet_offscreen)
    settings_dir = Path(tempfile.mkdtemp(prefix="audionet-demo-"))
    try:
        window = MainWindow(QSettings(str(settings_dir / "settings.ini"), QSettings.IniFormat),
                            output_root=settings_dir / "projects")
        window.resize(1240, 760)
        window.show()
        window.set_project(project, scan=False)
        window.state.set_model(ModelInfo.read(model_dir))
        window.go_to("Identify")
        window.identify_panel.show_prediction(prediction)
        for _ in range(20):
            app.processEvents()
            time.sleep(0.02)
        path.parent.mkdir(parents=True, exist_ok=True)
        window.grab().save(str(path))
        window._dirty = False
        window.close()
        window.deleteLater()
        app.processEvents()
    finally:
        qInstallMessageHandler(previous)
        shutil.rmtree(settings_dir, ignore_errors=True)


def _quiet_offscreen(_mode, _context, message: str) -> None:
    """The offscreen platform's notes (e.g. "does not support propagateSizeHints()") are not the user's business."""
    if "propagateSizeHints" not in message:
        print(message, file=sys.stderr)


def main(out_root: str | Path | None, log: Callable[[str], None] = print) -> int:
    """Called by ``python -m audionet_gui --demo --headless`` once the (offscreen) application exists."""
    root = Path(out_root) if out_root else default_output_root()
    try:
        run_headless_demo(root, log=lambda line: log(line) or sys.stdout.flush())
    except Exception as exc:  # a headless run reports what went wrong in one line, not a traceback
        print(f"demo: failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    return 0

