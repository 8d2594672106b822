"""Who spoke when in a long recording, the job behind ``audionet timeline`` and the Identify page's lanes:

    windows (the bundle's rule) -> speech activity (the bundle's gate) -> backbone features of each window with
    speech -> the head's probabilities -> ``answers.speaker_turns`` (smoothing, minimum turn, unknown voices
    clustered into unknown-1, unknown-2 ...)

A model made of a backbone and a head (every model ``train`` makes) is run in two parts here, so each window's
features come out of the same pass as its probabilities: the head is a standardisation and a dense softmax,
computed in numpy with the model's own weights (core/model/openset.py; with the model's open-set score the
probabilities are its posterior, as in predict). The standardised features are what the unknown voices are told
apart by. A model of another shape runs whole, and its probabilities stand in.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import soundfile as sf

from audionet_gui.core.answers import (
    MIN_TURN_S,
    SWITCH_COST,
    Segment,
    speaker_turns,
    speech_spans,
    trim_to_speech,
    turn_speakers,
)
from audionet_gui.core.audio.files import audio_info, is_audio_file, iter_audio_blocks, load_audio
from audionet_gui.core.audio.vad import (
    CHUNK,
    LEVEL_SPAN,
    VAD_RATE,
    has_speech,
    levelled_spans,
    speech_probabilities_of_each,
)
from audionet_gui.core.audio.windows import iter_file_windows
from audionet_gui.core.base.errors import AudioFileError, AudioNetError
from audionet_gui.core.base.jobs import CancelToken, ProgressCallback, ProgressTracker, ensure_token
from audionet_gui.core.model.bundle import ModelBundle, load_bundle
from audionet_gui.core.model.openset import HeadParts, OpenSet
from audionet_gui.core.model.openset import head_parts as model_parts
from audionet_gui.core.model.predict import (
    DEFAULT_BATCH_SIZE,
    FilePrediction,
    predict_stream,
    prediction_from_windows,
)

# Blocks of the file the speech detector judges together (its Python loop over 32 ms steps is most of its time):
# ten one-minute blocks hold 38 MB of 16 kHz audio. The bench's hour: 9.0 -> 5.9 s of CPU, every flag the same.
VAD_BLOCKS_AT_ONCE = 10


@dataclass
class TurnOptions:
    smoothing: str = "viterbi"
    min_turn_s: float = MIN_TURN_S
    switch_cost: float = SWITCH_COST
    trim: bool = True  # with the speech gate: turns cut to where the speech detector hears speech (32 ms steps)


@dataclass
class FileTimeline:
    """The turns of one file. ``to_dict`` is the JSON of ``audionet timeline``."""

    file: str
    segments: list[Segment]
    labels: list[str]  # the model's classes
    speakers: list[str] = field(default_factory=list)  # labels of the segments, in order of first appearance
    duration_s: float = 0.0

    def __post_init__(self) -> None:
        if not self.speakers:
            self.speakers = turn_speakers(self.segments)

    def to_dict(self) -> dict:
        """``file``, ``segments`` [{``start``, ``end``, ``label``, ``p``}], ``speakers``."""
        return {"file": self.file, "segments": [s.to_dict() for s in self.segments], "speakers": list(self.speakers)}


def head_parts(bundle: ModelBundle, batch_size: int = DEFAULT_BATCH_SIZE) -> HeadParts | None:
    """The bundle's model as (backbone, head in numpy) (``openset.head_parts``), or None for another shape."""
    if bundle.model is None:
        raise ValueError(f"{bundle.path}: bundle was loaded without its model")
    return model_parts(bundle.model, batch_size)


