"""Terminal helpers shared by the commands: a progress bar on a TTY, JSON output, error printing."""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable
from typing import Any, TextIO

from audionet_gui.core.base.errors import AudioNetError
from audionet_gui.core.base.jobs import Cancelled, Progress

# Control characters (newline, escape codes), bidi overrides and undecodable bytes (lone surrogates): a file or
# class name holding them could forge lines or recolour the terminal, so text output shows them escaped.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def shown(text: object) -> str:
    """``text`` safe for a terminal line: ``a\nb`` is shown as ``a\\nb``, ESC as ``\\x1b``. JSON output needs no
    such care (json.dumps escapes them)."""
    return _UNSAFE.sub(lambda m: m.group().encode("unicode_escape", "backslashreplace").decode("ascii"), str(text))


class TerminalProgress:
    """A progress callback that draws one updating line on a terminal and stays silent otherwise
    (or when ``quiet``), so ``--json`` output and pipes stay clean."""

    def __init__(self, stream: TextIO | None = None, quiet: bool = False):
        stream = stream or sys.stderr
        self.stream = stream
        self.enabled = (not quiet) and stream.isatty()
        self._last_stage = None

    def __call__(self, p: Progress) -> None:
        if not self.enabled:
            return
        if self._last_stage is not None and p.stage != self._last_stage:
            self.stream.write("\n")
        self._last_stage = p.stage
        width = 30
        if p.total:
            filled = int(width * min(p.done / p.total, 1.0))
            bar = "#" * filled + "-" * (width - filled)
            count = f"{p.done}/{p.total}"
        else:
            bar, count = "." * width, str(p.done)
        eta = f" ~{p.eta_s:.0f}s left" if p.eta_s is not None and p.done < p.total else ""
        msg = f" {shown(p.message)}" if p.message else ""
        self.stream.write(f"\r{p.stage:<12} [{bar}] {count}{eta}{msg}"[:160].ljust(100))
        self.stream.flush()

    def close(self) -> None:
        if self.enabled and self._last_stage is not None:
            self.stream.write("\n")
            self.stream.flush()
            self._last_stage = None


def print_json(obj: Any, stream: TextIO | None = None, compact: bool = False) -> None:
    stream = stream or sys.stdout
    if compact:
        stream.write(json.dumps(obj, separators=(",", ":")) + "\n")
    else:
        stream.write(json.dumps(obj, indent=2) + "\n")
    stream.flush()


def fail(message: str, status: int = 2) -> int:
    print(f"audionet: {shown(message)}", file=sys.stderr)
    return status


def run_job(job: Callable[[TerminalProgress], Any], *, quiet: bool,
            errors: tuple[type[BaseException], ...] = (AudioNetError, ValueError),
            cancelled: str = "cancelled") -> tuple[Any, int | None]:
    """A core job with a progress bar on stderr: ``(result, None)``, or ``(None, exit status)`` once its error (1)
    or its cancellation (130) is printed."""
    progress = TerminalProgress(stream=sys.stderr, quiet=quiet)
    try:
        result = job(progress)
    except errors as exc:
        progress.close()
        return None, fail(str(exc), status=1)
    except Cancelled:
        progress.close()
        return None, fail(cancelled, status=130)
    progress.close()
    return result, None
