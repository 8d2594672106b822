import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

# PySide6 6.12 under-counts references to None/True on every signal; fatal before Python 3.12 (no-op after).
from audionet_gui.qt.refcount_guard import protect_singletons

protect_singletons()
