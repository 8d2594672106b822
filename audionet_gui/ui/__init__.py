"""Windows and widgets: they show state and send requests; they compute nothing."""

import audionet_gui.qt  # noqa: F401 - the Qt entry point: applies the PySide6 reference-count guard once
