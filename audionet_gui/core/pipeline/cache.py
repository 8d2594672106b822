"""Where the pipeline keeps what it can make again: the user cache, and a dataset's window-image workspace in it."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path


def cache_root() -> Path:
    env = os.environ.get("AUDIONET_CACHE_DIR")
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg).expanduser() if xdg else Path.home() / ".cache") / "audionet"


def default_workspace(spec) -> Path:
    """``<cache>/workspaces/<dataset folder name>-<hash of the dataset's folders>``. One workspace per dataset:
    convert keeps images of different spectrogram/window settings apart inside it (and re-uses file hashes)."""
    # Absolute paths: the same data reached from another working directory is the same workspace.
    key = json.dumps({"classes": [{"name": c.name, "folders": [str(Path(f).absolute()) for f in c.folders],
                                   "files": [str(Path(f).absolute()) for f in c.files]} for c in spec.classes],
                      "test_dir": str(Path(spec.test_dir).absolute()) if spec.test_dir else None}, sort_keys=True)
    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    first = spec.classes[0].folders[0] if spec.classes and spec.classes[0].folders else None
    name = Path(first).absolute().parent.name if first is not None else ""
    return cache_root() / "workspaces" / f"{name or 'dataset'}-{digest}"
