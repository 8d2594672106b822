"""Speech activity: which stretches, and which windows, hold someone speaking.

The detector is Silero VAD (v6, MIT licence, Silero Team): a small network (an STFT as a convolution, four
1-D convolutions, an LSTM) that gives every 32 ms chunk of 16 kHz audio a speech probability. Its weights
ship inside the ``silero-vad`` wheel (6.2.3: ``silero_vad/data/silero_vad_16k_op15.onnx``); they are copied out
as ``resources/vad/silero_vad_16k_op15.npz`` (1 MB; scripts/extract_silero_vad.py) and run by the numpy code
below, because the ``silero-vad`` package requires PyTorch (hundreds of MB) and its ONNX model onnxruntime
(a 28 MB wheel) for a 40-line forward pass that takes about 2 ms per second of audio here. The result equals
onnxruntime's on that model to 1e-5 (tests/core/audio/test_vad.py: against stored reference outputs, and
against onnxruntime itself when it is installed).

Why not WebRTC's VAD (``webrtcvad-wheels``, 83 kB): measured on 2 s windows, it called 94-100 % of the frames
of white noise, pink noise and a fan's hum "speech" at every aggressiveness, also after 20 s of adapting to
them; this app needs the opposite (a fan must never be named as a speaker).

Far, reverberant, band-limited or quietly recorded speech gets low probabilities (the network is level-
sensitive: a -20 dB quieter take of the same words scores far lower), so a window is first brought to a common
level (``LEVEL_RMS``, the gain capped at ``MAX_GAIN`` so room tone is not blown up into noise): a microphone's gain
says nothing about whether someone speaks. ``threshold`` (default 0.15, Silero's own is 0.5) is the chunk
probability above which a chunk is speech: raise it to be stricter in loud places. Both were chosen on training-
side data only (``bench/speech_gate.py``: enrolment utterances through the augmentation's simulated rooms and random
microphones with self-noise at -30..0 dB; non-speech from the augmentation noises, tones, chirps, hum, taps and
white and pink noise, dry and in a room): levelling lifted the windows of such speech passing from 60 % to 87 % at
0.5; 0.15 is the lowest threshold at which no non-speech window passes (speech passing 97 %; 95 % at 0.25, 87 % at
0.5; at 0.1 the first non-speech windows pass). The robustness bench (DEVELOPERS.md) carries the effect on
held-out rooms.

A window counts as speech when at least ``SPEECH_FRACTION`` of its chunks are: a
short word in a 2 s window (a digit lasts about 0.4 s) passes, a stray chunk or two of noise does not. Every
call starts from a fresh network state, so the same window gets the same answer in training, files and live.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np
import soxr
from threadpoolctl import ThreadpoolController

from audionet_gui.core.audio.windows import AUTO_SPEECH_CLASS_SHARE
from audionet_gui.resources import resources_dir

VAD_RATE = 16000
CHUNK = 512      # samples per decision: 32 ms
CONTEXT = 64     # samples of the previous chunk the network also sees
DEFAULT_THRESHOLD = 0.15
REFERENCE_THRESHOLD = 0.5  # Silero's own, on audio as recorded (the enrolment check measures close-mic takes)
LEVEL_RMS = 0.1  # -20 dBFS: what a window is brought to before the detector judges it
MAX_GAIN = 100.0  # +40 dB at most: a window of room tone stays quiet
SPEECH_RULE = 2  # bump when the window rule changes: cached per-window speech shares are measured again
SPEECH_FRACTION = 0.15  # of a window's 32 ms chunks: 0.3 s of a 2 s window
WEIGHTS_FILE = "silero_vad_16k_op15.npz"


def weights_path() -> Path:
    return resources_dir() / "vad" / WEIGHTS_FILE


def read_weights(path: str | Path) -> dict[str, np.ndarray]:
    """The network's float32 tensors, by the names of Silero's own (tinygrad) model description."""
    with np.load(path, allow_pickle=False) as data:
        return {name: data[name].astype(np.float32) for name in data.files}


def _conv1d(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, stride: int) -> np.ndarray:
    """Conv1d with padding 1 on channels-last input (batch, length, in) -> (batch, out_length, out);
    ``weight`` is (k * in, out) (``_as_matrix``)."""
    b, _, c = x.shape
    k = weight.shape[0] // c
    xp = np.pad(x, ((0, 0), (1, 1), (0, 0)))
    out_len = (xp.shape[1] - k) // stride + 1
    taps = np.concatenate([xp[:, j: j + stride * (out_len - 1) + 1: stride] for j in range(k)], axis=2)
    return (taps.reshape(b * out_len, k * c) @ weight + bias).reshape(b, out_len, -1)


def _as_matrix(weight: np.ndarray) -> np.ndarray:
    """A Conv1d weight (out, in, k) as the (k * in, out) matrix ``_conv1d`` multiplies by."""
    return np.ascontiguousarray(weight.transpose(2, 1, 0).reshape(-1, weight.shape[0]))


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(x, -50.0, 50.0)))  # clipped: no overflow warning, same value to 1e-21


class SileroVAD:
    """Silero VAD's 16 kHz network in numpy: ``probabilities(samples)`` gives one speech probability per
    512-sample chunk, the state carried from chunk to chunk as the reference wrapper does."""

    def __init__(self, weights: dict[str, np.ndarray]):
        w = weights
        self.stft = w["stft_conv.weight"][:, 0, :].T.copy()          # (256, 258): real 0-128, imag 129-257
        self.convs = [(_as_matrix(w[f"conv{i}.weight"]), w[f"conv{i}.bias"], stride)
                      for i, stride in ((1, 1), (2, 2), (3, 2), (4, 1))]
        self.w_ih, self.w_hh = w["lstm_cell.weight_ih"].T.copy(), w["lstm_cell.weight_hh"].T.copy()
        self.b = w["lstm_cell.bias_ih"] + w["lstm_cell.bias_hh"]
        self.out_w, self.out_b = w["final_conv.weight"][0, :, 0], float(w["final_conv.bias"][0])

    def probabilities(self, samples: np.ndarray) -> np.ndarray:
        # Small matrices: OpenBLAS's threads would cost more than the products (as in spectrogram.py).
        with _blas_controller().limit(limits=1, user_api="blas"):
            gates_x = self._gates_x(samples)
            return self._lstm(gates_x) if len(gates_x) else np.zeros(0, dtype=np.float32)

    def probabilities_of_each(self, segments: list[np.ndarray]) -> list[np.ndarray]:
        """``probabilities`` of each segment, each from a fresh state, the LSTM stepping through all segments
        at once: its Python loop over chunks is most of the time, so an hour in one-minute segments costs about
        what one minute does (the answers equal the one-by-one ones to float rounding)."""
        with _blas_controller().limit(limits=1, user_api="blas"):
            gates = [self._gates_x(x) for x in segments]
            sizes = [len(g) for g in gates]
            if max(sizes, default=0) == 0:
                return [np.zeros(0, dtype=np.float32) for _ in segments]
            stacked = np.zeros((max(sizes), len(gates), 512), np.float32)  # (time, segment, gates)
            for k, g in enumerate(gates):
                stacked[:len(g), k] = g  # a shorter segment's state runs on over zeros and is cut off below
            p = self._lstm(stacked)
            return [p[:n, k] for k, n in enumerate(sizes)]

    def _gates_x(self, samples: np.ndarray) -> np.ndarray:
        """(chunks, 512): the input half of the LSTM's gates for each chunk (the STFT and convolutions)."""
        x = np.asarray(samples, dtype=np.float32).reshape(-1)
        n = -(-x.size // CHUNK)
        if n == 0:
            return np.zeros((0, 512), dtype=np.float32)
        x = np.concatenate([np.zeros(CONTEXT, np.float32), x, np.zeros(n * CHUNK - x.size, np.float32)])
        chunks = np.lib.stride_tricks.sliding_window_view(x, CONTEXT + CHUNK)[::CHUNK][:n]   # (n, 576)
        chunks = np.pad(chunks, ((0, 0), (0, CONTEXT)), mode="reflect")                      # (n, 640)
        frames = np.lib.stride_tricks.sliding_window_view(chunks, 256, axis=1)[:, ::128]    # (n, 4, 256)
        spec = frames @ self.stft
        h = np.sqrt(spec[..., :129] ** 2 + spec[..., 129:] ** 2)                              # (n, 4, 129)
        for weight, bias, stride in self.convs:
            h = np.maximum(_conv1d(h, weight, bias, stride), 0.0)
        return h[:, 0, :] @ self.w_ih + self.b                                              # (n, 512)

    def _lstm(self, gates_x: np.ndarray) -> np.ndarray:
        """The recurrent part over time (axis 0) from a zero state: (n, 512) -> (n,), or for segments side by
        side (n, segments, 512) -> (n, segments)."""
        hid = np.zeros(gates_x.shape[1:-1] + (128,), np.float32)
        cell = np.zeros_like(hid)
        hs = np.empty(gates_x.shape[:-1] + (128,), np.float32)
        for t in range(gates_x.shape[0]):
            g = gates_x[t] + hid @ self.w_hh
            i, f = _sigmoid(g[..., :128]), _sigmoid(g[..., 128:256])
            c, o = np.tanh(g[..., 256:384]), _sigmoid(g[..., 384:])
            cell = f * cell + i * c
            hid = o * np.tanh(cell)
            hs[t] = hid
        return _sigmoid(np.maximum(hs, 0.0) @ self.out_w + self.out_b).astype(np.float32)


@lru_cache(maxsize=1)
def _blas_controller() -> ThreadpoolController:
    return ThreadpoolController()


@lru_cache(maxsize=1)
def default_model() -> SileroVAD:
    path = weights_path()
    try:
        return SileroVAD(read_weights(path))
    except (OSError, ValueError, KeyError) as exc:
        raise RuntimeError(f"{path}: the speech detector's weights cannot be read ({exc})") from exc


def _at_16k(samples: np.ndarray, sample_rate: int) -> np.ndarray:
    x = np.nan_to_num(np.asarray(samples, dtype=np.float32).reshape(-1), nan=0.0, posinf=1.0, neginf=-1.0)
    if sample_rate != VAD_RATE and x.size:
        x = soxr.resample(x, sample_rate, VAD_RATE).astype(np.float32)
    return x


def speech_probabilities(samples: np.ndarray, sample_rate: int) -> np.ndarray:
    """One speech probability per 32 ms chunk of ``samples`` (mono floats; any rate, resampled to 16 kHz)."""
    return default_model().probabilities(_at_16k(samples, sample_rate))


def speech_probabilities_of_each(segments: list[np.ndarray], sample_rate: int) -> list[np.ndarray]:
    """``speech_probabilities`` of each segment (each judged from a fresh state), computed together."""
    return default_model().probabilities_of_each([_at_16k(x, sample_rate) for x in segments])


def levelled(samples: np.ndarray) -> np.ndarray:
    """``samples`` at an RMS of ``LEVEL_RMS``, the gain at most ``MAX_GAIN`` (all-zero audio stays zero)."""
    x = np.asarray(samples, dtype=np.float32)
    rms = float(np.sqrt(np.mean(np.square(x, dtype=np.float64)))) if x.size else 0.0
    return x if rms == 0.0 else (x * min(LEVEL_RMS / rms, MAX_GAIN)).astype(np.float32)


LEVEL_SPAN = 64 * CHUNK  # 2.048 s: a whole file is levelled span by span, spans about as long as a window


def levelled_spans(samples: np.ndarray) -> np.ndarray:
    """16 kHz audio ``levelled`` in spans of ``LEVEL_SPAN`` samples (from its start): a file's detector input judged
    at about the level a window of it is judged at (one level for a whole file would let a loud machine in one
    minute push the speech of another under the threshold)."""
    x = np.asarray(samples, dtype=np.float32)
    if not x.size:
        return x
    return np.concatenate([levelled(x[i:i + LEVEL_SPAN]) for i in range(0, x.size, LEVEL_SPAN)])


def speech_fraction(samples: np.ndarray, sample_rate: int, threshold: float = DEFAULT_THRESHOLD) -> float:
    """The fraction of 32 ms chunks whose speech probability is at least ``threshold`` (0.0 without audio), the
    audio ``levelled`` first."""
    if not 0 < threshold < 1:
        raise ValueError(f"speech threshold must be between 0 and 1, got {threshold}")
    p = default_model().probabilities(levelled(_at_16k(samples, sample_rate)))
    return float((p >= threshold).mean()) if p.size else 0.0


def is_speech(window: np.ndarray, sample_rate: int = VAD_RATE, threshold: float = DEFAULT_THRESHOLD,
              min_fraction: float = SPEECH_FRACTION) -> bool:
    """Does this window hold speech: are at least ``min_fraction`` of its chunks speech?"""
    return speech_fraction(window, sample_rate, threshold) >= min_fraction


def window_speech(window: np.ndarray, sample_rate: int, threshold: float = DEFAULT_THRESHOLD) -> float:
    """The share of a window's 32 ms chunks that hold speech (what conversion records per window, so the gate can
    be decided and applied later without running the detector again)."""
    return round(speech_fraction(window, sample_rate, threshold), 4)


def has_speech(fraction: float | None, min_fraction: float = SPEECH_FRACTION) -> bool:
    """A recorded ``window_speech`` fraction read as the gate reads it (None: not measured, counts as speech)."""
    return fraction is None or fraction >= min_fraction


def resolve_gate(classes: dict[str, tuple[int, int]]) -> str:
    """"speech" or "energy" for an "auto" gate, from ``{class: (windows with speech, windows)}`` of the training
    windows (the background class left out by the caller): speech when more than ``AUTO_SPEECH_CLASS_SHARE`` of
    the classes have most of their windows called speech (one voice-like class of two is not a speaker project:
    Silero calls a steady low hum with formants speech)."""
    counted = [(speech, total) for speech, total in classes.values() if total]
    if not counted:
        return "energy"
    speechy = sum(1 for speech, total in counted if speech * 2 > total)
    return "speech" if speechy > AUTO_SPEECH_CLASS_SHARE * len(counted) else "energy"
