"""What the app says about audio: the answers that are not a class, the ranking of classes, the unknown gate, and
who-speaks-when segments. One owner for these rules, so a file (``predict``, ``evaluate``) and the microphone
(``listen``, the Live page) answer alike.

- Answers besides a class name: ``UNKNOWN`` (no class is sure enough: the best probability is under the model's
  calibrated threshold), ``SILENCE`` (the window is too quiet to tell: no inference is run, no class is named) and
  ``NO_SPEECH`` (the speech gate heard no one speak: no inference, no class named, no vote in a file's answer).
- ``top_k``: the classes best first. Stable: tied probabilities keep the model's label order, for files and live.
- ``gate``: THE unknown gate, probabilities -> (a label or ``UNKNOWN``, its probability, the best class's index);
  ``gate_rows`` applies it to many windows at once and ``unsure`` is its one comparison.
- ``Segment``: a stretch of time with one answer. ``build_timeline`` makes the segments of a file from all its
  windows at once; ``Timeline`` grows them decision by decision while listening.

Pure numpy, no Qt and no TensorFlow.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

UNKNOWN = "unknown"
SILENCE = "silence"
# The speech gate's answer (a bundle whose window gate is "speech"): a window loud enough not to be SILENCE in which
# the speech detector hears no one speak (a door, music, a fan). Like SILENCE it names no class and runs no
# classifier; in a file's window probabilities such a window is a row of zeros (``no_speech_rows``).
NO_SPEECH = "no speech"
# Answers that are not one of the model's classes, in the order the pages list them after the classes.
NOT_A_CLASS = (UNKNOWN, SILENCE, NO_SPEECH)


# ---------------------------------------------------------------------------------------------- ranking and gate

def top_k(probabilities: np.ndarray, labels: Sequence[str], k: int = 3) -> list[tuple[str, float]]:
    """``[(label, p), ...]`` for the ``k`` (at least 1) most probable classes, best first. Stable: among equal
    probabilities the model's label order decides, so the same vector ranks the same everywhere."""
    probabilities = np.asarray(probabilities, dtype=np.float64).reshape(-1)
    order = np.argsort(-probabilities, kind="stable")[: max(1, int(k))]
    return [(labels[i], float(probabilities[i])) for i in order]


def unsure(p, threshold: float):
    """True where a best probability ``p`` (a number or an array) is under ``threshold``: the answer is UNKNOWN."""
    return np.asarray(p) < threshold if np.ndim(p) else bool(p < threshold)


def gate(probabilities: np.ndarray, labels: Sequence[str], threshold: float) -> tuple[str, float, int]:
    """The unknown gate for one probability vector: ``(label, p, index)`` where ``index`` is the best class (the
    first in label order among ties, as ``top_k`` ranks it), ``p`` its probability, and ``label`` its name, or
    ``UNKNOWN`` when ``p`` is under ``threshold``."""
    probabilities = np.asarray(probabilities).reshape(-1)
    index = int(probabilities.argmax())
    p = float(probabilities[index])
    return (UNKNOWN if unsure(p, threshold) else labels[index]), p, index


def no_speech_rows(probabilities: np.ndarray) -> np.ndarray:
    """(N,) True for the rows of window probabilities (N, C) that the speech gate kept from the classifier: all
    zeros (a classified window's probabilities sum to 1)."""
    probabilities = np.asarray(probabilities)
    if probabilities.ndim != 2 or not len(probabilities):
        return np.zeros(len(probabilities), bool)
    return ~probabilities.any(axis=1)


def recording_mean(probabilities: np.ndarray) -> np.ndarray:
    """A recording's probabilities: the mean over its windows that were classified (windows without speech do
    not vote); all zeros when none was (the recording's answer is NO_SPEECH)."""
    probabilities = np.asarray(probabilities, dtype=np.float64)
    voters = probabilities[~no_speech_rows(probabilities)]
    return voters.mean(axis=0) if len(voters) else np.zeros(probabilities.shape[1], np.float64)


