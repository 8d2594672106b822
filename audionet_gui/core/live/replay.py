"""Live replay: stream a recording through the live engine itself, with room sound before and after it, and
read the answer the live page would have given. It measures what the microphone path does to a model (windows
that hold the clip and the silence around it, the live gates and smoothing) beside the offline figure.

The engine is stepped by hand (``pump_once`` / ``run_pending``), so a replay runs as fast as the classifier and
gives the same decisions every time.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from audionet_gui.core.answers import NO_SPEECH, SILENCE, UNKNOWN
from audionet_gui.core.live.decisions import LiveDecision
from audionet_gui.core.live.engine import Classifier, LiveConfig, LiveEngine
from audionet_gui.core.live.input import PushSource

NOT_NAMES = (UNKNOWN, SILENCE, NO_SPEECH)


def room_tone(n: int, rng: np.random.Generator, level_db: float = -60.0, sample_rate: int = 16000) -> np.ndarray:
    """A quiet room as a microphone hears it: mains hum with harmonics and a ventilation-like band of noise
    (100-2000 Hz), at ``level_db`` RMS. A different family from the broadband tone training puts around short
    clips (core/audio/windows.py), so replay does not test on what training made."""
    t = np.arange(n) / sample_rate
    hum = sum(np.sin(2 * np.pi * f * t + rng.uniform(0, 6)) / k for k, f in enumerate((50.0, 100.0, 150.0), 1))
    spec = np.fft.rfft(rng.standard_normal(n))
    freqs = np.fft.rfftfreq(n, 1 / sample_rate)
    air = np.fft.irfft(spec * ((freqs > 100) & (freqs < 2000)), n)
    x = 0.3 * hum / (np.std(hum) or 1.0) + air / (np.std(air) or 1.0)
    x /= np.sqrt(np.mean(x ** 2)) or 1.0
    return (x * 10 ** (level_db / 20)).astype(np.float32)


def replay(samples: np.ndarray, sample_rate: int, classifier: Classifier, labels: Sequence[str], spectrogram_config,
           config: LiveConfig, lead_s: float = 1.0, tail_s: float = 1.5, background: np.ndarray | None = None,
           block_s: float = 0.02) -> list[LiveDecision]:
    """Every live decision while ``samples`` (at ``sample_rate``, the model's rate) is heard after ``lead_s`` of
    ``background`` (room tone when None) and followed by ``tail_s`` of it."""
    lead, tail = int(lead_s * sample_rate), int(tail_s * sample_rate)
    if background is None:
        background = room_tone(lead + tail, np.random.default_rng(0), sample_rate=sample_rate)
    background = np.resize(np.asarray(background, np.float32), lead + tail)
    stream = np.concatenate([background[:lead], np.asarray(samples, np.float32), background[lead:]])
    source = PushSource(sample_rate, sample_rate, buffer_s=max(30.0, stream.size / sample_rate + 1))
    engine = LiveEngine(source, classifier, labels, spectrogram_config, config, compute_columns=False)
    decisions = []
    block = max(1, int(block_s * sample_rate))
    for start in range(0, stream.size, block):
        source.push(stream[start:start + block], stamp=0.0)
        engine.pump_once()
        decision = engine.run_pending()
        if decision is not None:
            decisions.append(decision)
    return decisions


def answer_from_decisions(decisions: Sequence[LiveDecision], start_s: float, end_s: float, window_s: float) -> str:
    """What the live page said about the span ``start_s``..``end_s``: of the names given by decisions whose window
    (``window_s`` ending at the decision's time) overlaps it, the one given with the most confidence in all (the
    sum of its decisions' probabilities); unknown when none named anyone.

    Not the name given most often: a short word is heard by about two windows, and when they disagree a count
    is a tie that went to whichever came first, the window holding the word's start at its end."""
    weights: dict[str, float] = {}
    for d in decisions:
        if d.label not in NOT_NAMES and d.t > start_s and d.t - window_s < end_s:
            weights[d.label] = weights.get(d.label, 0.0) + float(d.p)
    if not weights:
        return UNKNOWN
    return max(weights, key=weights.__getitem__)


def live_answerer(classifier: Classifier, labels: Sequence[str], spectrogram_config, config: LiveConfig,
                  lead_s: float = 1.0, tail_s: float = 1.5) -> Callable[[np.ndarray], str]:
    """``samples -> label`` through the live engine, for the robustness report."""
    rate = int(spectrogram_config.sample_rate)

    def answer(samples: np.ndarray) -> str:
        decisions = replay(samples, rate, classifier, labels, spectrogram_config, config, lead_s, tail_s)
        return answer_from_decisions(decisions, lead_s, lead_s + len(samples) / rate, config.window_s)

    return answer
