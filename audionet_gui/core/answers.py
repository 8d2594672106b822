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
- ``speaker_turns``: who spoke when in a long recording: smoothed into turns with a minimum length, and the voices
  no enrolled speaker matches told apart as ``unknown-1``, ``unknown-2`` ... (the algorithms: core/turns.py).

Pure numpy, no Qt and no TensorFlow.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from audionet_gui.core.turns import chunk_embeddings, cluster_embeddings, runs, similarity_threshold, smooth_states

UNKNOWN = "unknown"
SILENCE = "silence"
# The speech gate's answer (a bundle whose window gate is "speech"): a window loud enough not to be SILENCE in which
# the speech detector hears no one speak (a door, music, a fan). Like SILENCE it names no class and runs no
# classifier; in a file's window probabilities such a window is a row of zeros (``no_speech_rows``).
NO_SPEECH = "no speech"
# The timeline's name for the n-th voice (from 1) that matches no enrolled speaker, the same voice the same id
# across a file.
UNKNOWN_ID = UNKNOWN + "-{}"
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


# ------------------------------------------------------------------------------------------------ speaker turns

SMOOTHING = ("viterbi", "none")
SWITCH_COST = 0.5  # nats of evidence a change of speaker must win by (bench/timeline.py measured the choice)
MIN_TURN_S = 2.0
CLUSTER_CHUNK = 3  # windows per piece of unknown speech compared for clustering


def is_unknown_voice(label: str) -> bool:
    """``unknown`` or one of the timeline's ``unknown-N`` ids."""
    return label == UNKNOWN or label.startswith(UNKNOWN + "-")


def window_scores(probabilities: np.ndarray, threshold: float) -> np.ndarray:
    """(N, C + 1) log scores of the classes and, last, of UNKNOWN at ``log(threshold)``: alone, the best score per
    row is exactly the unknown gate's answer."""
    p = np.clip(np.asarray(probabilities, np.float64), 1e-9, 1.0)
    unknown = np.full((len(p), 1), np.log(max(float(threshold), 1e-9)))
    return np.concatenate([np.log(p), unknown], axis=1)


def speaker_turns(starts: np.ndarray, ends: np.ndarray, probabilities: np.ndarray, labels: Sequence[str],
                  threshold: float, hop_s: float, features: np.ndarray | None = None, smoothing: str = "viterbi",
                  min_turn_s: float = MIN_TURN_S, switch_cost: float = SWITCH_COST) -> list[Segment]:
    """Who spoke when: the speech turns of a file (windows without speech, rows of zeros, are left out: no one
    speaks there), each a Segment labelled with an enrolled speaker or ``unknown-N``.

    ``smoothing="viterbi"`` decides all windows together (``turns.smooth_states``: a change of speaker costs
    ``switch_cost``, a turn lasts at least ``min_turn_s``); ``"none"`` keeps each window's own gate answer.
    Unknown speech is cut into pieces of ``CLUSTER_CHUNK`` windows and clustered by ``features`` (N, D) (the
    backbone's, standardised; without them the probabilities stand in), at the distance that separates the named
    speakers of the same file (``turns.similarity_threshold``). Ids are numbered by first appearance.
    """
    if smoothing not in SMOOTHING:
        raise ValueError(f"smoothing must be one of {SMOOTHING}, got {smoothing!r}")
    probabilities = np.asarray(probabilities, np.float64)
    speech = np.flatnonzero(~no_speech_rows(probabilities))
    if not len(speech):
        return []
    scores = window_scores(probabilities[speech], threshold)
    if smoothing == "viterbi":
        min_run = max(1, int(round(min_turn_s / hop_s)))
        states = smooth_states(scores, switch_cost, min_run)
    else:
        states = scores.argmax(axis=1)
    n_classes = len(labels)
    vectors = np.asarray(features, np.float64)[speech] if features is not None else np.log(
        np.clip(probabilities[speech], 1e-9, 1.0))

    # the named runs tell how far apart two voices are in this file; the unknown runs are clustered at that distance
    state_runs = runs(states)
    named = [(a, b) for a, b in state_runs if states[a] < n_classes]
    named_emb, named_pieces = chunk_embeddings(vectors, named, CLUSTER_CHUNK)
    distance = similarity_threshold(named_emb, [states[a] for a, _ in named_pieces])
    unknown = [(a, b) for a, b in state_runs if states[a] == n_classes]
    unknown_emb, pieces = chunk_embeddings(vectors, unknown, CLUSTER_CHUNK)
    answers = [labels[s] if s < n_classes else UNKNOWN for s in states]
    for (a, b), cluster in zip(pieces, cluster_embeddings(unknown_emb, distance)):
        answers[a:b] = [UNKNOWN_ID.format(cluster + 1)] * (b - a)

    top = probabilities[speech].max(axis=1)
    index = {label: i for i, label in enumerate(labels)}
    starts, ends = np.asarray(starts)[speech], np.asarray(ends)[speech]
    centres = (starts + ends) / 2
    segments: list[Segment] = []
    codes: dict[str, int] = {}
    for a, b in runs([codes.setdefault(x, len(codes)) for x in answers]):
        # a run breaks where the windows are not contiguous (silence or no speech between them)
        gaps = [i for i in range(a + 1, b) if starts[i] - starts[i - 1] > hop_s * 1.001 + 1e-9]
        for lo, hi in zip([a, *gaps], [*gaps, b]):
            label = answers[lo]
            column = probabilities[speech[lo:hi], index[label]] if label in index else top[lo:hi]
            start = float(starts[lo]) if lo == 0 or _gap_before(starts, lo, hop_s) else float(
                (centres[lo - 1] + centres[lo]) / 2)
            end = float(ends[hi - 1]) if hi == len(starts) or _gap_before(starts, hi, hop_s) else float(
                (centres[hi - 1] + centres[hi]) / 2)
            segments.append(Segment(start, end, label, float(column.mean()), hi - lo))
    return _tidy(segments)


