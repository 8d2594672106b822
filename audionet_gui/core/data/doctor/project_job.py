"""The doctor on a project (what the Data page runs): its classes with their exclusions, its audio settings and,
when asked to judge labels, its backbone and weights."""

from __future__ import annotations

from pathlib import Path

from audionet_gui.core.base.jobs import CancelToken, ProgressCallback
from audionet_gui.core.data.doctor.run import DoctorReport, doctor_dataset
from audionet_gui.core.data.project import Project


def doctor_project(project: Project, judge_labels: bool = False, progress: ProgressCallback | None = None,
                   cancel: CancelToken | None = None) -> DoctorReport:
    cfg = project.train_config()
    return doctor_dataset(project.dataset_spec(), backbone=cfg.backbone if judge_labels else None,
                          weights=cfg.weights, settings=project.image_settings(),
                          workspace=Path(project.workspace) if project.workspace else None,
                          progress=progress, cancel=cancel)
