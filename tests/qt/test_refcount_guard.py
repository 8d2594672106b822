"""The PySide6 reference-count guard is applied once, by the qt package, whichever Qt path is imported first."""

from __future__ import annotations

import subprocess
import sys

import pytest

from audionet_gui.qt.refcount_guard import _BOOST


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="None/True are immortal from Python 3.12: no guard")
@pytest.mark.parametrize("module", ["audionet_gui.ui.widgets.level_meter", "audionet_gui.qt.job_runner",
                                    "audionet_gui.ui.window.main_window"])
def test_any_qt_entry_applies_the_guard_once(module):
    code = (f"import sys; import {module}; from audionet_gui.qt import refcount_guard as g; "
            f"print(sys.getrefcount(True) > {_BOOST // 2}, g.protect_singletons())")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert out.stdout.split() == ["True", "False"]  # applied at import; a second call does nothing


def test_core_imports_no_guard():
    code = "import sys; import audionet_gui.core.pipeline; print('audionet_gui.qt' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert out.stdout.strip() == "False"
