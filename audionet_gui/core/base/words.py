"""Counted nouns in messages: one place decides "1 window" / "2 windows", so no message says "1 classes"."""

from __future__ import annotations

_IRREGULAR = {"is": "are", "was": "were", "this": "these", "it": "they"}


def plural(noun: str) -> str:
    """The plural of an English noun as the app's messages use them (window, class, clip, speaker, batch)."""
    if noun in _IRREGULAR:
        return _IRREGULAR[noun]
    if noun.endswith(("s", "x", "ch", "sh")):
        return noun + "es"
    if noun.endswith("y") and noun[-2:-1] not in "aeiou":
        return noun[:-1] + "ies"
    return noun + "s"


def count(n: int | float, noun: str, plural_form: str | None = None) -> str:
    """``count(1, "window")`` -> "1 window"; ``count(3, "class")`` -> "3 classes"; 0 takes the plural."""
    one = float(n) == 1
    word = noun if one else (plural_form or plural(noun))
    number = f"{n:,}" if isinstance(n, int) else f"{n:g}"
    return f"{number} {word}"
