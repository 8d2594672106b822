"""Where the app's bundled files are: icons and the demo project (``resources/`` beside the package)."""

from __future__ import annotations

import os
from pathlib import Path

DEMO_PROJECT_FILE = "demo.audionet.json"


def resources_dir() -> Path:
    """``resources/`` next to the package (source tree and editable installs); a frozen app may set
    ``AUDIONET_RESOURCES`` to where it put them."""

    env = os.environ.get("AUDIONET_RESOURCES")
    if env:
        return Path(env)
    return Path(__file__).resolve().parent.parent / "resources"


def demo_project_path() -> Path:
    return resources_dir() / "demo" / DEMO_PROJECT_FILE


def icon_path(name: str) -> Path:
    return resources_dir() / "icons" / name
