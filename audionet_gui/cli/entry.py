"""The headless CLI: ``audionet COMMAND ...``. Each command lives in ``audionet_gui.cli.<name>``.

Command names, flags and JSON keys are contracts that scripts rely on: add to them, never rename.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from audionet_gui import __version__
from audionet_gui.core.base.lifeline import Terminated, terminate_raises

# Order here is the order of ``audionet --help``.
COMMANDS = ("convert", "inspect", "train", "evaluate", "predict", "timeline", "enroll", "export", "listen", "devices",
            "doctor", "explain", "featmap")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="audionet",
        description="AudioNet Studio, headless: convert audio to spectrogram images, train, evaluate, predict, listen.",
    )
    parser.add_argument("--version", action="version", version=f"audionet {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        try:
            module = importlib.import_module(f"audionet_gui.cli.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"audionet_gui.cli.{name}":
                continue  # command not built yet
            raise
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return 2
    try:
        with terminate_raises():  # SIGTERM: cleanup runs and it is said, as for Ctrl-C
            return int(args.run(args) or 0)
    except Terminated:
        print("audionet: terminated", file=sys.stderr)
        return 143
    except KeyboardInterrupt:
        print("audionet: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
