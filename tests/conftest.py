import os

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

# the sounddevice stand-in fixture, for every live test (core, qt, ui, cli)
pytest_plugins = ["tests.core.live.fakes"]


@pytest.fixture(autouse=True)
def gui_thread_collector(request):
    """As in the app (``create_app``): in a test with a QApplication, Python's cyclic garbage collector runs on the
    GUI thread only (``audionet_gui.qt.gui_collector``); other tests keep the automatic one."""
    if not {"qtbot", "qapp"} & set(request.fixturenames):
        yield
        return
    request.getfixturevalue("qapp")
    from audionet_gui.qt import gui_collector  # noqa: PLC0415 - PySide6 only where a test has a QApplication

    gui_collector.collect_on_gui_thread()
    yield
    gui_collector.collect_anywhere()
