"""One helper for counted nouns: no "1 windows" or "1 classes" anywhere."""

from audionet_gui.core.base.words import count, plural


def test_one_takes_the_singular_and_other_counts_the_plural():
    assert count(1, "window") == "1 window"
    assert count(2, "window") == "2 windows"
    assert count(0, "class") == "0 classes"
    assert count(1, "class") == "1 class"
    assert count(1200, "clip") == "1,200 clips"
    assert count(1, "short clip") == "1 short clip"


def test_plural_rules():
    assert plural("batch") == "batches" and plural("entry") == "entries" and plural("day") == "days"
