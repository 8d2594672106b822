from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from audionet_gui.core.base.jobs import Progress
from audionet_gui.ui.guide import Step
from audionet_gui.ui.widgets.job_bar import JobBar
from audionet_gui.ui.widgets.next_step import NextStep


class PaintCounter(QObject):
    def __init__(self):
        super().__init__()
        self.paints = 0

    def eventFilter(self, obj, event):
        if event.type() == QEvent.Paint:
            self.paints += 1
        return False


def test_going_idle_paints_nothing_within_the_call(qtbot):
    """A finished job's bar goes idle in the same turn as its result arrives: it must not paint the window's other
    pending updates (the result's pages) synchronously, which a visible QProgressBar's reset does."""
    host = QWidget()
    other = QLabel("result")
    bar = JobBar()
    layout = QVBoxLayout(host)
    layout.addWidget(other)
    layout.addWidget(bar)
    qtbot.addWidget(host)
    host.show()
    qtbot.waitExposed(host)
    bar.set_running("Training")
    bar.show_progress(Progress("training", 3, 10))
    qtbot.wait(50)
    counter = PaintCounter()
    other.installEventFilter(counter)
    other.setText("the finished model")  # a pending update, as the pages make
    bar.set_idle()
    assert counter.paints == 0 and not bar.bar.isVisible() and bar.title.text() == "Ready"
    qtbot.waitUntil(lambda: counter.paints > 0)  # painted in a later turn of the event loop


def test_the_step_shown_is_not_laid_out_again(qtbot):
    strip = NextStep()
    qtbot.addWidget(strip)
    step = Step("Add one folder per speaker.", (("add", "Add folders…"),))
    strip.set_step(step)
    button = strip.button("add")
    strip.label.setText("changed behind its back")
    strip.set_step(Step("Add one folder per speaker.", (("add", "Add folders…"),)))  # equal: nothing redone
    assert strip.label.text() == "changed behind its back" and strip.button("add") is button
    strip.set_step(Step("Train.", (("add", "Add folders…"),)))
    assert strip.label.text() == "Train." and strip.button("add") is button  # same buttons kept


def test_the_strip_keeps_its_height_between_running_and_idle(qtbot):
    """Were the strip to shrink when a job ends, every plot on the page above it would resize and repaint in the
    pass that shows the job's result."""
    host = QWidget()
    page = QLabel("page")
    bar = JobBar()
    layout = QVBoxLayout(host)
    layout.addWidget(page, 1)
    layout.addWidget(bar)
    qtbot.addWidget(host)
    host.resize(800, 400)
    host.show()
    qtbot.waitExposed(host)
    idle_height = page.height()
    bar.set_running("Training")
    qtbot.wait(20)
    assert page.height() == idle_height and bar.cancel_button.isVisible()
    bar.set_idle("Training: done")
    qtbot.wait(20)
    assert page.height() == idle_height and not bar.cancel_button.isVisible()
