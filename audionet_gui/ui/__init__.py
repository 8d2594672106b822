"""Windows and widgets: they show state and send requests; they compute nothing."""

from ..workers.refcount_guard import protect_singletons

protect_singletons()  # see audionet_gui/workers/__init__.py
