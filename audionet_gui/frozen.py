"""Entry point of the PyInstaller bundle (build.spec): one executable, the app or the CLI.

    AudioNetStudio [--demo] [--self-test] ...    the desktop app (audionet_gui.__main__)
    AudioNetStudio --cli COMMAND ...             the headless CLI (audionet_gui.cli.entry); the bundle's ``audionet``
                                                 wrapper runs this (an executable named audionet would too)

In a bundle the data files live in ``sys._MEIPASS`` (the ``_internal`` folder), which moves with the bundle
wherever it is unpacked; ``AUDIONET_RESOURCES`` is pointed there so ``audionet_gui.resources`` finds them.
On Linux the bundle carries the build machine's PortAudio; sounddevice only looks for the system's, so when
that is missing the bundled copy is offered instead (``use_bundled_portaudio_if_missing``).
``--self-test`` is the app's own (window, demo, and the tiny convert/train/identify pipeline).
"""

from __future__ import annotations

import ctypes.util
import multiprocessing
import os
import sys
from pathlib import Path

CLI_NAMES = ("audionet", "audionet.exe")


def bundle_dir() -> Path | None:
    """The folder holding the bundled files (``_internal``), or None when not running frozen."""
    base = getattr(sys, "_MEIPASS", None)
    return Path(base) if base and getattr(sys, "frozen", False) else None


def point_at_bundled_resources() -> None:
    """Set ``AUDIONET_RESOURCES`` to the bundled ``resources/`` (a value the user set wins)."""
    base = bundle_dir()
    if base is not None and (base / "resources").is_dir():
        os.environ.setdefault("AUDIONET_RESOURCES", str(base / "resources"))


def use_bundled_portaudio_if_missing() -> None:
    """Let sounddevice fall back to the bundled libportaudio.so.2 when the system has none (libportaudio2 not
    installed). sounddevice asks ``ctypes.util.find_library("portaudio")``, which PyInstaller redirects into the
    bundle only on Windows; a system library, when there is one, still wins (it matches the system's ALSA)."""
    base = bundle_dir()
    bundled = base / "libportaudio.so.2" if base is not None else None
    if bundled is None or not sys.platform.startswith("linux") or not bundled.is_file():
        return

    system_find_library = ctypes.util.find_library

    def find_library(name: str) -> str | None:
        found = system_find_library(name)
        return str(bundled) if found is None and name == "portaudio" else found

    ctypes.util.find_library = find_library


def wants_cli(argv0: str, args: list[str]) -> bool:
    return Path(argv0).name.lower() in CLI_NAMES or (bool(args) and args[0] == "--cli")


def run_gui(args: list[str]) -> int:

    from audionet_gui import __main__ as gui_main  # noqa: PLC0415

    return gui_main.main(args)


def run_cli(args: list[str]) -> int:
    from audionet_gui.cli import main as cli_main  # noqa: PLC0415 - after the library paths are fixed

    return cli_main(args)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv if argv is None else argv)
    point_at_bundled_resources()
    use_bundled_portaudio_if_missing()
    args = argv[1:]
    if wants_cli(argv[0], args):
        return run_cli(args[1:] if args and args[0] == "--cli" else args)
    return run_gui(args)


if __name__ == "__main__":
    # Conversion uses "spawn" worker processes: in a bundle each worker re-runs this executable, and
    # freeze_support() turns that run into a worker before anything else happens.
    multiprocessing.freeze_support()
    sys.exit(main())
