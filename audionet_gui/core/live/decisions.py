"""Turning per-window probabilities into live decisions: smoothing, and the silence and confidence gates.

The answers themselves (``UNKNOWN``, ``SILENCE``), the ranking, the unknown gate and the timeline are
``core/answers.py``'s, shared with files. Pure functions and small stateful helpers with no threads and no audio,
so every rule is unit-testable.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

import numpy as np

from audionet_gui.core.answers import NO_SPEECH, SILENCE, UNKNOWN, gate, top_k


@dataclass
class LiveDecision:
    """One live decision.

    - ``t``: seconds of audio since the start of listening, at the end of the window decided on.
    - ``label``: a class label, ``"unknown"`` (best class under the confidence threshold), ``"silence"``
      (window under the silence level: no inference is run and no class is ever named) or ``"no speech"``
      (speech gate: loud enough, but the speech detector hears no one speak; no inference either).
    - ``p``: probability of ``label`` after smoothing; for "unknown" the best class's probability, for "silence"
      1.0, for "no speech" the share of the window's 32 ms chunks that sounded like speech.
    - ``top_k``: ``[(label, p), ...]`` best first, after smoothing (empty for silence).
    - ``best``: the best class before gating (None for silence).
    - ``latency_ms``: from the arrival of the window's last sample to this decision.
    - ``level_db``: RMS level of the window in dBFS.
    """

    t: float
    label: str
    p: float
    top_k: list = field(default_factory=list)
    best: str | None = None
    latency_ms: float = 0.0
    level_db: float = -200.0
    gate: str | None = None  # None, "silence", "no speech" or "low_confidence"

    def to_json(self) -> dict:
        d = asdict(self)
        d["t"] = round(self.t, 3)
        d["p"] = round(float(self.p), 4)
        d["latency_ms"] = round(self.latency_ms, 1)
        d["level_db"] = round(self.level_db, 1)
        d["top_k"] = [{"label": name, "p": round(float(p), 4)} for name, p in self.top_k]
        return d


class ProbabilitySmoother:
    """Mean of the last ``size`` probability vectors; ``reset()`` forgets them (after silence, say)."""

    def __init__(self, size: int = 3):
        self.size = max(1, int(size))
        self._history: deque = deque(maxlen=self.size)

    def push(self, probs: np.ndarray) -> np.ndarray:
        probs = np.asarray(probs, dtype=np.float64).reshape(-1)
        if self._history and self._history[-1].shape != probs.shape:
            self._history.clear()
        self._history.append(probs)
        return np.mean(np.stack(self._history), axis=0)

    def reset(self) -> None:
        self._history.clear()

    def __len__(self) -> int:
        return len(self._history)


def decide(probs: np.ndarray, labels: Sequence[str], threshold: float, t: float, k: int = 3,
           level_db: float = -200.0, latency_ms: float = 0.0) -> LiveDecision:
    """The gated decision for (already smoothed) probabilities: under ``threshold`` the answer is "unknown"."""
    label, p, index = gate(probs, labels, threshold)
    ranked = top_k(probs, labels, k)
    low = label == UNKNOWN
    return LiveDecision(t, label, p, ranked, labels[index], latency_ms, level_db,
                        gate="low_confidence" if low else None)


def silence_decision(t: float, level_db: float, latency_ms: float = 0.0) -> LiveDecision:
    return LiveDecision(t, SILENCE, 1.0, [], None, latency_ms, level_db, gate=SILENCE)


def no_speech_decision(t: float, level_db: float, speech_share: float = 0.0, latency_ms: float = 0.0) -> LiveDecision:
    return LiveDecision(t, NO_SPEECH, float(speech_share), [], None, latency_ms, level_db, gate=NO_SPEECH)
