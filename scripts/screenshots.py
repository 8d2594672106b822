"""Render the app's main views and save them as PNGs in docs/screenshots/.

Run under a virtual screen (what a person would see, real window manager-less X server):

    xvfb-run -a -s "-screen 0 1280x800x24" .venv/bin/python scripts/screenshots.py

It follows a first run: the empty pages of a new project (what each says to do next), Help > Getting started,
then the bundled demo as the app opens it on the very first start, trained with small_cnn (10 to 15 minutes on
2 cores), its Results and Feature map, and the demo conversation identified with the Identify page's "Try the
demo conversation" button; each page is grabbed on the way. Settings, caches and the model go to a temporary
folder, so the user's own settings are untouched. ``--theme dark`` renders the dark theme; ``--out DIR`` writes
elsewhere.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from PySide6.QtCore import QSettings

from audionet_gui.__main__ import create_app
from audionet_gui.ui.theme import apply_theme
from audionet_gui.ui.window.main_window import MainWindow

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def wait_until(app, predicate, timeout_s: float, what: str) -> None:
    end = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > end:
            raise SystemExit(f"screenshots: timed out waiting for {what}")
        app.processEvents()
        time.sleep(0.01)


def settle(app, seconds: float = 0.4) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.01)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "docs" / "screenshots"))
    parser.add_argument("--theme", default="light", choices=("light", "dark"))
    parser.add_argument("--no-train", action="store_true", help="skip training (data pages only)")
    parser.add_argument("--epochs", type=int, help="at most this many epochs (a quicker run on a busy machine; "
                                                    "default: the demo's own setting)")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="audionet-shots-"))
    os.environ.setdefault("AUDIONET_CACHE_DIR", str(tmp / "cache"))
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

    app = create_app()
    apply_theme(app, args.theme)
    settings = QSettings(str(tmp / "settings.ini"), QSettings.IniFormat)
    window = MainWindow(settings, output_root=tmp / "projects")
    window.resize(1240, 760)
    window.show()
    suffix = "" if args.theme == "light" else "-dark"

    def shot(name: str, widget=None) -> None:
        settle(app)
        path = out / f"{name}{suffix}.png"
        (widget or window).grab().save(str(path))
        print(f"screenshots: wrote {path}")

    window.warm_up()  # as the app does at start
    window.go_to("Data")
    shot("empty-data")  # a new project: what to do first
    for page in ("Inspect", "Train", "Results", "Identify"):
        window.go_to(page)
        shot(f"empty-{page.lower()}")
    dialog = window.getting_started_dialog()
    dialog.show()
    shot("getting-started", dialog)
    dialog.close()
    window.go_to("Data")
    window.open_demo()
    wait_until(app, lambda: window.scan is not None, 60, "the demo scan")
    window.data_panel.select_class("george")
    shot("data")
    clip = window.scan.files["george"][3]
    loaded = []
    window.inspector.loaded.connect(loaded.append)
    window.inspect_file(clip)
    wait_until(app, lambda: bool(loaded), 60, "the inspector")
    settle(app, 1.5)  # the CNN image of the selected window arrives a moment later
    shot("inspect")
    if args.no_train:
        window._dirty = False
        window.close()
        return 0

    window.go_to("Train")
    if args.epochs:
        window.projects.set_training({**window.project.training, "epochs": args.epochs})
        window.show_project()
    window.start_training()
    # a mid-training view: wait for a few epochs on the curves
    wait_until(app, lambda: len(window.train_panel.curves.epochs) >= 3 or window.job.outcome is not None, 600,
               "the first epochs")
    shot("train-running")
    wait_until(app, lambda: window.job.outcome is not None, 3600, "training to finish")
    if window.job.outcome != "finished":
        print("screenshots: training did not finish:", window.log.rows()[-3:], file=sys.stderr)
        return 1
    settle(app, 1.0)  # the window moves to Results in a later turn of the event loop: let it, then go back
    window.go_to("Train")
    shot("train")
    window.go_to("Data")
    shot("data-trained")  # step 3 of 3: try it
    window.go_to("Results")
    shot("results")
    window.go_to("Feature map")  # showing the page maps the model's windows (a child process)
    wait_until(app, lambda: window.feature_map.fmap is not None, 300, "the feature map")
    shot("feature_map")

    window.go_to("Live")
    shot("live")
    window.go_to("Identify")
    window.identify_panel.try_demo.click()  # what a newcomer is offered on the Identify page
    wait_until(app, lambda: window.side_job is not None and window.side_job.outcome is not None
               and window.identify_panel.answer.text() != "", 300, "identification")
    shot("identify")
    window.log_dock.show()
    window.go_to("Data")
    shot("log")
    window.log_dock.hide()
    window._dirty = False
    window.close()
    shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
