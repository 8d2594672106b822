"""A guard against reference-count bugs in PySide6 6.12.0 that abort the process on Python 3.11.

Measured here (PySide6-Essentials 6.12.0, CPython 3.11): every ``SignalInstance.emit()`` returns ``True``
without taking a reference, and every ``QCoreApplication.processEvents()`` does the same with ``None``, so
``sys.getrefcount(True)`` / ``sys.getrefcount(None)`` fall by one per call. After a few hundred signals (a
pyqtgraph mouse move emits several) CPython aborts: "Fatal Python error: bool_dealloc: deallocating True or
False" or "none_dealloc". On Python 3.12+ these objects are immortal and the bug is harmless.

``protect_singletons()`` makes None, True and False effectively immortal on older Pythons by adding 2**40 to
their reference counts once (they are never freed anyway). It is applied in one place: importing the
``audionet_gui.qt`` package (which ``audionet_gui.ui`` and so every window, page and bridge imports first).

Upstream: no PySide report of this exact leak was found (searched GitHub issues for "PySide6 6.12 reference count
None True emit", "bool_dealloc", "none_dealloc"); it is the same class of bug as PYSIDE-585 ("Fatal Python error:
deallocating None", https://bugreports.qt.io/browse/PYSIDE-585), a borrowed ``Py_None`` returned as a new
reference. Remove this module when PySide6 fixes it or the app requires Python >= 3.12 (immortal singletons,
PEP 683); ``tests/qt/test_inspect_worker.py::test_refcount_guard_keeps_true_and_none_alive`` shows the need.
"""

from __future__ import annotations

import ctypes
import sys

_BOOST = 1 << 40
_applied = False


def protect_singletons() -> bool:
    """Apply the guard once; True when it was applied by this call."""
    global _applied
    if _applied or sys.version_info >= (3, 12) or sys.implementation.name != "cpython":
        return False
    for obj in (None, True, False):
        # ob_refcnt is the first field of every CPython object, and id() is the object's address
        ctypes.c_ssize_t.from_address(id(obj)).value += _BOOST
    _applied = True
    return True
