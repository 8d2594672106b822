"""A tiny end-to-end check of an installed or frozen app: the bundled demo project -> window images -> a small_cnn
trained for a couple of epochs -> a saved model bundle loaded back -> one file identified.

It exercises what a build can break (data files found, audio decoded, TensorFlow/Keras and h5py present, the
model saved and loaded in safe mode) in well under a minute, without a network or ImageNet weights. Everything
it writes goes to a temporary folder that is removed afterwards; the user's cache is never touched.

    python -m audionet_gui.selftest            # prints one line per stage, exits 0 when all is well
    AudioNetStudio --self-test                 # the desktop app runs this after its window check
"""

from __future__ import annotations

import dataclasses
import os
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from audionet_gui.core.answers import UNKNOWN
from audionet_gui.core.audio.files import is_audio_file
from audionet_gui.core.data.project import Project
from audionet_gui.core.model.bundle import load_bundle
from audionet_gui.core.model.predict import predict_file
from audionet_gui.core.pipeline import train_from_folders
from audionet_gui.resources import demo_project_path

# Small and quick, but a real pipeline: the demo's window/spectrogram settings at a reduced image size.
SELF_TEST_IMAGE_SIZE = (64, 64)
SELF_TEST_EPOCHS = 2


@dataclass
class PipelineCheck:
    """What the check found. ``problems`` is empty when everything worked."""

    problems: list[str] = field(default_factory=list)
    stages: dict[str, float] = field(default_factory=dict)  # stage -> seconds
    labels: list[str] = field(default_factory=list)
    train_windows: int = 0
    identified_file: str = ""
    identified_label: str = ""

    @property
    def ok(self) -> bool:
        return not self.problems


def _pick_file_to_identify(project) -> Path | None:
    """A clip of the demo's test folder (else any class file): a file of a class the model knows."""

    roots = [Path(project.test_folder)] if project.test_folder else []
    roots += [Path(f) for c in project.classes for f in c.folders]
    for root in roots:
        if root.is_dir():
            for path in sorted(root.rglob("*")):
                if path.is_file() and is_audio_file(path):
                    return path
    return None


def run_pipeline_check(project_file: Path | None = None, epochs: int = SELF_TEST_EPOCHS,
                       image_size: tuple[int, int] = SELF_TEST_IMAGE_SIZE,
                       log: Callable[[str], None] = lambda line: None) -> PipelineCheck:
    """Convert, train small_cnn, save, load and identify on the demo project (or ``project_file``)."""

    check = PipelineCheck()
    project_file = Path(project_file) if project_file else demo_project_path()
    if not project_file.is_file():
        check.problems.append(f"{project_file}: the demo project is missing from this installation")
        return check

    def stage(name: str, started: float) -> None:
        check.stages[name] = time.monotonic() - started
        log(f"{name}: {check.stages[name]:.1f} s")

    t0 = time.monotonic()
    project = Project.load(project_file)
    train_cfg = dataclasses.replace(project.train_config(), backbone="small_cnn", weights="none", epochs=epochs,
                                    image_size=tuple(image_size), fine_tune=False, augment_copies=1, patience=epochs)
    check.labels = list(project.class_names)
    with tempfile.TemporaryDirectory(prefix="audionet-selftest-") as tmp:
        tmp_path = Path(tmp)
        model_dir = tmp_path / "model"
        try:
            report = train_from_folders(project.dataset_spec(), model_dir, settings=project.settings,
                                        train_cfg=train_cfg,
                                        workspace=tmp_path / "workspace", feature_cache=tmp_path / "features",
                                        # the wiring is the point, not the reports a real training adds after it
                                        augment=None, robustness=False, feature_map=False)
        except Exception as exc:  # the point of a self-test is to report what broke, whatever it is
            check.problems.append(f"training on the demo failed: {type(exc).__name__}: {exc}")
            return check
        stage("convert+train", t0)
        check.train_windows = int(report.metrics.get("data", {}).get("train_windows", 0))
        if check.train_windows == 0:
            check.problems.append("conversion made no training windows from the demo audio")

        t0 = time.monotonic()
        try:
            bundle = load_bundle(model_dir)
        except Exception as exc:
            check.problems.append(f"the saved model could not be loaded back: {type(exc).__name__}: {exc}")
            return check
        if list(bundle.labels) != list(report.labels):
            check.problems.append(f"the saved model lists {bundle.labels}, training had {report.labels}")
        stage("load", t0)

        t0 = time.monotonic()
        target = _pick_file_to_identify(project)
        if target is None:
            check.problems.append("the demo has no audio file to identify")
            return check
        try:
            result = predict_file(bundle, target)
        except Exception as exc:
            check.problems.append(f"identifying {target} failed: {type(exc).__name__}: {exc}")
            return check
        stage("identify", t0)
        check.identified_file = str(target)
        check.identified_label = result.label
        total = float(np.sum(result.probabilities))
        if result.windows == 0 or not np.isfinite(total) or abs(total - 1.0) > 1e-3:
            check.problems.append(f"identifying {target.name} gave {result.windows} windows with probabilities "
                                  f"summing to {total:.4f}")
        known = set(bundle.labels) | {UNKNOWN}
        if result.label not in known:
            check.problems.append(f"identifying {target.name} gave the label {result.label!r}, not one the model knows")
        log(f"identified {target.name} as {result.label} (p = {result.p:.2f}, {result.windows} windows)")
    return check


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    check = run_pipeline_check(log=lambda line: print(f"self-test: {line}", flush=True))
    for p in check.problems:
        print(f"self-test: {p}", file=sys.stderr)
    print("self-test: pipeline " + ("ok" if check.ok else "FAILED"), flush=True)
    return 0 if check.ok else 1


if __name__ == "__main__":
    sys.exit(main())
