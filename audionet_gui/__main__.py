"""The desktop app: ``python -m audionet_gui [--demo] [--project FILE] [--self-test]`` (``audionet-gui``)."""

from __future__ import annotations

import argparse
import atexit
import os
import shutil
import sys
import tempfile
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QElapsedTimer, QSettings
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication

from audionet_gui import __version__, headless_demo
from audionet_gui.core.model.tflite_engine import prefer_engine
from audionet_gui.qt.gui_collector import collect_on_gui_thread
from audionet_gui.resources import icon_path
from audionet_gui.selftest import run_pipeline_check
from audionet_gui.ui.settings_store import SettingsStore
from audionet_gui.ui.theme import apply_theme, prepare_high_dpi
from audionet_gui.ui.window.main_window import PAGES, MainWindow

ORGANIZATION = "AudioNet"
APP_NAME = "AudioNet Studio"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="audionet-gui", description=f"{APP_NAME}: the desktop app.")
    parser.add_argument("--version", action="version", version=f"{APP_NAME} {__version__}")
    parser.add_argument("--demo", action="store_true", help="open the bundled demo project (FSDD speakers)")
    parser.add_argument("--project", metavar="FILE", help="open this project file")
    parser.add_argument("--theme", choices=("system", "light", "dark"), help="colour theme (remembered)")
    parser.add_argument("--headless", action="store_true",
                        help="with --demo, no window: train the demo, identify its conversation, print who speaks "
                             "when and save a screenshot (the default for --demo without a screen)")
    parser.add_argument("--out", metavar="DIR", help="with --headless: where the demo's model and screenshot go")
    parser.add_argument("--self-test", action="store_true",
                        help="build the window, open the demo project, check it and exit (0 = fine)")
    return parser


def create_app(argv: list[str] | None = None):
    """The QApplication with names, high-DPI behaviour and theme set; the same for the app and the tests."""

    # The PySide6 reference-count guard is already applied: importing audionet_gui.ui above ran audionet_gui.qt.
    app = QApplication.instance()
    if app is None:
        prepare_high_dpi()
        QCoreApplication.setOrganizationName(ORGANIZATION)
        QCoreApplication.setApplicationName(APP_NAME)
        QCoreApplication.setApplicationVersion(__version__)
        app = QApplication(list(argv or [sys.argv[0]]))
    icon = icon_path("audionet.svg")
    if icon.exists():
        app.setWindowIcon(QIcon(str(icon)))
    collect_on_gui_thread()  # a cycle collected in a job thread could delete a Qt object there
    return app


def open_initial_project(window, args) -> None:
    """--project, else --demo, else the demo on the very first run, else the last project (if it still exists)."""
    store = window.store
    if args.project:
        window.open_project(args.project)
    elif args.demo or not store.first_run_done:
        window.open_demo()
    else:
        recent = [p for p in store.recent_projects() if Path(p).is_file()]
        if recent:
            window.open_project(recent[0])
    store.first_run_done = True


def self_test(window, app) -> int:
    """Check that the app starts and its demo is usable: pages, demo classes, a finished scan, the engine's
    warm-up, then a tiny pipeline (convert, train small_cnn, save, load, identify) on the demo."""

    problems = []
    if window.nav.count() != len(PAGES):
        problems.append(f"expected {len(PAGES)} pages, found {window.nav.count()}")
    if len(window.project.classes) < 2:
        problems.append("the demo project has fewer than two classes")
    timer = QElapsedTimer()
    timer.start()
    while window.scan is None and timer.elapsed() < 60_000:
        app.processEvents()
    if window.scan is None:
        problems.append("the demo's files were not checked within 60 s")
    elif window.scan.report.total_files == 0:
        problems.append("the demo has no readable audio")
    # the warm-up thread stops through the event loop: let it finish before the window closes
    warm_up = getattr(window, "warm_up_job", None)
    while warm_up is not None and warm_up.is_running() and timer.elapsed() < 120_000:
        app.processEvents()
    if warm_up is not None and warm_up.is_running():
        problems.append("the engine warm-up did not finish within 120 s")
    if not problems:

        problems += run_pipeline_check(log=lambda line: print(f"self-test: {line}", flush=True)).problems
    for p in problems:
        print(f"self-test: {p}", file=sys.stderr)
    print("self-test: " + ("ok" if not problems else "FAILED"))
    return 1 if problems else 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if args.self_test:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        args.demo = True
    if args.demo and not args.self_test and (args.headless or not headless_demo.has_screen()):
        if not args.headless:
            print("demo: no screen found; running the demo's main job without a window.", flush=True)
        os.environ["QT_QPA_PLATFORM"] = "offscreen"  # for the screenshot only
        os.environ.setdefault("QT_LOGGING_RULES", "qt.qpa.*=false")  # no offscreen-plugin chatter in the output
        create_app(sys.argv[:1])
        return headless_demo.main(args.out)
    app = create_app(sys.argv[:1])
    prefer_engine("tf")  # TFLite's converter would hold the GIL (up to 0.5 s) here when live listening starts

    if args.self_test:  # leave the user's own settings (recent projects, first run) alone

        settings_dir = tempfile.mkdtemp(prefix="audionet-selftest-")
        atexit.register(shutil.rmtree, settings_dir, True)
        settings = QSettings(str(Path(settings_dir) / "settings.ini"), QSettings.IniFormat)
    else:
        settings = QSettings()
    store = SettingsStore(settings)
    if args.theme:
        store.theme = args.theme
    apply_theme(app, store.theme)
    window = MainWindow(store)
    window.show()
    window.warm_up()
    open_initial_project(window, args)
    if args.self_test:
        code = self_test(window, app)
        window.cancel_job()
        window._dirty = False
        window.close()
        return code
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
