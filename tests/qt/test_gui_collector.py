"""The cyclic garbage collector runs on the GUI thread only, while the app's collector is installed."""

import gc
import threading
import weakref

from audionet_gui.qt import gui_collector


class Node:
    def __init__(self):
        self.me = self  # a cycle: only the cyclic collector frees it


def cycles_made_in_a_thread(n: int) -> tuple[list[weakref.ref], list[int]]:
    """Make ``n`` unreachable cycles in a worker thread; return weak references to them and the thread ids that
    freed any of them (recorded by their finalizers)."""
    freed_on: list[int] = []
    refs: list[weakref.ref] = []

    def work():
        for _ in range(n):
            node = Node()
            weakref.finalize(node, lambda: freed_on.append(threading.get_ident()))
            refs.append(weakref.ref(node))
            del node

    thread = threading.Thread(target=work)
    thread.start()
    thread.join()
    return refs, freed_on


def test_cycles_made_in_a_thread_are_collected_on_the_gui_thread(qtbot):
    gui_collector.collect_on_gui_thread()  # installed already for every Qt test (tests/conftest.py), as in the app
    assert not gc.isenabled()
    # far more allocations than generation 0's threshold: with automatic collection on, the thread would have
    # collected some of them itself
    refs, freed_on = cycles_made_in_a_thread(20 * gc.get_threshold()[0])
    assert freed_on == []
    qtbot.waitUntil(lambda: all(r() is None for r in refs), timeout=5000)
    assert set(freed_on) == {threading.get_ident()}


def test_it_can_be_undone_and_installed_again_once(qtbot):
    gui_collector.collect_anywhere()
    assert gc.isenabled() and gui_collector._collector is None
    first = gui_collector.collect_on_gui_thread()
    assert not gc.isenabled() and first.timer.isActive()
    assert gui_collector.collect_on_gui_thread() is first


class FakeGc:
    """The parts of ``gc`` the collector reads, with counts set by the test and collections recorded."""

    def __init__(self, old_objects: int):
        self.count = (0, 0, 0)
        self.sizes = {0: 700, 1: 7000, 2: old_objects}
        self.collected: list[int] = []

    def get_count(self):
        return self.count

    def get_objects(self, generation):
        return range(self.sizes[generation])

    def collect(self, generation):
        self.collected.append(generation)
        return 0


def test_the_oldest_generation_is_collected_by_cpythons_rule_not_every_tenth_time(qtbot, monkeypatch):
    # a full collection walks every object (millions with TensorFlow loaded: a stall of the GUI thread), so it
    # waits, as CPython's own does, until the objects that reached the oldest generation are a quarter more
    collector = gui_collector.collect_on_gui_thread()
    collector.timer.stop()  # the test calls check itself
    fake = FakeGc(old_objects=1_000_000)
    monkeypatch.setattr(gui_collector, "gc", fake)
    collector.threshold, collector.long_lived_total, collector.long_lived_pending = (700, 10, 10), None, 0
    fake.count = (100, 0, 0)
    collector.check()
    assert fake.collected == []  # under the youngest generation's threshold
    fake.count = (800, 3, 0)
    collector.check()
    assert fake.collected == [0]
    fake.count = (800, 11, 11)  # pyqtgraph's collector would walk all 1 000 000 objects here
    for _ in range(30):
        collector.check()
    assert 2 not in fake.collected and fake.collected.count(1) == 30
    assert collector.long_lived_pending == 30 * 7700
    for _ in range(4):  # after 33 x 7700 > a quarter of 1 000 000 it is time, once
        collector.check()
    assert fake.collected[1:] == [1] * 33 + [2]
    assert collector.long_lived_pending == 0
