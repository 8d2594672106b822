"""``doctor_dataset``: every check of the dataset doctor as one long job (progress, cancel). It reads the
files and never changes them; what it finds is a list of ``Finding`` (findings.py) with the fix to make.

Checks: unreadable files; silence (nothing above the silence level windows are trained on); too short;
clipping; the same audio twice in one class or in two classes (decoded audio compared, duplicates.py); a class
recorded at another sample rate or channel count than the rest (a shortcut a network learns instead of the
voice); classes with far less audio than the largest; and, with a backbone, files that sound like another
class (suspects.py).
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from audionet_gui.core.base.errors import AudioFileError
from audionet_gui.core.base.jobs import CancelToken, ProgressCallback, ProgressTracker, ensure_token
from audionet_gui.core.data.dataset import (
    BACKGROUND_CLASS,
    IMBALANCE_RATIO,
    DatasetSpec,
    SourceFile,
    dataset_sources,
)
from audionet_gui.core.data.doctor.audio_checks import FileFacts, analyse_file, fingerprint_signal
from audionet_gui.core.data.doctor.duplicates import candidate_pairs, confirmed_groups
from audionet_gui.core.data.doctor.findings import Finding, sort_findings
from audionet_gui.core.data.doctor.suspects import find_suspects
from audionet_gui.core.settings import ImageSettings

MIN_CLIP_S = 0.1            # less sound than this (a syllable) holds too little of a voice or sound to learn from
CLIPPED_FRACTION = 5e-4     # this share of a file's samples stuck at its peak (a burst of 8 in a second)
MIN_CLIPPED_SAMPLES = 8
EXCLUDE_FIX = "Exclude it from the project (the file itself stays where it is)."


@dataclass
class DoctorReport:
    findings: list[Finding]
    files: int = 0
    seconds: float = 0.0
    timings: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"findings": [f.to_dict() for f in self.findings]}


def doctor_dataset(spec: DatasetSpec, backbone: str | None = None, weights: str | None = "imagenet",
                   settings: ImageSettings | None = None, workspace: Path | None = None,
                   feature_cache: Path | None = None, progress: ProgressCallback | None = None,
                   cancel: CancelToken | None = None) -> DoctorReport:
    """Examine every file of ``spec`` (its test folder too). ``backbone`` adds the suspect-label check."""
    cancel = ensure_token(cancel)
    started = time.monotonic()
    settings = settings or ImageSettings()
    sources = dataset_sources(spec)
    findings: list[Finding] = []
    facts: list[FileFacts] = []
    tracker = ProgressTracker(progress, "examining", len(sources))
    for s in sources:
        cancel.raise_if_cancelled()
        try:
            facts.append(analyse_file(s.path, s.label))
        except AudioFileError as exc:
            findings.append(Finding("unreadable", [str(s.path)], f"{s.path.name}: {exc.reason}",
                                    "Re-export or replace the file, or " + EXCLUDE_FIX[0].lower() + EXCLUDE_FIX[1:],
                                    cls=s.label))
        tracker.advance(message=s.path.name)
    timings = {"examine_s": time.monotonic() - started}

    findings += _per_file_findings(facts, settings.window.silence_db)
    findings += _format_findings(facts)
    findings += _imbalance_findings(spec, sources, facts)
    t0 = time.monotonic()
    findings += _duplicate_findings(facts, progress, cancel)
    timings["duplicates_s"] = time.monotonic() - t0
    if backbone:
        t0 = time.monotonic()
        findings += find_suspects(spec, backbone, weights, settings, workspace, feature_cache, progress, cancel)
        timings["suspects_s"] = time.monotonic() - t0
    return DoctorReport(sort_findings(findings), len(sources), time.monotonic() - started, timings)


def _per_file_findings(facts: list[FileFacts], silence_db: float) -> list[Finding]:
    out = []
    for f in facts:
        name = f.path.name
        if f.loudest_db < silence_db and f.label != BACKGROUND_CLASS:  # quiet room tone is that class's job
            what = "silent" if f.peak <= 1e-4 else f"too quiet to use (its loudest half second is " \
                                                   f"{f.loudest_db:.0f} dBFS)"
            out.append(Finding("silence", [str(f.path)],
                               f"{name} is {what}: training leaves out windows under {silence_db:.0f} dBFS.",
                               "Exclude it, or record it again closer to the microphone.", cls=f.label,
                               score=silence_db - f.loudest_db))
            continue  # a silent file's length or fingerprint says nothing more
        if f.active_s < MIN_CLIP_S:
            out.append(Finding("too_short", [str(f.path)],
                               f"{name} holds {f.active_s:.2f} s of sound (under {MIN_CLIP_S:.2f} s): too little "
                               "to learn a voice or sound from.",
                               "Exclude it, or replace it with a longer recording.", cls=f.label,
                               score=MIN_CLIP_S - f.active_s))
        if f.clipped_samples >= MIN_CLIPPED_SAMPLES and f.clipped_fraction >= CLIPPED_FRACTION:
            out.append(Finding("clipping", [str(f.path)],
                               f"{name} is clipped: {f.clipped_fraction:.2%} of its samples are stuck at the peak "
                               f"({20 * np.log10(max(f.peak, 1e-10)):.1f} dBFS); the distortion can become "
                               "what the network learns.",
                               "Record it again with a lower input level, or exclude it.", cls=f.label,
                               score=f.clipped_fraction))
    return out


def _format_name(rate: int, channels: int) -> str:
    return f"{rate / 1000:g} kHz {'mono' if channels == 1 else 'stereo' if channels == 2 else f'{channels} ch'}"


def _format_findings(facts: list[FileFacts]) -> list[Finding]:
    """A class whose usual format (rate, channels) is not the one most other classes have."""
    by_class: dict[str, Counter] = defaultdict(Counter)
    for f in facts:
        by_class[f.label][(f.sample_rate, f.channels)] += 1
    if len(by_class) < 2:
        return []
    usual = {label: counts.most_common(1)[0][0] for label, counts in by_class.items()}
    out = []
    for label, fmt in usual.items():
        others = Counter(v for k, v in usual.items() if k != label)
        common, n = others.most_common(1)[0]
        if fmt == common or n < 2 and len(others) > 1 or list(others.values()).count(n) > 1:
            continue  # the same as the rest, or no clear "rest" to compare with
        paths = [str(f.path) for f in facts if f.label == label and (f.sample_rate, f.channels) == fmt]
        out.append(Finding(
            "sample_rate_mismatch", paths,
            f"class '{label}' is recorded at {_format_name(*fmt)}, the other classes at {_format_name(*common)}: "
            "a network can learn the recording format instead of the voice.",
            f"Record '{label}' the same way as the others, or convert its files to {_format_name(*common)} "
            "(audio above the lower rate's limit is lost either way).", cls=label, score=len(paths)))
    return out


def _imbalance_findings(spec: DatasetSpec, sources: list[SourceFile], facts: list[FileFacts]) -> list[Finding]:
    seconds = {name: 0.0 for name in spec.labels}
    files: dict[str, list[str]] = defaultdict(list)
    fixed = {s.path for s in sources if s.fixed_split is not None}
    for f in facts:
        if f.path not in fixed:
            seconds[f.label] += f.duration_s
            files[f.label].append(str(f.path))
    largest_name = max(seconds, key=seconds.get) if seconds else None
    if largest_name is None or len(seconds) < 2:
        return []
    largest = seconds[largest_name]
    out = []
    for name, s in seconds.items():
        if s > 0 and largest / s >= IMBALANCE_RATIO:
            out.append(Finding(
                "imbalance", files[name],
                f"class '{name}' has {s:.0f} s of audio, {largest / s:.1f}x less than '{largest_name}' "
                f"({largest:.0f} s): the network will favour the larger classes.",
                f"Add recordings to '{name}' (or leave some of the larger classes out).", cls=name,
                score=largest / s))
    return out


def _duplicate_findings(facts: list[FileFacts], progress: ProgressCallback | None,
                        cancel: CancelToken) -> list[Finding]:
    pairs = candidate_pairs(facts)
    tracker = ProgressTracker(progress, "comparing", len(pairs))

    def load(f: FileFacts) -> np.ndarray | None:
        try:
            signal = fingerprint_signal(f.path, f.sample_rate or 8000)
        except AudioFileError:
            return None
        return signal[f.trim[0]:f.trim[1]]

    def tick() -> None:
        cancel.raise_if_cancelled()
        tracker.advance()

    out = []
    for group in confirmed_groups(facts, pairs, load, tick):
        members = [facts[i] for i in group]
        labels = sorted({f.label for f in members})
        listed = ", ".join(f"{f.label}/{f.path.name}" for f in members)
        paths = [str(f.path) for f in members]
        if len(labels) > 1:
            out.append(Finding("cross_class_duplicate", paths,
                               f"the same audio is in classes {', '.join(repr(x) for x in labels)}: {listed}",
                               "Keep it in the class it belongs to and exclude the other copies.",
                               score=len(members)))
        else:
            out.append(Finding("duplicate", paths, f"the same audio is in '{labels[0]}' {len(members)} times: "
                                                   f"{listed}",
                               "Exclude the extra copies: a copy counts twice in training and can end up in the "
                               "test split too, which makes the test look better than it is.",
                               cls=labels[0], score=len(members)))
    return out
