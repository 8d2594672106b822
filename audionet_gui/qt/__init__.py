"""Thin Qt adapters that run core jobs off the GUI thread and turn progress, results and errors into signals.

Every Qt code path of the app passes through this package (``ui/`` imports it first, and so do the app's
``create_app`` and every bridge here), so the PySide6 reference-count workaround is applied here, once, before
any signal flows: see ``refcount_guard``.
"""

from audionet_gui.qt.refcount_guard import protect_singletons

protect_singletons()
