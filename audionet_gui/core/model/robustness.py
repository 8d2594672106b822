"""The robustness report: how often recordings are named right in noise, in another room, through a cheap
microphone and through the live engine, beside the clean figure, with the weakest condition named and advice.

Model-agnostic: ``answer(samples) -> label`` names one recording (``answer_with_bundle`` makes it from a trained
model folder), ``live_answer`` (optional) does the same through the live engine (core/live/replay.py). The noise
recordings passed in must be ones the model was not augmented with; the pipeline holds them back.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from audionet_gui.core.answers import NOT_A_CLASS, UNKNOWN
from audionet_gui.core.audio.conditions import with_cheap_microphone, with_noise, with_room
from audionet_gui.core.base.jobs import CancelToken, ProgressCallback, ProgressTracker, ensure_token

DEFAULT_SNRS = (20.0, 10.0, 5.0, 0.0)
Answer = Callable[[np.ndarray], str]

ADVICE = {
    "noise": "Noise is the weakest point: record the background of the places where the model will listen "
             "(Live page, Record background noise; or --noise-dir) and enrol each class in noisier places too.",
    "reverb": "Another room is the weakest point: enrol each class in more than one room, and some clips from a "
              "metre or two away from the microphone.",
    "cheap_mic": "Another microphone is the weakest point: enrol with the microphone the model will hear live "
                 "(record into a class on the Live page), or add clips recorded through a phone or laptop.",
    "live_replay": "Live answers are weaker than file answers: record some enrolment clips through the Live page "
                   "so training hears the microphone, its level and the pauses around speech.",
}


@dataclass(frozen=True)
class Condition:
    name: str
    kind: str  # "clean", "noise", "reverb", "cheap_mic", "live_replay": the key of its advice
    apply: Callable[[np.ndarray, int, np.random.Generator], np.ndarray] | None = None


def standard_conditions(noises: Sequence[np.ndarray], snrs: Sequence[float] = DEFAULT_SNRS) -> list[Condition]:
    """Clean, noise at each SNR (one held-back noise recording per test recording, drawn in turn), another room
    and a cheap microphone."""
    conditions = [Condition("clean", "clean")]
    if noises:
        for snr in snrs:
            def noisy(x, sr, rng, snr=snr):
                return with_noise(x, noises[int(rng.integers(len(noises)))], snr, rng)
            conditions.append(Condition(f"noise_{snr:g}db", "noise", noisy))
    def reverberant(x, sr, rng):
        return with_room(x, sr, rng, float(rng.uniform(0.4, 0.9)))
    conditions.append(Condition("reverb", "reverb", reverberant))
    conditions.append(Condition("cheap_mic", "cheap_mic", with_cheap_microphone))
    return conditions


def robustness_report(recordings: Sequence[tuple[np.ndarray, str]], sample_rate: int, answer: Answer,
                      conditions: Sequence[Condition], live_answer: Answer | None = None, seed: int = 0,
                      progress: ProgressCallback | None = None, cancel: CancelToken | None = None) -> dict:
    """Accuracy per condition over ``recordings`` ((samples, true label) pairs): a recording counts as right when
    ``answer`` names its label; "unknown" or another name is wrong. Returns a JSON-ready dict: ``conditions``
    {name: {accuracy, unknown_rate (unknown or no speech), recordings, kind}}, ``weakest`` (the condition with the
    lowest accuracy, clean excluded), ``advice`` (what to do about it) and ``seed``."""
    cancel = ensure_token(cancel)
    runs = [*conditions, *([Condition("live_replay", "live_replay")] if live_answer is not None else [])]
    tracker = ProgressTracker(progress, "robustness", len(runs) * len(recordings))
    results: dict[str, dict] = {}
    for index, condition in enumerate(runs):
        rng = np.random.default_rng([seed, index])
        right = unknown = 0
        for samples, label in recordings:
            cancel.raise_if_cancelled()
            x = np.asarray(samples, np.float32)
            if condition.apply is not None:
                x = condition.apply(x, sample_rate, rng)
            said = (live_answer if condition.kind == "live_replay" else answer)(x)
            right += said == label
            unknown += said in NOT_A_CLASS
            tracker.advance(1, message=condition.name)
        n = max(1, len(recordings))
        results[condition.name] = {"accuracy": right / n, "unknown_rate": unknown / n, "recordings": len(recordings),
                                   "kind": condition.kind}
    scored = {name: r for name, r in results.items() if r["kind"] != "clean"}
    weakest = min(scored, key=lambda name: (scored[name]["accuracy"], name)) if scored else None
    return {"conditions": results, "weakest": weakest,
            "advice": ADVICE.get(results[weakest]["kind"], "") if weakest else "", "seed": seed}


def answer_with_bundle(bundle) -> Answer:
    """Name a recording with a trained model exactly as ``audionet predict`` does (the gated mean over windows)."""
    from audionet_gui.core.model.predict import predict_samples  # noqa: PLC0415 - loads TensorFlow (3 s)

    def answer(samples: np.ndarray) -> str:
        try:
            return predict_samples(bundle, samples).label
        except ValueError:  # no window to identify (all silent after the condition)
            return UNKNOWN

    return answer
