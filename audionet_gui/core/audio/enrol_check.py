"""Is this voice print good enough? The enrolment check of "Add a speaker" and ``audionet enroll``: before a model
learns a voice from a few clips, measure what makes a print good or bad and say what to do about it.

Per recording set (all clips of one speaker):
- speech: seconds in which the speech detector (Silero) hears someone speak; about 30 s makes a good print;
- level: the speech's RMS level (dBFS); very quiet recordings carry the microphone's noise more than the voice;
- clipping: the share of samples at full scale; clipped speech has harmonics the voice does not have;
- background noise: the level of the parts without speech and the speech's margin over it (SNR, dB);
- agreement: how alike the clips sound (long-term spectra of their speech, correlated): a clip of someone else, or
  of another microphone, stands out. With embeddings (e.g. a model's features) those are compared instead.

Each item is "good", "fair" or "poor" with a message; the check as a whole is as good as its worst item. Pure numpy
(and the speech detector).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from audionet_gui.core.audio.files import load_audio
from audionet_gui.core.audio.vad import CHUNK, REFERENCE_THRESHOLD, VAD_RATE, speech_probabilities
from audionet_gui.core.base.errors import AudioFileError

GOOD_SPEECH_S, FAIR_SPEECH_S = 20.0, 8.0
QUIET_DB, FAIR_QUIET_DB = -35.0, -45.0  # speech RMS below these is too quiet
CLIP_LEVEL = 0.999
GOOD_CLIPPED, FAIR_CLIPPED = 0.0005, 0.005  # share of samples at full scale
GOOD_SNR_DB, FAIR_SNR_DB = 25.0, 12.0
NOISE_PERCENTILE = 20
NOISY_FLOOR_DB = -40.0
GOOD_AGREEMENT, FAIR_AGREEMENT = 0.8, 0.6  # a clip's correlation with the others' median spectrum
RANK = {"good": 0, "fair": 1, "poor": 2}


@dataclass
class CheckItem:
    key: str  # speech | level | clipping | noise | agreement
    status: str  # good | fair | poor
    value: float | None
    message: str

    def to_dict(self) -> dict:
        return {"key": self.key, "status": self.status,
                "value": None if self.value is None else round(float(self.value), 3), "message": self.message}


@dataclass
class EnrolmentCheck:
    items: list[CheckItem]
    speech_s: float
    clips: int
    outliers: list[int] = field(default_factory=list)  # clips that agree least with the others

    @property
    def status(self) -> str:
        return max((i.status for i in self.items), key=RANK.__getitem__, default="poor")

    @property
    def ok(self) -> bool:
        """Good enough to enrol (nothing poor)."""
        return self.status != "poor"

    def advice(self) -> list[str]:
        return [i.message for i in self.items if i.status != "good"]

    def to_dict(self) -> dict:
        return {"status": self.status, "ok": self.ok, "speech_s": round(self.speech_s, 2), "clips": self.clips,
                "items": [i.to_dict() for i in self.items], "outliers": self.outliers, "advice": self.advice()}


def _db(x: float) -> float:
    return float(20 * np.log10(max(x, 1e-10)))


def _grade(value: float, good: float, fair: float, higher_is_better: bool = True) -> str:
    if higher_is_better:
        return "good" if value >= good else "fair" if value >= fair else "poor"
    return "good" if value <= good else "fair" if value <= fair else "poor"


def _ltas(chunks: np.ndarray) -> np.ndarray:
    """Long-term average log spectrum of (n, CHUNK) chunks, 32 bands."""
    spec = np.abs(np.fft.rfft(chunks * np.hanning(CHUNK), axis=1)) ** 2
    bands = np.array_split(spec.mean(axis=0), 32)
    return np.log10(np.array([b.mean() for b in bands]) + 1e-12)


def check_enrolment(clips: Sequence[np.ndarray], sample_rate: int, embeddings: np.ndarray | None = None,
                    threshold: float = REFERENCE_THRESHOLD) -> EnrolmentCheck:
    """The enrolment check of ``clips`` (mono float arrays at ``sample_rate``); ``embeddings`` (one row per clip),
    when given, decide the agreement among the clips instead of their spectra."""
    import soxr  # noqa: PLC0415 - the resampler is only needed here, and imported by vad anyway

    speech_parts, quiet_parts, ltas, peaks = [], [], [], []
    clipped = total = 0
    for clip in clips:
        x = np.nan_to_num(np.asarray(clip, np.float32).reshape(-1))
        total += x.size
        clipped += int(np.count_nonzero(np.abs(x) >= CLIP_LEVEL))
        peaks.append(float(np.abs(x).max()) if x.size else 0.0)
        y = soxr.resample(x, sample_rate, VAD_RATE).astype(np.float32) if sample_rate != VAD_RATE and x.size else x
        n = y.size // CHUNK
        if n == 0:
            ltas.append(None)
            continue
        chunks = y[:n * CHUNK].reshape(n, CHUNK)
        speech = speech_probabilities(y, VAD_RATE)[:n] >= threshold
        speech_parts.append(chunks[speech])
        quiet_parts.append(chunks[~speech])
        ltas.append(_ltas(chunks[speech]) if speech.sum() >= 8 else None)
    speech_chunks = np.concatenate(speech_parts) if speech_parts else np.zeros((0, CHUNK), np.float32)
    quiet_chunks = np.concatenate(quiet_parts) if quiet_parts else np.zeros((0, CHUNK), np.float32)
    speech_s = len(speech_chunks) * CHUNK / VAD_RATE
    items = []

    status = _grade(speech_s, GOOD_SPEECH_S, FAIR_SPEECH_S)
    items.append(CheckItem("speech", status, speech_s, {
        "good": f"{speech_s:.0f} s of speech: enough for a good voice print",
        "fair": f"only {speech_s:.0f} s of speech: record more (about 30 s) for a reliable voice print",
        "poor": f"{speech_s:.1f} s of speech: too little to learn a voice; record about 30 s of the person speaking",
    }[status]))

    level = _db(float(np.sqrt(np.mean(speech_chunks.astype(np.float64) ** 2)))) if len(speech_chunks) else -120.0
    status = _grade(level, QUIET_DB, FAIR_QUIET_DB) if len(speech_chunks) else "poor"
    items.append(CheckItem("level", status, level, {
        "good": f"speech level {level:.0f} dBFS",
        "fair": f"quiet ({level:.0f} dBFS): move closer to the microphone or raise its input level",
        "poor": "no speech level to measure" if not len(speech_chunks) else
                f"far too quiet ({level:.0f} dBFS): move closer to the microphone or raise its input level",
    }[status]))

    share = clipped / max(total, 1)
    status = _grade(share, GOOD_CLIPPED, FAIR_CLIPPED, higher_is_better=False)
    items.append(CheckItem("clipping", status, share, {
        "good": "no clipping",
        "fair": f"some clipping ({share:.1%} of samples at full scale): lower the input level a little",
        "poor": f"clipped ({share:.1%} of samples at full scale): lower the input level or speak further away",
    }[status]))

    # the floor: a low percentile of the pauses' chunk levels (the detector's misses at word edges are louder)
    noise = (float(np.percentile([_db(float(np.sqrt(np.mean(c.astype(np.float64) ** 2)))) for c in quiet_chunks],
                                 NOISE_PERCENTILE)) if len(quiet_chunks) else None)
    if noise is None or not len(speech_chunks):
        status, snr = ("fair" if len(speech_chunks) else "poor"), None
        if len(speech_chunks):
            message = "no pause to measure the background noise in: leave a second of quiet before speaking"
        elif noise is not None and noise > NOISY_FLOOR_DB:
            message = f"no speech heard over the background noise ({noise:.0f} dBFS): record in a quieter place"
        else:
            message = "no speech heard: is the microphone on and the right one?"
    else:
        snr = level - noise
        status = _grade(snr, GOOD_SNR_DB, FAIR_SNR_DB)
        message = {"good": f"quiet background ({noise:.0f} dBFS, speech {snr:.0f} dB above it)",
                   "fair": f"noisy background (speech only {snr:.0f} dB above it): find a quieter place or turn off "
                           "fans and music",
                   "poor": f"very noisy background (speech {snr:.0f} dB above it): record in a quieter place"}[status]
    items.append(CheckItem("noise", status, snr, message))

    outliers: list[int] = []
    vectors = embeddings if embeddings is not None else ltas
    usable = [i for i, v in enumerate(vectors) if v is not None]
    if len(usable) >= 2:
        rows = np.stack([np.asarray(vectors[i], np.float64) for i in usable])
        rows = rows - rows.mean(axis=1, keepdims=True) if embeddings is None else rows
        agreement = []
        for k in range(len(usable)):
            others = np.median(np.delete(rows, k, axis=0), axis=0)
            a, b = rows[k], others
            agreement.append(float(a @ b / max(np.linalg.norm(a) * np.linalg.norm(b), 1e-12)))
        worst = float(min(agreement))
        status = _grade(worst, GOOD_AGREEMENT, FAIR_AGREEMENT)
        outliers = [usable[k] for k, a in enumerate(agreement) if a < FAIR_AGREEMENT]
        items.append(CheckItem("agreement", status, worst, {
            "good": "the clips sound alike",
            "fair": "one clip sounds rather unlike the others (another room or microphone?)",
            "poor": "clip(s) " + ", ".join(str(i + 1) for i in outliers) + " sound unlike the others: another "
                    "person, or a very different microphone or room? Leave them out or record them again",
        }[status]))
    else:
        items.append(CheckItem("agreement", "good", None, "one recording: nothing to compare"))
    return EnrolmentCheck(items, speech_s, len(clips), outliers)


def check_files(paths: Sequence[str], sample_rate: int = VAD_RATE) -> dict:
    """``check_enrolment`` of audio files, JSON-ready, with ``failed`` ({path, reason}) for files that cannot be
    read (the GUI's "Add a speaker" runs it as a job)."""
    clips, failed = [], []
    for path in paths:
        try:
            clips.append(load_audio(path, sample_rate))
        except AudioFileError as exc:
            failed.append({"path": str(path), "reason": exc.reason})
    return {**check_enrolment(clips, sample_rate).to_dict(), "failed": failed}
