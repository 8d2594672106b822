"""The robustness report of a bundle on recordings: held-back noises, another room, a cheap microphone, live
replay (core/model/robustness.py scores them)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from audionet_gui.core.audio.conditions import test_noises
from audionet_gui.core.audio.files import load_audio
from audionet_gui.core.base.errors import AudioFileError
from audionet_gui.core.base.jobs import (
    CancelToken,
    ProgressCallback,
    ensure_token,
)
from audionet_gui.core.live.engine import classifier_from_bundle, live_config_from_bundle
from audionet_gui.core.live.replay import live_answerer
from audionet_gui.core.model.bundle import ModelBundle
from audionet_gui.core.model.robustness import answer_with_bundle, robustness_report, standard_conditions

# The robustness report scores at most this many recordings of each class (chosen evenly from the sorted list):
# every recording is answered under 7 conditions plus a live replay, so the cost grows fast.
ROBUSTNESS_PER_CLASS = 20


def load_recordings(sources: dict[str, Sequence[str | Path]], sample_rate: int,
                    per_class: int = ROBUSTNESS_PER_CLASS,
                    cancel: CancelToken | None = None) -> tuple[list[tuple[np.ndarray, str]], list[dict]]:
    """(samples at ``sample_rate``, label) of at most ``per_class`` recordings of each label (evenly spaced over
    the sorted distinct paths, so the choice is the same every time) and ``{path, reason}`` of unreadable ones."""
    recordings, failed = [], []
    for label in sorted(sources):
        paths = sorted({str(p) for p in sources[label]})
        if len(paths) > per_class:
            paths = [paths[i] for i in np.linspace(0, len(paths) - 1, per_class).round().astype(int)]
        for path in paths:
            ensure_token(cancel).raise_if_cancelled()
            try:
                recordings.append((load_audio(path, sample_rate), label))
            except AudioFileError as exc:
                failed.append({"path": path, "reason": exc.reason})
    return recordings, failed


def bundle_robustness(bundle: ModelBundle, recordings: Sequence[tuple[np.ndarray, str]], seed: int = 0,
                      live: bool = True, per_class: int = ROBUSTNESS_PER_CLASS,
                      progress: ProgressCallback | None = None, cancel: CancelToken | None = None) -> dict:
    """The robustness report of a bundle (core/model/robustness.py) on ``recordings``: clean, the held-back test
    noises (core/audio/conditions.test_noises, never used in training) at 20/10/5/0 dB, reverb, cheap_mic and
    ``live_replay`` (through the live engine, with room tone around each recording). Each recording is named as
    ``audionet predict`` names a file (a clip shorter than the window is filled by the same short-clip rule).
    JSON-ready: ``conditions`` {name: {accuracy, unknown_rate, recordings, kind}}, ``weakest``, ``advice``,
    ``seed``, ``per_class_limit``."""
    noises = list(test_noises(bundle.sample_rate, seed).values())
    live_answer = None
    if live:
        live_answer = live_answerer(classifier_from_bundle(bundle), bundle.labels, bundle.spectrogram_config,
                                    live_config_from_bundle(bundle))
    report = robustness_report(recordings, bundle.sample_rate, answer_with_bundle(bundle),
                               standard_conditions(noises), live_answer=live_answer, seed=seed,
                               progress=progress, cancel=cancel)
    report["per_class_limit"] = per_class
    return report