def _tidy(segments: list[Segment]) -> list[Segment]:
    """Turns that touch with the same label are one (a window without speech between two that overlap it leaves
    no gap in time); turns that overlap (windows longer than two hops) meet half way."""
    out: list[Segment] = []
    for seg in segments:
        last = out[-1] if out else None
        if last is not None and seg.start_s <= last.end_s + 1e-9:
            if seg.label == last.label:
                total = last.count + seg.count
                last.p = (last.p * last.count + seg.p * seg.count) / total
                last.end_s, last.count = max(last.end_s, seg.end_s), total
                continue
            if seg.start_s < last.end_s:
                last.end_s = seg.start_s = (seg.start_s + last.end_s) / 2
        out.append(seg)
    return out


def _gap_before(starts: np.ndarray, i: int, hop_s: float) -> bool:
    return bool(starts[i] - starts[i - 1] > hop_s * 1.001 + 1e-9)


def turn_speakers(segments: Sequence[Segment]) -> list[str]:
    """The labels of ``segments`` in order of first appearance (a timeline's ``speakers``)."""
    return list(dict.fromkeys(s.label for s in segments))


SPEECH_PAUSE_S = 0.3  # pauses in speech shorter than this stay inside a turn (breaths, stops between words)
SPEECH_PAD_S = 0.1  # speech onsets and offsets the detector calls late or early


def speech_spans(speech: np.ndarray, chunk_s: float, min_pause_s: float = SPEECH_PAUSE_S,
                 pad_s: float = SPEECH_PAD_S) -> list[tuple[float, float]]:
    """(start, end) seconds of speech from a per-chunk speech flag (the speech detector's 32 ms chunks): pauses
    shorter than ``min_pause_s`` bridged, each stretch widened by ``pad_s``."""
    spans: list[list[float]] = []
    for a, b in runs(np.asarray(speech, bool).astype(np.int8)):
        if not speech[a]:
            continue
        start, end = a * chunk_s - pad_s, b * chunk_s + pad_s
        if spans and start - spans[-1][1] < min_pause_s:
            spans[-1][1] = end
        else:
            spans.append([max(start, 0.0), end])
    return [(a, b) for a, b in spans]


def trim_to_speech(segments: Sequence[Segment], spans: Sequence[tuple[float, float]],
                   snap_s: float = 0.0) -> list[Segment]:
    """The parts of ``segments`` where someone speaks (``spans``, sorted): a turn's windows are seconds long, so
    its ends would otherwise reach into the pauses around it; a turn over a long pause becomes two.

    ``snap_s`` (the windows' hop: the turns' time resolution): a piece shorter than that at either end of a stretch
    of speech, where another speaker's piece continues the stretch, goes to that speaker, so a change of speaker
    moves to the pause the window grid could not see. Measured on bench/timeline.py (six models): 1-2 points more
    enrolled time right and 1-2 points less DER, the strangers' time unchanged; at 1.5 hops it starts to lose."""
    out: list[Segment] = []
    starts = np.array([a for a, _ in spans]) if spans else np.zeros(0)
    for seg in segments:
        i = max(int(np.searchsorted(starts, seg.start_s, side="right")) - 1, 0)
        while i < len(spans) and spans[i][0] < seg.end_s:
            a, b = max(spans[i][0], seg.start_s), min(spans[i][1], seg.end_s)
            if b > a:
                out.append(Segment(a, b, seg.label, seg.p, seg.count))
            i += 1
    return _snap_stretch_edges(out, snap_s) if snap_s > 0 else out


def _length(seg: Segment) -> float:
    return seg.end_s - seg.start_s


def _snap_stretch_edges(pieces: list[Segment], snap_s: float) -> list[Segment]:
    out: list[Segment] = []
    i = 0
    while i < len(pieces):
        j = i + 1
        while j < len(pieces) and pieces[j].start_s <= pieces[j - 1].end_s + 1e-9:  # the same stretch of speech
            j += 1
        stretch = pieces[i:j]
        while len(stretch) > 1 and stretch[0].label != stretch[1].label and _length(stretch[0]) < snap_s:
            stretch = [replace(stretch[1], start_s=stretch[0].start_s), *stretch[2:]]
        while len(stretch) > 1 and stretch[-1].label != stretch[-2].label and _length(stretch[-1]) < snap_s:
            stretch = [*stretch[:-2], replace(stretch[-2], end_s=stretch[-1].end_s)]
        out.extend(stretch)
        i = j
    return out
