"""Which time and frequency regions of a window decided the model's answer.

Two ways, judged by one test of faithfulness:
- occlusion: cover one cell of a time x frequency grid with the colour of silence and measure how much the
  answer's probability drops. Model-agnostic; one forward pass per cell (batched).
- Grad-CAM: the gradient of the answer's score on the feature maps of the backbone's last used block, weighted
  and summed over channels. One forward and one backward pass, but only as fine as that block's maps.
- the deletion test (``faithfulness``): cover cells most-salient first and, separately, least-salient first,
  averaging the answer's probability over the steps of each (``deletion_score``). A faithful map makes the
  first fall fast and the second slowly: the score is the difference (higher = more faithful, about 0 for a
  random map). Comparing the two orders, not one order with random cells, matters: a scatter of covered cells is
  itself unlike any training image and sinks the probability whatever the map says (measured: random orders
  "beat" both maps on a small_cnn model while least-first stayed far above most-first).
``DEFAULT_METHOD`` is the one that won on trained models (bench figures in DEVELOPERS.md).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from audionet_gui.core.audio.colormaps import colormap_lut
from audionet_gui.core.audio.spectrogram import SpectrogramConfig, compute_spectrogram, render_image
from audionet_gui.core.audio.windows import Window, iter_file_windows
from audionet_gui.core.base.errors import AudioFileError
from audionet_gui.core.base.fsutil import atomic_path
from audionet_gui.core.base.jobs import CancelToken, ensure_token
from audionet_gui.core.model.bundle import ModelBundle, load_bundle
from audionet_gui.core.model.predict import predict_images

METHODS = ("occlusion", "gradcam")
# Grad-CAM won the deletion test on both trained models measured (bench/explain.py, DEVELOPERS.md) and is 8-18x
# faster; where the last block's maps are too coarse to place anything (fewer than MIN_CAM_CELLS rows or
# columns, e.g. a layer that spans all frequencies), occlusion is used instead and the answer says so.
DEFAULT_METHOD = "gradcam"
MIN_CAM_CELLS = 3
GRID = (16, 10)  # cells: frequency rows x time columns
DELETION_STEPS = 10

Predict = Callable[[np.ndarray], np.ndarray]  # images (N, H, W, 3) uint8 -> probabilities (N, C)


@dataclass
class Explanation:
    label: str
    p: float
    start: float
    end: float
    times_s: np.ndarray   # (cols,) centre time of each column, seconds in the file
    freqs_hz: np.ndarray  # (rows,) centre frequency of each row, low first (pitch class index for chroma)
    values: np.ndarray    # (rows, cols) saliency in [0, 1]: one row per frequency, one column per time
    method: str
    window_index: int
    image: np.ndarray | None = None  # the window's image (H, W, 3) uint8, for drawing
    path: str = ""                   # the audio file

    def to_dict(self) -> dict:
        return {"label": self.label, "p": round(float(self.p), 6), "start": round(float(self.start), 4),
                "end": round(float(self.end), 4), "method": self.method, "window_index": self.window_index,
                "saliency": {"times_s": [round(float(t), 4) for t in self.times_s],
                             "freqs_hz": [round(float(f), 2) for f in self.freqs_hz],
                             "values": [[round(float(v), 4) for v in row] for row in self.values]}}


# ---------------------------------------------------------------------------------------------- the two maps

def faithfulness(predict: Predict, image: np.ndarray, label_index: int, saliency: np.ndarray, fill: np.ndarray,
                 steps: int = DELETION_STEPS) -> float:
    """The deletion test: mean p(label) covering least-salient cells first minus most-salient first."""
    least_first = np.argsort(saliency.ravel(), kind="stable")
    return (deletion_score(predict, image, label_index, saliency, fill, steps, order=least_first)
            - deletion_score(predict, image, label_index, saliency, fill, steps))


def _cells(shape: tuple[int, int], grid: tuple[int, int]) -> list[tuple[slice, slice]]:
    """Image slices of each grid cell, row-major, top row (highest frequencies) first."""
    h, w = shape
    rows = np.linspace(0, h, grid[0] + 1).round().astype(int)
    cols = np.linspace(0, w, grid[1] + 1).round().astype(int)
    return [(slice(rows[r], rows[r + 1]), slice(cols[c], cols[c + 1]))
            for r in range(grid[0]) for c in range(grid[1])]


def occlusion_map(predict: Predict, image: np.ndarray, label_index: int, fill: np.ndarray,
                  grid: tuple[int, int] = GRID) -> np.ndarray:
    """(grid rows, grid cols), image orientation: how much covering each cell lowers p(label)."""
    base = float(predict(image[None])[0, label_index])
    covered = np.repeat(image[None], grid[0] * grid[1], axis=0)
    for k, (rs, cs) in enumerate(_cells(image.shape[:2], grid)):
        covered[k, rs, cs] = fill
    drops = base - predict(covered)[:, label_index]
    return np.maximum(drops, 0).reshape(grid)


def _cam_parts(model):
    """(function image batch -> (feature maps list, probabilities)) that a GradientTape can see through.

    Our bundles stack image -> extractor (scaling, the cut backbone "trunk", pooling) -> head; the maps are the
    trunk's outputs (its last used block). Any other functional model: the last layer with a 4-D output."""
    import keras  # noqa: PLC0415 - loads TensorFlow/Keras (3 s): only when this runs

    subs = [layer for layer in model.layers if isinstance(layer, keras.Model)]
    if len(subs) == 2:
        extractor, head = subs
        trunk = next((layer for layer in extractor.layers if isinstance(layer, keras.Model)), None)
        if trunk is not None:
            before = [layer for layer in extractor.layers[1:extractor.layers.index(trunk)]]
            after = extractor.layers[extractor.layers.index(trunk) + 1:]
            pools = [layer for layer in after if isinstance(layer, keras.layers.GlobalAveragePooling2D)]
            concat = [layer for layer in after if isinstance(layer, keras.layers.Concatenate)]

            def run(x, watch):
                for layer in before:
                    x = layer(x)
                maps = trunk(x, training=False)
                maps = list(maps) if isinstance(maps, (list, tuple)) else [maps]
                for m in maps:
                    watch(m)
                pooled = [pool(m) for pool, m in zip(pools, maps)]
                features = concat[0](pooled) if concat else pooled[0]
                return maps, head(features, training=False)
            return run
    four_d = [layer for layer in model.layers if len(getattr(layer, "output", np.zeros(0)).shape or ()) == 4]
    if not four_d:
        raise ValueError("this model has no feature maps for Grad-CAM")
    split = keras.Model(model.inputs, [four_d[-1].output, model.output])

    def run_flat(x, watch):
        maps, probs = split(x, training=False)
        watch(maps)
        return [maps], probs
    return run_flat