def gate_rows(probabilities: np.ndarray, labels: Sequence[str],
              threshold: float) -> tuple[list[str], np.ndarray, np.ndarray]:
    """``gate`` for every row of ``probabilities`` (N, C): (answers, best probabilities (N,), best indices (N,)).
    A row of zeros (``no_speech_rows``) is NO_SPEECH."""
    probabilities = np.asarray(probabilities)
    indices = probabilities.argmax(axis=1) if len(probabilities) else np.zeros(0, np.int64)
    p = probabilities[np.arange(len(indices)), indices]
    quiet = no_speech_rows(probabilities)
    answers = [NO_SPEECH if q else UNKNOWN if low else labels[i]
               for i, low, q in zip(indices, unsure(p, threshold), quiet)]
    return answers, p, indices


# --------------------------------------------------------------------------------------------------- segments

@dataclass
class Segment:
    """A stretch of time with one answer. ``p`` is the mean probability of that answer over the windows (file) or
    decisions (live) it merges (for UNKNOWN: the mean best probability, the confidence that was too low);
    ``count`` is how many it merges."""

    start_s: float
    end_s: float
    label: str
    p: float
    count: int = 1

    def to_dict(self) -> dict:
        """The ``timeline`` entries of ``audionet predict --json``: ``start``, ``end``, ``label``, ``p``."""
        return {"start": round(self.start_s, 3), "end": round(self.end_s, 3), "label": self.label,
                "p": round(self.p, 4)}


def build_timeline(starts: np.ndarray, ends: np.ndarray, probabilities: np.ndarray, labels: Sequence[str],
                   threshold: float, hop_s: float) -> list[Segment]:
    """The segments of a file from all its windows (start and end seconds, probabilities (N, C)), gated by
    ``threshold``: consecutive windows with the same answer merge.

    Overlapping windows share time, so inside a run of contiguous windows the boundary between two answers is put
    half way between the two windows' centres; a run starts at its first window's start and ends at its last
    window's end. Windows further apart than one hop (silence skipped between them) never merge.
    """
    n = len(starts)
    if n == 0:
        return []
    probabilities = np.asarray(probabilities)
    answers, top_p, _ = gate_rows(probabilities, labels, threshold)
    centres = (np.asarray(starts) + np.asarray(ends)) / 2
    label_index = {label: i for i, label in enumerate(labels)}

    segments: list[Segment] = []
    first = 0
    seg_start = float(starts[0])
    for i in range(1, n + 1):
        contiguous = i < n and starts[i] - starts[i - 1] <= hop_s * 1.001 + 1e-9
        if contiguous and answers[i] == answers[first]:
            continue
        # close the segment of windows first .. i-1
        label = answers[first]
        rows = probabilities[first:i]
        p = float(rows[:, label_index[label]].mean()) if label in label_index else float(top_p[first:i].mean())
        if contiguous:  # the answer changes inside a run of windows: meet half way between centres
            end = next_start = float((centres[i - 1] + centres[i]) / 2)
        else:  # end of the file or a gap: the run ends where its last window ends
            end = float(ends[i - 1])
            next_start = float(starts[i]) if i < n else end
        segments.append(Segment(seg_start, end, label, p, i - first))
        first, seg_start = i, next_start
    return segments


class Timeline:
    """Who spoke when, decision by decision (live): consecutive decisions with the same answer merge into one
    segment.

    Each decision covers the audio since the previous decision (the first one covers one ``hop_s`` back), so
    segments tile time without gaps while the stream runs. Thread-safe: one writer, any number of readers.
    """

    def __init__(self, hop_s: float, max_segments: int = 10000):
        self.hop_s = hop_s
        self.max_segments = max_segments
        self._segments: list[Segment] = []
        self._last_t: float | None = None
        self._lock = threading.Lock()

    def add(self, decision) -> None:
        """``decision``: anything with ``t`` (seconds at the end of its window), ``label`` and ``p``."""
        t, label, p = float(decision.t), decision.label, float(decision.p)
        with self._lock:
            start = self._last_t if self._last_t is not None else max(0.0, t - self.hop_s)
            start = min(start, t)
            self._last_t = t
            last = self._segments[-1] if self._segments else None
            if last is not None and last.label == label:
                last.end_s = t
                last.count += 1
                last.p += (p - last.p) / last.count  # running mean
                return
            self._segments.append(Segment(start, t, label, p))
            if len(self._segments) > self.max_segments:
                del self._segments[0]

    def segments(self) -> list[Segment]:
        with self._lock:
            return [replace(s) for s in self._segments]

    def to_dict(self) -> list[dict]:
        return [s.to_dict() for s in self.segments()]
