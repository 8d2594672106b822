"""Files whose folder is probably the wrong one: each window is judged by its nearest neighbours among the
windows of OTHER files (out-of-fold by file), on the backbone's cached features; a file whose windows sound
clearly like another class is a suspect, ranked by how sure that judgement is (the judge itself: judge.py).

The features are the training pipeline's own (same conversion, same feature cache), so a doctor run before
training makes the first training faster and one after it costs little.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from audionet_gui.core.base.jobs import CancelToken, ProgressCallback, ensure_token
from audionet_gui.core.data.convert import convert_dataset, load_manifest
from audionet_gui.core.data.dataset import DatasetSpec
from audionet_gui.core.data.doctor.findings import Finding
from audionet_gui.core.data.doctor.judge import out_of_fold_probabilities, suspects_from_probabilities
from audionet_gui.core.model.backbones import build_feature_extractor
from audionet_gui.core.model.features import extract_features, feature_key
from audionet_gui.core.pipeline import cache_root, default_workspace
from audionet_gui.core.settings import ImageSettings


def find_suspects(spec: DatasetSpec, backbone: str, weights: str | None, settings: ImageSettings | None = None,
                  workspace: Path | None = None, feature_cache: Path | None = None,
                  progress: ProgressCallback | None = None, cancel: CancelToken | None = None) -> list[Finding]:
    """Convert (cached), extract features (cached), judge every file out of fold."""
    cancel = ensure_token(cancel)
    settings = (settings or ImageSettings()).for_backbone(backbone)
    workspace = Path(workspace) if workspace else default_workspace(spec)
    convert_dataset(spec, workspace, settings.spectrogram, settings.window, progress=progress, cancel=cancel)
    names = spec.labels
    index = {n: i for i, n in enumerate(names)}
    rows = [r for r in load_manifest(workspace) if r.augmented == 0 and r.label in index]
    speech = {r.source for r in rows if r.speech}
    rows = [r for r in rows if r.speech or r.source not in speech]  # a file's speech windows, if it has any
    if not rows:
        return []
    cancel.raise_if_cancelled()
    extractor = build_feature_extractor(backbone, weights, settings.image_size, seed=0)  # seed: random weights only
    key = feature_key(backbone, weights, settings.image_size)
    features = extract_features([workspace / r.image for r in rows], key, extractor,
                                Path(feature_cache) if feature_cache else cache_root() / "features",
                                progress=progress, cancel=cancel, stage="features")
    cancel.raise_if_cancelled()
    files = sorted({r.source for r in rows})
    file_index = {f: i for i, f in enumerate(files)}
    labels = np.array([index[r.label] for r in rows])
    groups = np.array([file_index[r.source] for r in rows])
    probs = out_of_fold_probabilities(features, labels, groups, len(names))
    return suspects_from_probabilities(probs, labels, files, groups, names)
