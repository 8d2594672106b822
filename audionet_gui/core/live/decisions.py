"""Turning per-window probabilities into live decisions: smoothing, silence and confidence gates, a timeline.

Pure functions and small stateful helpers with no threads and no audio, so every rule is unit-testable.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

import numpy as np

SILENCE = "silence"
UNKNOWN = "unknown"


@dataclass
class LiveDecision:
    """One live decision.

    - ``t``: seconds of audio since the start of listening, at the end of the window decided on.
    - ``label``: a class label, ``"unknown"`` (best class under the confidence threshold) or ``"silence"``
      (window under the silence level: no inference is run and no class is ever named).
    - ``p``: probability of ``label`` after smoothing; for "unknown" the best class's probability, for "silence" 1.0.
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
    gate: str | None = None  # None, "silence" or "low_confidence"

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


def top_k(probs: np.ndarray, labels: Sequence[str], k: int = 3) -> list[tuple[str, float]]:
    order = np.argsort(-np.asarray(probs))[: max(1, k)]
    return [(labels[i], float(probs[i])) for i in order]


def decide(probs: np.ndarray, labels: Sequence[str], threshold: float, t: float, k: int = 3,
           level_db: float = -200.0, latency_ms: float = 0.0) -> LiveDecision:
    """The gated decision for (already smoothed) probabilities: under ``threshold`` the answer is "unknown"."""
    ranked = top_k(probs, labels, k)
    best, p = ranked[0]
    if p < threshold:
        return LiveDecision(t, UNKNOWN, p, ranked, best, latency_ms, level_db, gate="low_confidence")
    return LiveDecision(t, best, p, ranked, best, latency_ms, level_db)


def silence_decision(t: float, level_db: float, latency_ms: float = 0.0) -> LiveDecision:
    return LiveDecision(t, SILENCE, 1.0, [], None, latency_ms, level_db, gate="silence")


@dataclass
class Segment:
    label: str
    start_s: float
    end_s: float
    decisions: int = 1
    p_sum: float = 0.0

    @property
    def mean_p(self) -> float:
        return self.p_sum / self.decisions if self.decisions else 0.0

    def to_json(self) -> dict:
        return {"label": self.label, "start_s": round(self.start_s, 3), "end_s": round(self.end_s, 3),
                "decisions": self.decisions, "mean_p": round(self.mean_p, 4)}


class Timeline:
    """Who spoke when: consecutive decisions with the same label merge into one segment.

    Each decision covers the audio since the previous decision (the first one covers one ``hop_s`` back), so
    segments tile time without gaps while the stream runs. Thread-safe: one writer, any number of readers.
    """

    def __init__(self, hop_s: float, max_segments: int = 10000):
        self.hop_s = hop_s
        self.max_segments = max_segments
        self._segments: list[Segment] = []
        self._last_t: float | None = None
        self._lock = threading.Lock()

    def add(self, decision: LiveDecision) -> None:
        with self._lock:
            start = self._last_t if self._last_t is not None else max(0.0, decision.t - self.hop_s)
            start = min(start, decision.t)
            self._last_t = decision.t
            last = self._segments[-1] if self._segments else None
            if last is not None and last.label == decision.label:
                last.end_s = decision.t
                last.decisions += 1
                last.p_sum += decision.p
                return
            self._segments.append(Segment(decision.label, start, decision.t, 1, decision.p))
            if len(self._segments) > self.max_segments:
                del self._segments[0]

    def segments(self) -> list[Segment]:
        with self._lock:
            return [Segment(**asdict(s)) for s in self._segments]

    def to_json(self) -> list[dict]:
        return [s.to_json() for s in self.segments()]
