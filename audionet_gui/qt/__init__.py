"""Thin Qt adapters that run core jobs in QThreads and turn progress, results and errors into signals."""

from audionet_gui.qt.refcount_guard import protect_singletons

# PySide6 6.12 drops a reference to None/True on every signal and event loop pass; before Python 3.12 that
# aborts the process after a few hundred signals. Every Qt code path of the app imports this package or ui/.
protect_singletons()
