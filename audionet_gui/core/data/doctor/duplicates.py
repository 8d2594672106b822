"""The same audio twice, found by what it sounds like rather than by its bytes: a copy re-encoded as MP3,
resampled, or made louder is still the same recording.

Two stages, so thousands of files cost one matrix product: fingerprints (band-energy envelopes, audio_checks)
whose shapes and lengths agree make a candidate pair; a candidate is confirmed when the decoded waveforms
themselves correlate (at most a few milliseconds apart), which two takes of the same word never do.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from audionet_gui.core.data.doctor.audio_checks import FINGERPRINT_RATE, FileFacts

CANDIDATE_SIMILARITY = 0.95   # cosine of the fingerprints
LENGTH_TOLERANCE = (0.06, 0.05)  # trimmed lengths within 60 ms or 5 %
MAX_LAG_S = 0.03              # trimming aligns copies to within a frame or two
SAME_AUDIO_CORRELATION = 0.97  # |normalised cross-correlation|: copies (even 16 kbit/s MP3) reach 0.99, two takes
# of one word by one speaker up to 0.9
VERIFY_SECONDS = 30.0         # long recordings are confirmed on their first half minute
BLOCK = 1024


def candidate_pairs(facts: Sequence[FileFacts]) -> list[tuple[int, int]]:
    """Index pairs (i < j) of files whose fingerprints and trimmed lengths agree."""
    idx = [i for i, f in enumerate(facts) if f.fingerprint is not None]
    if len(idx) < 2:
        return []
    fps = np.stack([facts[i].fingerprint for i in idx])
    lengths = np.array([facts[i].active_s for i in idx])
    pairs = []
    for a in range(0, len(idx), BLOCK):
        sims = fps[a:a + BLOCK] @ fps.T
        for r, c in zip(*np.nonzero(sims >= CANDIDATE_SIMILARITY)):
            i, j = a + int(r), int(c)
            if j <= i:
                continue
            tol = max(LENGTH_TOLERANCE[0], LENGTH_TOLERANCE[1] * max(lengths[i], lengths[j]))
            if abs(lengths[i] - lengths[j]) <= tol:
                pairs.append((idx[i], idx[j]))
    return pairs


def waveform_similarity(a: np.ndarray, b: np.ndarray, max_lag: int) -> float:
    """Largest |normalised cross-correlation| of two signals over lags up to ``max_lag`` samples."""
    n = min(a.size, b.size)
    if n == 0:
        return 0.0
    a, b = a[:n] - a[:n].mean(), b[:n] - b[:n].mean()
    size = 1 << int(np.ceil(np.log2(2 * n)))
    xc = np.fft.irfft(np.fft.rfft(a, size) * np.conj(np.fft.rfft(b, size)), size)
    lags = np.concatenate([xc[: max_lag + 1], xc[-max_lag:]]) if max_lag else xc[:1]
    denom = float(np.linalg.norm(a) * np.linalg.norm(b))
    return float(np.max(np.abs(lags)) / denom) if denom > 0 else 0.0


def confirmed_groups(facts: Sequence[FileFacts], pairs: Sequence[tuple[int, int]],
                     load: Callable[[FileFacts], np.ndarray | None],
                     tick: Callable[[], None] = lambda: None) -> list[list[int]]:
    """Groups (sorted lists of indices, two or more) of files that are the same audio.

    ``load`` returns a file's trimmed FINGERPRINT_RATE signal (None when it can no longer be read); each file is
    loaded once. ``tick`` runs after each pair (progress and cancel)."""
    cache: dict[int, np.ndarray | None] = {}
    parent = list(range(len(facts)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    max_lag = int(MAX_LAG_S * FINGERPRINT_RATE)
    limit = int(VERIFY_SECONDS * FINGERPRINT_RATE)
    for i, j in pairs:
        for k in (i, j):
            if k not in cache:
                signal = load(facts[k])
                cache[k] = None if signal is None else signal[:limit]
        if cache[i] is not None and cache[j] is not None and root(i) != root(j) \
                and waveform_similarity(cache[i], cache[j], max_lag) >= SAME_AUDIO_CORRELATION:
            parent[root(j)] = root(i)
        tick()
    groups: dict[int, list[int]] = {}
    for i in {k for pair in pairs for k in pair}:
        groups.setdefault(root(i), []).append(i)
    return sorted(sorted(g) for g in groups.values() if len(g) > 1)
