import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

# the sounddevice stand-in fixture, for every live test (core, qt, ui, cli)
pytest_plugins = ["tests.core.live.fakes"]
