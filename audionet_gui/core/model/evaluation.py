"""Honest measurement of a classifier: window and recording accuracy, per-class precision/recall/F1, the confusion
matrix, the validation-calibrated "unknown" threshold, and a confusion-matrix picture.

Pure numpy + Pillow: no TensorFlow here, so the GUI can show a bundle's metrics without loading a network.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from audionet_gui.core.answers import NO_SPEECH, no_speech_rows
from audionet_gui.core.base.fsutil import atomic_path

# The share of correct validation windows that must stay above the "unknown" threshold.
DEFAULT_KEEP_FRACTION = 0.95
# A threshold above this rejects correct answers at the slightest change of room or microphone, and a very high
# value usually means a tiny or easy validation set that says little about the real world.
MAX_UNKNOWN_THRESHOLD = 0.9


def confusion_matrix(true_indices: Sequence[int], predicted_indices: Sequence[int], n_classes: int) -> np.ndarray:
    """Counts with rows = true class and columns = predicted class."""
    true_indices = np.asarray(true_indices, dtype=np.int64)
    predicted_indices = np.asarray(predicted_indices, dtype=np.int64)
    matrix = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(matrix, (true_indices, predicted_indices), 1)
    return matrix


def per_class_scores(matrix: np.ndarray, labels: Sequence[str]) -> dict:
    """Precision, recall, F1 and support per class from a confusion matrix. A class never predicted has precision
    0 (not NaN), so the result is always valid JSON."""
    matrix = np.asarray(matrix)
    tp = np.diag(matrix).astype(float)
    predicted = matrix.sum(axis=0).astype(float)
    support = matrix.sum(axis=1)
    scores = {}
    for i, label in enumerate(labels):
        precision = tp[i] / predicted[i] if predicted[i] else 0.0
        recall = tp[i] / support[i] if support[i] else 0.0
        f1 = 2 * precision * recall / (precision + recall) if (precision + recall) else 0.0
        scores[label] = {
            "precision": float(precision),
            "recall": float(recall),
            "f1": float(f1),
            "support": int(support[i]),
        }
    return scores


def recording_probabilities(probabilities: np.ndarray, true_indices: Sequence[int], sources: Sequence[str]):
    """Average window probabilities per source recording.

    Returns (sources, mean probabilities (R, C), true index per recording) in order of first appearance. Windows
    the speech gate kept from the classifier (rows of zeros) do not vote; a recording of only such windows gets
    a row of zeros (its answer is "no speech"). A recording is keyed by (source, true class) so one file listed
    under two classes is never silently merged.
    """
    probabilities = np.asarray(probabilities, dtype=np.float64)
    quiet = no_speech_rows(probabilities)
    keys: dict = {}
    sums = []
    counts = []
    for row, (source, true) in enumerate(zip(sources, true_indices)):
        key = (str(source), int(true))
        slot = keys.get(key)
        if slot is None:
            slot = keys[key] = len(sums)
            sums.append(np.zeros(probabilities.shape[1]))
            counts.append(0)
        if not quiet[row]:  # a window without speech (speech gate) does not vote
            sums[slot] += probabilities[row]
            counts[slot] += 1
    if not sums:
        return [], np.zeros((0, probabilities.shape[1] if probabilities.ndim == 2 else 0)), np.zeros(0, np.int64)
    means = np.stack(sums) / np.maximum(np.asarray(counts, dtype=np.float64), 1)[:, None]  # none: zeros
    recording_sources = [k[0] for k in keys]
    recording_true = np.asarray([k[1] for k in keys], dtype=np.int64)
    return recording_sources, means, recording_true


def evaluate_predictions(
    probabilities: np.ndarray,
    true_indices: Sequence[int],
    sources: Sequence[str],
    labels: Sequence[str],
) -> dict:
    """All metrics of one evaluation as a JSON-ready dict.

    ``probabilities`` is (N windows, C classes); ``true_indices`` the true class of each window; ``sources`` the
    recording each window was cut from. Keys: ``labels``, ``windows``, ``recordings``, ``accuracy`` (per window),
    ``recording_accuracy`` (window probabilities averaged per recording), ``per_class`` (label -> precision,
    recall, f1, support; window level), ``macro_f1``, ``confusion`` (windows; rows true, columns predicted) and
    ``recording_confusion``, ``no_speech_rate`` (recordings answered "no speech" by the speech gate, counted
    wrong and left out of the confusion matrices) and ``window_no_speech_rate``.
    """
    labels = list(labels)
    n_classes = len(labels)
    probabilities = np.asarray(probabilities, dtype=np.float64).reshape(-1, n_classes)
    true_indices = np.asarray(true_indices, dtype=np.int64)
    sources = list(sources)
    if not (len(probabilities) == len(true_indices) == len(sources)):
        raise ValueError(
            f"evaluate_predictions: {len(probabilities)} probability rows, {len(true_indices)} true labels "
            f"and {len(sources)} sources must be the same number"
        )
    if len(true_indices) and (true_indices.min() < 0 or true_indices.max() >= n_classes):
        raise ValueError(f"evaluate_predictions: true class index out of range 0..{n_classes - 1}")

    predicted = probabilities.argmax(axis=1) if len(probabilities) else np.zeros(0, np.int64)
    quiet = no_speech_rows(probabilities)  # answered "no speech" (speech gate): not named, so wrong
    matrix = confusion_matrix(true_indices[~quiet], predicted[~quiet], n_classes)
    accuracy = float(((predicted == true_indices) & ~quiet).mean()) if len(predicted) else 0.0

    _, rec_probs, rec_true = recording_probabilities(probabilities, true_indices, sources)
    rec_pred = rec_probs.argmax(axis=1) if len(rec_probs) else np.zeros(0, np.int64)
    rec_quiet = no_speech_rows(rec_probs)
    rec_accuracy = float(((rec_pred == rec_true) & ~rec_quiet).mean()) if len(rec_pred) else 0.0

    per_class = per_class_scores(matrix, labels)
    present = [s["f1"] for s in per_class.values() if s["support"]]
    return {
        "labels": labels,
        "windows": int(len(true_indices)),
        "recordings": int(len(rec_true)),
        "accuracy": accuracy,
        "recording_accuracy": rec_accuracy,
        "macro_f1": float(np.mean(present)) if present else 0.0,
        "per_class": per_class,
        "confusion": matrix.tolist(),
        "recording_confusion": confusion_matrix(rec_true[~rec_quiet], rec_pred[~rec_quiet], n_classes).tolist(),
        # recordings (windows) of a class answered "no speech" by the speech gate: counted as not named (wrong)
        "no_speech_rate": float(rec_quiet.mean()) if len(rec_quiet) else 0.0,
        "window_no_speech_rate": float(quiet.mean()) if len(quiet) else 0.0,
    }


def misclassified_windows(probabilities: np.ndarray, true_indices: Sequence[int], labels: Sequence[str],
                          files: Sequence[str], starts: Sequence[float], ends: Sequence[float],
                          limit: int = 100) -> list[dict]:
    """The wrongly classified windows, most confident mistakes first (the most telling ones), at most ``limit``:
    ``{file, start, end, true, predicted, p}`` so a user can open the window and look at it."""
    probabilities = np.asarray(probabilities)
    true_indices = np.asarray(true_indices, dtype=np.int64)
    if not len(probabilities):
        return []
    predicted = probabilities.argmax(axis=1)
    quiet = no_speech_rows(probabilities)  # answered "no speech": wrong for a class's window (p 0, listed last)
    wrong = np.flatnonzero((predicted != true_indices) | quiet)
    top = probabilities[wrong, predicted[wrong]]
    order = wrong[np.argsort(-top, kind="stable")][:limit]
    return [{"file": str(files[i]), "start": round(float(starts[i]), 3), "end": round(float(ends[i]), 3),
             "true": labels[true_indices[i]], "predicted": NO_SPEECH if quiet[i] else labels[predicted[i]],
             "p": round(float(probabilities[i, predicted[i]]), 4)} for i in order]


def calibrate_unknown_threshold(
    val_probabilities: np.ndarray,
    val_true: Sequence[int],
    keep_fraction: float = DEFAULT_KEEP_FRACTION,
    max_threshold: float = MAX_UNKNOWN_THRESHOLD,
) -> float:
    """The top-probability value below which an answer is reported as "unknown" (by ``core/answers.gate``).

    Rule: take the top probability of every validation window the model got RIGHT and choose the largest value
    that still keeps ``keep_fraction`` (95 %) of them above it, i.e. the lower 5 % quantile, rounded DOWN to an
    actual observed value ("lower" quantile) so that with a small validation set (fewer than 20 correct windows)
    it is simply the least confident correct answer and no correct validation window is rejected.
    The result is clamped to [1/C, ``max_threshold``]: below 1/C it could never trigger (the top of C
    probabilities is always at least 1/C), and above ``max_threshold`` it would reject correct answers on any
    slight change of conditions. With no correct validation window at all there is nothing to calibrate on and
    the threshold is 1/C ("never unknown"), which the caller can see in the bundle's config.
    """
    probs = np.asarray(val_probabilities, dtype=np.float64)
    if probs.ndim != 2 or probs.shape[1] < 1:
        raise ValueError("calibrate_unknown_threshold: probabilities must be (N, C)")
    n_classes = probs.shape[1]
    floor = 1.0 / n_classes
    true = np.asarray(val_true, dtype=np.int64)
    if len(probs) == 0:
        return floor
    correct = probs.argmax(axis=1) == true
    if not correct.any():
        return floor
    value = kept_threshold(probs[correct].max(axis=1), keep_fraction)
    return float(min(max(value, floor), max(max_threshold, floor)))


def kept_threshold(correct_tops: np.ndarray, keep: float) -> float:
    """The highest threshold that keeps ``keep`` of these answers (the top probabilities of correctly named
    windows) at or above it: their lower ``1 - keep`` quantile, an observed value, rounded down to 0.001 so that
    float noise between training-time and load-time inference cannot flip a decision; 1.0 when there are none."""
    tops = np.asarray(correct_tops, np.float64).reshape(-1)
    if not tops.size:
        return 1.0
    return math.floor(float(np.quantile(tops, 1.0 - keep, method="lower")) * 1000) / 1000


def unknown_rates(known_top: np.ndarray, negative_top: np.ndarray, threshold: float) -> tuple[float, float]:
    """(false unknown, false accept) at ``threshold``: the share of ``known_top`` (best probabilities of windows of
    enrolled classes) under it, answered "unknown", and the share of ``negative_top`` (windows of no class of the
    model: noise, strangers) at or above it, given a name. 0.0 for an empty side."""
    known = np.asarray(known_top, np.float64).reshape(-1)
    negative = np.asarray(negative_top, np.float64).reshape(-1)
    fu = float(np.mean(known < threshold)) if known.size else 0.0
    fa = float(np.mean(negative >= threshold)) if negative.size else 0.0
    return fu, fa


def choose_unknown_threshold(known_top: np.ndarray, negative_top: np.ndarray, n_classes: int,
                             max_false_accept: float | None = None,
                             max_threshold: float = MAX_UNKNOWN_THRESHOLD, step: float = 0.001,
                             floor: float | None = None) -> dict:
    """The "unknown" threshold that best separates windows of enrolled classes (``known_top``: their best
    probability, clean and in noise) from windows that must not be named (``negative_top``: noise, strangers).

    Every threshold from 1/C to ``max_threshold`` in ``step`` is tried. Default ("balanced"): the one with the
    fewest false unknown + false accept; with ``max_false_accept``: the fewest false unknown among those whose
    false accept is at most that (the highest threshold when none is). Of equally good thresholds, the middle of
    the longest run is taken, so the choice sits in the gap between the two groups rather than on its edge.
    ``floor``: the lowest threshold tried (default 1/C, the least a softmax's best probability can be; answers
    that are not a softmax, such as the open-set posterior, can be lower). Returns ``{threshold,
    false_unknown_rate, false_accept_rate, method}``.
    """
    floor = 1.0 / max(1, n_classes) if floor is None else float(floor)
    known = np.sort(np.asarray(known_top, np.float64).reshape(-1))
    negative = np.sort(np.asarray(negative_top, np.float64).reshape(-1))
    top = max(max_threshold, floor)
    grid = np.round(np.arange(floor, top + step / 2, step), 6)
    grid[0], grid[-1] = floor, top
    fu = np.searchsorted(known, grid, side="left") / known.size if known.size else np.zeros(grid.size)
    fa = ((negative.size - np.searchsorted(negative, grid, side="left")) / negative.size if negative.size
          else np.zeros(grid.size))
    if max_false_accept is None:
        method, cost = "balanced", fu + fa
    else:
        method = f"false accept <= {max_false_accept:g}"
        allowed = fa <= max_false_accept + 1e-12
        cost = np.where(allowed, fu, np.inf) if allowed.any() else np.where(grid == top, 0.0, np.inf)
    best = np.flatnonzero(cost <= cost.min() + 1e-12)
    # the longest run of consecutive optimal grid points, and its middle
    runs = np.split(best, np.flatnonzero(np.diff(best) != 1) + 1)
    run = max(runs, key=len)
    i = int(run[len(run) // 2])
    threshold = float(min(max(math.floor(grid[i] * 1000) / 1000, floor), top))
    rate_fu, rate_fa = unknown_rates(known, negative, threshold)
    return {"threshold": threshold, "false_unknown_rate": rate_fu, "false_accept_rate": rate_fa, "method": method}


# --------------------------------------------------------------------------------------------- confusion picture

def _font(size: int):
    try:
        return ImageFont.load_default(size=size)  # Pillow >= 10.1 with FreeType: scalable
    except (TypeError, OSError):  # pragma: no cover - Pillow without FreeType
        return ImageFont.load_default()


def _text_size(draw, text: str, font) -> tuple[int, int]:
    left, top, right, bottom = draw.textbbox((0, 0), text, font=font)
    return right - left, bottom - top


def render_confusion_png(
    matrix: np.ndarray | Sequence[Sequence[int]],
    labels: Sequence[str],
    path: str | Path,
    title: str = "Confusion matrix (rows: true, columns: predicted)",
    cell_px: int | None = None,
) -> Path:
    """Draw the confusion matrix as a PNG (atomic write). Cells are shaded by the row-normalised value (recall
    per true class; errors on a square-root scale) and show the count; the diagonal is blue, errors red,
    so mistakes stand out."""

    matrix = np.asarray(matrix, dtype=np.int64)
    labels = [str(label) for label in labels]
    n = len(labels)
    if matrix.shape != (n, n):
        raise ValueError(f"confusion matrix shape {matrix.shape} does not match {n} labels")
    cell = cell_px or int(np.clip(640 // max(n, 1), 28, 64))
    font = _font(max(11, min(16, cell // 3)))
    title_font = _font(16)
    probe = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    label_w = max([_text_size(probe, label, font)[0] for label in labels] + [20]) + 12
    label_h = max([_text_size(probe, label, font)[1] for label in labels] + [10])
    title_h = _text_size(probe, title, title_font)[1] + 16
    axis_h = label_h + 14

    # Column labels are drawn rotated, so the top margin must fit the longest label.
    top = title_h + axis_h + label_w
    left = axis_h + label_w
    width = max(left + n * cell + 16, _text_size(probe, title, title_font)[0] + 24)
    height = top + n * cell + 16
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    draw.text((12, 8), title, fill="black", font=title_font)

    row_sums = matrix.sum(axis=1, keepdims=True)
    normalised = np.divide(matrix, row_sums, out=np.zeros(matrix.shape, float), where=row_sums > 0)
    for i in range(n):
        for j in range(n):
            x0, y0 = left + j * cell, top + i * cell
            # sqrt on errors: a 5 % confusion must still be visible, not near-white
            v = normalised[i, j] if i == j else float(np.sqrt(normalised[i, j]))
            base = (31, 90, 180) if i == j else (200, 40, 40)
            color = tuple(int(255 - (255 - c) * v) for c in base)
            draw.rectangle([x0, y0, x0 + cell - 1, y0 + cell - 1], fill=color, outline=(200, 200, 200))
            text = str(int(matrix[i, j]))
            tw, th = _text_size(draw, text, font)
            ink = "white" if v > 0.55 else "black"
            draw.text((x0 + (cell - tw) / 2, y0 + (cell - th) / 2 - 2), text, fill=ink, font=font)

    for i, label in enumerate(labels):  # row labels (true)
        tw, th = _text_size(draw, label, font)
        draw.text((left - tw - 6, top + i * cell + (cell - th) / 2 - 2), label, fill="black", font=font)
    for j, label in enumerate(labels):  # column labels (predicted), rotated to read bottom-up
        tw, th = _text_size(draw, label, font)
        strip = Image.new("RGBA", (tw + 4, th + 6), (255, 255, 255, 0))
        ImageDraw.Draw(strip).text((2, 0), label, fill="black", font=font)
        strip = strip.rotate(90, expand=True)
        image.paste(strip, (int(left + j * cell + (cell - strip.width) / 2), top - strip.height - 6), strip)

    draw.text((left, title_h), "predicted", fill=(90, 90, 90), font=font)
    true_strip = Image.new("RGBA", (_text_size(draw, "true", font)[0] + 4, label_h + 6), (255, 255, 255, 0))
    ImageDraw.Draw(true_strip).text((2, 0), "true", fill=(90, 90, 90), font=font)
    true_strip = true_strip.rotate(90, expand=True)
    image.paste(true_strip, (4, top), true_strip)

    path = Path(path)
    with atomic_path(path, suffix=".png") as tmp:
        image.save(tmp, format="PNG")
    return path
