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