def window_outputs(bundle: ModelBundle, windows: Iterable, batch_size: int = DEFAULT_BATCH_SIZE,
                   cancel: CancelToken | None = None, on_batch: Callable[[int], None] | None = None,
                   speech: np.ndarray | None = None):
    """(starts, ends, probabilities (N, C), standardised features (N, D) or None) of a stream of windows; windows
    the speech gate keeps from the classifier have rows of zeros in both. ``speech``: the file's speech detector
    flags (``file_speech_flags``), read for each window instead of running the detector on it again."""
    parts = head_parts(bundle, batch_size)
    n_classes = len(bundle.labels)
    run, width = None, None
    if parts is not None:
        open_set = OpenSet.from_config(bundle.config)

        def run(images: np.ndarray) -> np.ndarray:
            return np.concatenate(parts.outputs(parts.extract(images), open_set), axis=1)
        width = n_classes + parts.w.shape[0]
    starts, ends, rows = [], [], []
    gate = None
    if speech is not None:
        chunk_s = CHUNK / VAD_RATE

        def gate(w) -> bool:
            a = int(w.start_s / chunk_s)
            flags = speech[a:max(int(np.ceil(w.end_s / chunk_s)), a + 1)]
            return has_speech(float(flags.mean()) if flags.size else 0.0)
    for tagged, batch in predict_stream(bundle, ((None, w) for w in windows), batch_size, cancel, run, width,
                                        gate):
        starts.extend(w.start_s for _, w in tagged)
        ends.extend(w.end_s for _, w in tagged)
        rows.append(batch)
        if on_batch is not None:
            on_batch(len(tagged))
    out = np.concatenate(rows) if rows else np.zeros((0, width or n_classes), np.float32)
    probabilities = out[:, :n_classes]
    features = out[:, n_classes:] if parts is not None else None
    return np.asarray(starts, np.float64), np.asarray(ends, np.float64), probabilities, features


def file_speech_flags(path: str | Path, threshold: float, cancel: CancelToken | None = None,
                      block_s: float = 60.0) -> np.ndarray:
    """The speech detector's answer for each 32 ms chunk of a file, decoded block by block (blocks are whole
    chunks long, so chunk k starts at k * 32 ms), so an hour never sits in memory; levelled span by span
    (``levelled_spans``) as the windows' speech share is levelled window by window."""
    cancel = ensure_token(cancel)
    flags, rest, pending = [], np.zeros(0, np.float32), []

    def judge() -> None:  # the detector restarts with each block, so blocks can be judged side by side
        flags.extend(p >= threshold for p in speech_probabilities_of_each(pending, VAD_RATE))
        pending.clear()

    for block in iter_audio_blocks(path, VAD_RATE, block_s):
        cancel.raise_if_cancelled()
        rest = np.concatenate([rest, block])
        whole = rest.size // LEVEL_SPAN * LEVEL_SPAN  # blocks of any length: keep the chunks and spans aligned
        if whole:
            pending.append(levelled_spans(rest[:whole]))
            rest = rest[whole:]
            if len(pending) == VAD_BLOCKS_AT_ONCE:
                judge()
    if rest.size:
        pending.append(levelled_spans(rest))
    judge()
    return np.concatenate(flags) if flags else np.zeros(0, bool)


def file_speech_spans(path: str | Path, threshold: float,
                      cancel: CancelToken | None = None) -> list[tuple[float, float]]:
    """Where someone speaks in a file: ``answers.speech_spans`` of ``file_speech_flags``."""
    return speech_spans(file_speech_flags(path, threshold, cancel), CHUNK / VAD_RATE)


def timeline_file(bundle: ModelBundle, path: str | Path, options: TurnOptions | None = None,
                  batch_size: int = DEFAULT_BATCH_SIZE, progress: ProgressCallback | None = None,
                  cancel: CancelToken | None = None) -> FileTimeline:
    """The speaker turns of one audio file. Raises ``AudioFileError`` (naming the file) when it cannot be read.
    Progress stage "timeline" counts windows (the total estimated from the file's duration)."""
    options = options or TurnOptions()
    wcfg = bundle.window_config
    duration = 0.0
    try:
        duration = audio_info(path).duration_s
    except AudioFileError:
        pass  # decoding below raises the real error
    total = max(1, int(np.ceil(max(duration - wcfg.window_s, 0.0) / wcfg.hop_s)) + 1)
    tracker = ProgressTracker(progress, "timeline", total)
    windows = iter_file_windows(path, bundle.sample_rate, wcfg)
    speech = _speech_flags(bundle, path, cancel)
    starts, ends, probs, features = window_outputs(bundle, windows, batch_size, cancel,
                                                   on_batch=lambda n: tracker.advance(n, message=Path(path).name),
                                                   speech=speech)
    if not len(probs):
        raise AudioFileError(path, "has no audio window to identify")
    return FileTimeline(str(path), _turns(bundle, starts, ends, probs, features, options, speech),
                        list(bundle.labels), [], duration or float(ends.max()))


