"""Where the app's bundled files are: icons and the demo project (``resources/`` beside the package)."""

from __future__ import annotations

import functools
import json
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


def demo_conversation_path() -> Path:
    """A recording of the demo's speakers taking turns: what the Identify page offers to try first."""
    return resources_dir() / "demo" / "conversation.wav"


@functools.cache
def demo_class_names() -> frozenset[str]:
    try:
        data = json.loads(demo_project_path().read_text(encoding="utf-8"))
        return frozenset(c["name"] for c in data.get("classes", []))
    except (OSError, ValueError, KeyError, TypeError):
        return frozenset()


def knows_demo_speakers(labels) -> bool:
    """A model of the demo's speakers (the demo conversation means something to it)."""
    names = demo_class_names()
    return bool(names) and names <= set(labels or ())
