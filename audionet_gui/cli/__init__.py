"""The headless CLI, ``audionet COMMAND ...``: ``main.py`` builds the parser; one module per command, each
exposing ``register(subparsers)``, which adds its parser and sets ``run=callable(args) -> exit status``.
Commands only parse arguments, call core and print; ``flags.py`` generates the settings flags."""

from audionet_gui.cli.entry import build_parser, main

__all__ = ["build_parser", "main"]
