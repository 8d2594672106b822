"""``evaluate_folder``: the metrics of an existing bundle on every file of a folder of class subfolders."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from audionet_gui.core.audio.windows import iter_file_windows
from audionet_gui.core.base.errors import AudioFileError, DatasetError
from audionet_gui.core.base.jobs import (
    CancelToken,
    ProgressCallback,
    ProgressTracker,
    ensure_token,
    no_progress,
)
from audionet_gui.core.data.dataset import DatasetSpec, class_sources
from audionet_gui.core.model.bundle import ModelBundle, load_bundle
from audionet_gui.core.model.evaluation import (
    evaluate_predictions,
    misclassified_windows,
)
from audionet_gui.core.model.predict import predict_stream
from audionet_gui.core.pipeline.robustness import bundle_robustness, load_recordings
from audionet_gui.core.pipeline.scoring import EVAL_BATCH
from audionet_gui.core.pipeline.unknown import unknown_rate

PathLike = str | Path


def evaluate_folder(
    bundle: ModelBundle | PathLike,
    data_dir: PathLike,
    batch_size: int = EVAL_BATCH,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
    robustness: bool = False,
) -> dict:

    """Metrics of a bundle on EVERY file of a folder of class subfolders (no split), as a JSON-ready dict:
    the keys of ``evaluate_predictions`` plus ``files``, ``failed`` (``{path, reason}`` of unreadable files,
    which are skipped) and ``unknown_rate``. A class the model does not know is a ``DatasetError`` naming it.
    With ``robustness``, also ``robustness``: ``bundle_robustness`` on the folder's readable files (at most
    ``ROBUSTNESS_PER_CLASS`` a class).
    """

    progress = progress or no_progress
    cancel = ensure_token(cancel)
    if not isinstance(bundle, ModelBundle):
        bundle = load_bundle(bundle)
    spec = DatasetSpec.from_root(Path(data_dir))
    unknown = [c.name for c in spec.classes if c.name not in bundle.labels]
    if unknown:
        raise DatasetError(f"{data_dir}: class(es) {', '.join(unknown)} are not known to the model "
                           f"(it knows {', '.join(bundle.labels)})")
    index = {label: i for i, label in enumerate(bundle.labels)}
    sources = [s for c in spec.classes for s in class_sources(c)]
    failed: dict[int, dict] = {}
    tracker = ProgressTracker(progress, "evaluating", len(sources))

    def windows():
        for i, source in enumerate(sources):
            try:
                for w in iter_file_windows(source.path, bundle.sample_rate, bundle.window_config):
                    yield i, w
            except AudioFileError as exc:
                failed[i] = {"path": str(source.path), "reason": exc.reason}
            tracker.advance(message=source.path.name)

    probs, owners, starts, ends = [], [], [], []
    for tagged, batch_probs in predict_stream(bundle, windows(), batch_size, cancel):
        owners.extend(i for i, _ in tagged)
        starts.extend(w.start_s for _, w in tagged)
        ends.extend(w.end_s for _, w in tagged)
        probs.append(batch_probs)
    probs_arr = np.concatenate(probs) if probs else np.zeros((0, len(bundle.labels)), np.float32)
    # A file that failed part-way is dropped whole: a metric over half a file would be a different test.
    keep = np.array([o not in failed for o in owners], dtype=bool)
    if len(keep):
        probs_arr, starts, ends = probs_arr[keep], np.asarray(starts)[keep], np.asarray(ends)[keep]
    owners = [o for o in owners if o not in failed]
    true = [index[sources[o].label] for o in owners]
    files = [str(sources[o].path) for o in owners]
    metrics = evaluate_predictions(probs_arr, true, files, bundle.labels)
    metrics["misclassified"] = misclassified_windows(probs_arr, true, bundle.labels, files, starts, ends)
    metrics["files"] = len(sources) - len(failed)
    metrics["failed"] = list(failed.values())
    metrics["unknown_rate"] = unknown_rate(probs_arr, bundle.unknown_threshold)
    metrics["unknown_threshold"] = bundle.unknown_threshold
    if robustness:
        by_label: dict[str, list[str]] = {}
        for i, source in enumerate(sources):
            if i not in failed:
                by_label.setdefault(source.label, []).append(str(source.path))
        recordings, _ = load_recordings(by_label, bundle.sample_rate, cancel=cancel)
        metrics["robustness"] = bundle_robustness(bundle, recordings, progress=progress, cancel=cancel)
    return metrics
