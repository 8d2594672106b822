from PySide6.QtCore import QObject, QTimer

from audionet_gui.qt.passes import in_separate_passes


def test_each_step_runs_in_a_pass_of_its_own(qtbot):
    beats = [0]
    heartbeat = QTimer()
    heartbeat.setInterval(0)
    heartbeat.timeout.connect(lambda: beats.__setitem__(0, beats[0] + 1))
    heartbeat.start()
    seen = []
    context = QObject()

    def caller():
        seen.append(("caller", beats[0]))
        in_separate_passes(context, [lambda: seen.append(("a", beats[0])), lambda: seen.append(("b", beats[0]))])
        QTimer.singleShot(0, context, lambda: seen.append(("plain", beats[0])))  # what in_separate_passes avoids

    QTimer.singleShot(20, caller)
    qtbot.waitUntil(lambda: len(seen) == 4, timeout=2000)
    heartbeat.stop()
    at = dict(seen)
    assert [name for name, _ in seen] == ["caller", "plain", "a", "b"]
    assert at["plain"] == at["caller"]  # a plain singleShot(0) shares the caller's pass: no beat between
    assert at["caller"] < at["a"] < at["b"]  # the heartbeat ran between the caller and each step


def test_nothing_runs_once_the_context_is_gone(qtbot):
    ran = []
    context = QObject()
    in_separate_passes(context, [lambda: ran.append(1)])
    context.deleteLater()
    qtbot.wait(100)
    assert ran == []
