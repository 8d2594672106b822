"""Scoring a who-spoke-when answer against a reference: speaker-attributed time and the diarization error rate.

Own code rather than pyannote.metrics (which brings pandas, sympy and pyannote.core for two numbers). Time is
sampled on a fine grid (``step_s``, 10 ms), as the NIST md-eval scorer does without a collar:

- DER = (missed speech + false alarm + confusion) / reference speech time, where reference labels that the
  hypothesis names exactly (enrolled speakers) map to themselves, and the remaining hypothesis labels (``unknown-1``
  ...) map one-to-one onto the remaining reference labels (strangers) by the mapping with the most overlap
  (Hungarian assignment, scipy).
- Speaker-attributed time: the share of the enrolled speakers' reference time given their own name, and the share
  of the strangers' time given any unknown id.

Overlapping speech is not modelled: at most one reference and one hypothesis label per instant (the last one given
wins), which is what the timeline produces. Pure numpy/scipy.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.optimize import linear_sum_assignment

NOT_SPEECH_LABELS = ("silence", "no speech")


@dataclass(frozen=True)
class Turn:
    start: float
    end: float
    label: str


def _grid(turns: Sequence[Turn], n: int, step_s: float, labels: list[str]) -> np.ndarray:
    """(n,) label index per grid step, -1 where no one speaks."""
    out = np.full(n, -1, np.int64)
    for t in turns:
        if t.label in NOT_SPEECH_LABELS or t.end <= t.start:
            continue
        a, b = int(round(t.start / step_s)), int(round(t.end / step_s))
        out[max(a, 0):min(b, n)] = labels.index(t.label)
    return out


def is_unknown_id(label: str) -> bool:
    return label.startswith("unknown")


def diarization_scores(references: Sequence[Sequence[Turn]], hypotheses: Sequence[Sequence[Turn]],
                       strangers: Sequence[str] = (), step_s: float = 0.01) -> dict:
    """Scores over several files (pairs of reference and hypothesis turns), JSON-ready:
    ``der``, ``missed``, ``false_alarm``, ``confusion`` (shares of reference speech time), ``enrolled_right``
    (share of non-stranger reference time given its own name), ``stranger_unknown`` (share of strangers' time given
    an unknown id), ``stranger_main_id`` (share of a stranger's unknown-id time under its most used id, pooled over
    strangers and files), ``strangers_distinct`` (files where every stranger's main id differs from the other
    strangers', out of files with two or more strangers speaking, as "k/n"), ``speech_s``."""
    totals = dict(speech=0.0, missed=0.0, false_alarm=0.0, confusion=0.0, enrolled=0.0, enrolled_right=0.0,
                  stranger=0.0, stranger_unknown=0.0, stranger_main=0.0)
    distinct = [0, 0]
    strangers = set(strangers)
    for ref, hyp in zip(references, hypotheses):
        end = max([t.end for t in ref] + [t.end for t in hyp] + [0.0])
        n = int(np.ceil(end / step_s)) + 1
        ref_labels = sorted({t.label for t in ref})
        hyp_labels = sorted({t.label for t in hyp if t.label not in NOT_SPEECH_LABELS})
        r = _grid(ref, n, step_s, ref_labels)
        h = _grid(hyp, n, step_s, hyp_labels)
        speech = r >= 0
        totals["speech"] += speech.sum() * step_s
        totals["missed"] += (speech & (h < 0)).sum() * step_s
        totals["false_alarm"] += (~speech & (h >= 0)).sum() * step_s
        # the mapping: names to themselves, the other hypothesis labels one-to-one onto the other reference labels
        mapping = {hyp_labels.index(x): ref_labels.index(x) for x in hyp_labels if x in ref_labels}
        free_h = [i for i, x in enumerate(hyp_labels) if i not in mapping]
        free_r = [j for j in range(len(ref_labels)) if j not in mapping.values()]
        if free_h and free_r:
            overlap = np.array([[np.sum((h == i) & (r == j)) for j in free_r] for i in free_h])
            rows, cols = linear_sum_assignment(-overlap)
            mapping.update({free_h[a]: free_r[b] for a, b in zip(rows, cols)})
        mapped = np.array([mapping.get(int(x), -2) if x >= 0 else -1 for x in h])
        totals["confusion"] += (speech & (h >= 0) & (mapped != r)).sum() * step_s

        main_ids = []
        for j, name in enumerate(ref_labels):
            mine = r == j
            if name in strangers:
                unknown = mine & np.isin(h, [i for i, x in enumerate(hyp_labels) if is_unknown_id(x)])
                totals["stranger"] += mine.sum() * step_s
                totals["stranger_unknown"] += unknown.sum() * step_s
                if unknown.any():
                    ids, counts = np.unique(h[unknown], return_counts=True)
                    totals["stranger_main"] += counts.max() * step_s
                    main_ids.append(int(ids[counts.argmax()]))
            else:
                totals["enrolled"] += mine.sum() * step_s
                if name in hyp_labels:
                    totals["enrolled_right"] += (mine & (h == hyp_labels.index(name))).sum() * step_s
        if sum(1 for name in ref_labels if name in strangers) >= 2:
            distinct[1] += 1
            distinct[0] += int(len(main_ids) >= 2 and len(set(main_ids)) == len(main_ids))

    def share(a: str, b: str) -> float:
        return float(totals[a] / totals[b]) if totals[b] else float("nan")

    return {
        "der": share("missed", "speech") + share("false_alarm", "speech") + share("confusion", "speech"),
        "missed": share("missed", "speech"),
        "false_alarm": share("false_alarm", "speech"),
        "confusion": share("confusion", "speech"),
        "enrolled_right": share("enrolled_right", "enrolled"),
        "stranger_unknown": share("stranger_unknown", "stranger"),
        "stranger_main_id": share("stranger_main", "stranger_unknown"),
        "strangers_distinct": f"{distinct[0]}/{distinct[1]}",
        "speech_s": round(totals["speech"], 2),
    }