class CoarseMapsError(ValueError):
    """Grad-CAM cannot place anything: the maps have too few rows or columns."""


def gradcam_map(model, image: np.ndarray, label_index: int, grid: tuple[int, int] = GRID) -> np.ndarray:
    """(grid rows, grid cols), image orientation: Grad-CAM of p(label) on the last used block, pooled to cells."""
    import tensorflow as tf  # noqa: PLC0415 - loads TensorFlow (3 s): only when this runs

    run = _cam_parts(model)
    x = tf.convert_to_tensor(image[None].astype(np.float32))
    with tf.GradientTape() as tape:
        maps, probs = run(x, tape.watch)
        score = probs[:, label_index]
    grads = tape.gradient(score, maps)
    if min(min(int(m.shape[1]), int(m.shape[2])) for m in maps) < MIN_CAM_CELLS:
        raise CoarseMapsError(f"the last block's maps ({maps[-1].shape[1]} x {maps[-1].shape[2]}) are too coarse")
    h, w = image.shape[:2]
    total = np.zeros((h, w), np.float32)
    for m, g in zip(maps, grads):
        m, g = m.numpy()[0], g.numpy()[0]
        cam = np.maximum((m * g.mean(axis=(0, 1))).sum(axis=-1), 0)
        total += np.asarray(Image.fromarray(cam.astype(np.float32), mode="F").resize((w, h), Image.BILINEAR))
    return np.array([[total[rs, cs].mean() for rs, cs in row] for row in _grid_rows(image.shape[:2], grid)])


def _grid_rows(shape, grid):
    cells = _cells(shape, grid)
    return [[cells[r * grid[1] + c] for c in range(grid[1])] for r in range(grid[0])]


def deletion_score(predict: Predict, image: np.ndarray, label_index: int, saliency: np.ndarray, fill: np.ndarray,
                   steps: int = DELETION_STEPS, order: np.ndarray | None = None) -> float:
    """Mean p(label) while the cells are covered most-salient first (``order`` overrides), from none covered
    to all. Lower = the map points at what the model uses."""
    grid = saliency.shape
    cells = _cells(image.shape[:2], grid)
    order = np.argsort(-saliency.ravel(), kind="stable") if order is None else order
    counts = np.linspace(0, len(cells), steps + 1).round().astype(int)
    batch = np.repeat(image[None], len(counts), axis=0)
    for i, n in enumerate(counts):
        for k in order[:n]:
            rs, cs = cells[k]
            batch[i, rs, cs] = fill
    return float(predict(batch)[:, label_index].mean())


# ---------------------------------------------------------------------------------------------- one window