def _speech_flags(bundle: ModelBundle, path, cancel: CancelToken | None) -> np.ndarray | None:
    """With the speech gate, the speech detector over the whole file once: it gates the windows and cuts the turns
    (running it on each window again would cost twice the audio, the windows overlapping by half)."""
    wcfg = bundle.window_config
    return file_speech_flags(path, wcfg.speech_threshold, cancel) if wcfg.speech_gated else None


def _turns(bundle: ModelBundle, starts, ends, probs, features, options: TurnOptions,
           speech: np.ndarray | None) -> list[Segment]:
    wcfg = bundle.window_config
    segments = speaker_turns(starts, ends, probs, bundle.labels, bundle.unknown_threshold, wcfg.hop_s, features,
                             smoothing=options.smoothing, min_turn_s=options.min_turn_s,
                             switch_cost=options.switch_cost)
    if options.trim and speech is not None:
        segments = trim_to_speech(segments, speech_spans(speech, CHUNK / VAD_RATE), snap_s=wcfg.hop_s)
    return segments


def audio_inputs(paths: Sequence[str | Path]) -> list[Path]:
    """Files as given and the audio files inside folders (recursively, sorted), each once."""
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            out.extend(sorted(f for f in p.rglob("*") if f.is_file() and is_audio_file(f)))
        else:
            out.append(p)
    return list(dict.fromkeys(out))


def timeline_files(model_path: str | Path, paths: Sequence[str | Path], options: TurnOptions | None = None,
                   progress: ProgressCallback | None = None,
                   cancel: CancelToken | None = None) -> list[FileTimeline | dict]:
    """Load the model folder and make the timeline of each file (the GUI runs this in a child process; the result
    pickles). A file that cannot be read is ``{"file", "error"}`` in the list and the others go on."""
    cancel = ensure_token(cancel)
    bundle = load_bundle(model_path)
    results: list[FileTimeline | dict] = []
    for path in audio_inputs(paths):
        cancel.raise_if_cancelled()
        try:
            results.append(timeline_file(bundle, path, options, progress=progress, cancel=cancel))
        except (AudioNetError, OSError, ValueError) as exc:
            results.append({"file": str(path), "error": getattr(exc, "reason", None) or str(exc)})
    return results


def identify_with_turns(model_path: str | Path, path: str | Path, top_k: int = 5,
                        options: TurnOptions | None = None, progress: ProgressCallback | None = None,
                        cancel: CancelToken | None = None) -> FilePrediction:
    """``predict.identify_file`` and the file's speaker turns from one pass of the network (the Identify page runs
    it in a child process): the prediction, with the ``FileTimeline`` in ``extra["turns"]``."""
    bundle = load_bundle(model_path)
    wcfg = bundle.window_config
    total = 1
    try:
        total = max(1, int(np.ceil(max(audio_info(path).duration_s - wcfg.window_s, 0.0) / wcfg.hop_s)) + 1)
    except AudioFileError:
        pass  # decoding below raises the real error
    tracker = ProgressTracker(progress, "predicting", total)
    speech = _speech_flags(bundle, path, cancel)
    starts, ends, probs, features = window_outputs(
        bundle, iter_file_windows(path, bundle.sample_rate, wcfg), cancel=cancel,
        on_batch=lambda n: tracker.advance(n, message=Path(path).name), speech=speech)
    if not len(probs):
        raise AudioFileError(path, "has no audio window to identify")
    prediction = prediction_from_windows(bundle, str(path), starts, ends, probs, top_k)
    turns = _turns(bundle, starts, ends, probs, features, options or TurnOptions(), speech)
    prediction.extra["turns"] = FileTimeline(str(path), turns, list(bundle.labels), [], float(ends.max()))
    return prediction


def voice_clips(path: str | Path, segments: Sequence[Segment], label: str, sample_rate: int,
                out_dir: str | Path) -> list[Path]:
    """The turns of ``label`` in the audio file ``path`` written as WAV clips into ``out_dir`` (to enrol the voice
    they hold)."""
    audio = load_audio(path, sample_rate)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    clips = []
    for i, seg in enumerate(s for s in segments if s.label == label):
        piece = audio[int(seg.start_s * sample_rate):int(seg.end_s * sample_rate)]
        if piece.size:
            clip = out_dir / f"{Path(path).stem}_{label}_{i:03d}.wav"
            sf.write(str(clip), piece, sample_rate)
            clips.append(clip)
    return clips
