"""Windows and widgets: they show state and send requests; they compute nothing."""

from audionet_gui.qt.refcount_guard import protect_singletons

protect_singletons()  # see audionet_gui/qt/__init__.py