def silence_colour(cfg: SpectrogramConfig) -> np.ndarray:
    """The colour of the lowest level: what silence looks like in the image."""
    return colormap_lut(cfg.colormap)[0]


def axes(window: Window, cfg: SpectrogramConfig, grid: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """(times_s of the columns, freqs_hz of the rows, low first) of a grid over the window's image."""
    spec = compute_spectrogram(window.samples, cfg)
    # the image spans the window's samples; for a clip shorter than a window (filled by the short-clip rule) the
    # times are places in that image, counted from the window's start, not times in the file
    duration = len(window.samples) / cfg.sample_rate
    times = window.start_s + (np.arange(grid[1]) + 0.5) / grid[1] * duration
    bins = (np.arange(grid[0]) + 0.5) / grid[0] * (len(spec.freqs_hz) - 1)  # image rows spread evenly over bins
    freqs = np.interp(bins, np.arange(len(spec.freqs_hz)), spec.freqs_hz)
    return times, freqs


def normalised(values: np.ndarray) -> np.ndarray:
    top = float(values.max()) if values.size else 0.0
    return (values / top).astype(np.float32) if top > 0 else np.zeros_like(values, np.float32)


def explain_window(bundle: ModelBundle, window: Window, method: str = DEFAULT_METHOD, label_index: int | None = None,
                   grid: tuple[int, int] = GRID) -> Explanation:
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; choose one of: {', '.join(METHODS)}")
    cfg = bundle.spectrogram_config
    image = render_image(compute_spectrogram(window.samples, cfg).values_db, cfg)
    probs = predict_images(bundle, image[None])[0]
    index = int(np.argmax(probs)) if label_index is None else label_index
    raw = None
    if method == "gradcam":
        try:
            raw = gradcam_map(bundle.model, image, index, grid)
        except CoarseMapsError:
            method = "occlusion"
    if raw is None:
        raw = occlusion_map(lambda x: predict_images(bundle, x), image, index, silence_colour(cfg), grid)
    times, freqs = axes(window, cfg, grid)
    return Explanation(bundle.labels[index], float(probs[index]), window.start_s, window.end_s, times, freqs,
                       normalised(raw)[::-1].copy(), method, window.index, image)


def explain_file(bundle: ModelBundle, path: str | Path, window_index: int | None = None,
                 method: str = DEFAULT_METHOD, grid: tuple[int, int] = GRID) -> Explanation:
    """Explain one window of a file: ``window_index``, else the window the model is surest about."""
    windows = list(iter_file_windows(path, bundle.sample_rate, bundle.window_config))
    if not windows:
        raise AudioFileError(path, "has no audio window to explain")
    if window_index is None:
        cfg = bundle.spectrogram_config
        images = np.stack([render_image(compute_spectrogram(w.samples, cfg).values_db, cfg) for w in windows])
        window_index = int(np.argmax(predict_images(bundle, images).max(axis=1)))
    if not 0 <= window_index < len(windows):
        raise ValueError(f"{path}: window index {window_index} is out of range (the file has {len(windows)} "
                         f"windows: 0 to {len(windows) - 1})")
    explanation = explain_window(bundle, windows[window_index], method, grid=grid)
    explanation.path = str(path)
    return explanation


def explain_at(model_path: str | Path, path: str | Path, start_s: float, method: str = DEFAULT_METHOD,
               cancel: CancelToken | None = None) -> Explanation:
    """Load the model and explain its window of ``path`` that starts nearest ``start_s`` (the Inspect page's
    selected window; the model cuts windows by its own settings). The whole job in one call, for a child
    process; the result pickles."""
    bundle = load_bundle(model_path)
    ensure_token(cancel).raise_if_cancelled()
    starts = [w.start_s for w in iter_file_windows(path, bundle.sample_rate, bundle.window_config)]
    if not starts:
        raise AudioFileError(path, "has no audio window to explain")
    index = int(np.argmin(np.abs(np.asarray(starts) - start_s)))
    return explain_file(bundle, path, window_index=index, method=method)


def overlay_image(explanation: Explanation, alpha: float = 0.55) -> np.ndarray:
    """The window's image with the saliency laid over it in red (strong = opaque)."""
    image = explanation.image
    h, w = image.shape[:2]
    heat = np.asarray(Image.fromarray(explanation.values[::-1].astype(np.float32), mode="F").resize(
        (w, h), Image.BILINEAR))[..., None].clip(0, 1)
    red = np.array([255, 40, 20], np.float32)
    return (image * (1 - alpha * heat) + red * alpha * heat).clip(0, 255).astype(np.uint8)


def save_overlay_png(explanation: Explanation, path: str | Path) -> Path:
    path = Path(path)
    with atomic_path(path, suffix=".png") as tmp:
        Image.fromarray(overlay_image(explanation)).save(tmp, format="PNG")
    return path
