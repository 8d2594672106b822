"""Train a classifier: a softmax head on cached backbone features, optionally fine-tuned end to end.

(Work in progress: signatures are final, the implementation lands next.)
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional, Sequence, Union

import numpy as np

from .jobs import CancelToken, ProgressCallback


@dataclass
class TrainConfig:
    backbone: str = "inception_v3"
    weights: str = "imagenet"  # "imagenet" | "none" | path to a weights file
    feature_layer: Optional[str] = None  # None = the backbone's default; "a+b" concatenates layers
    image_size: Optional[tuple[int, int]] = None  # (width, height); None = the backbone's default
    epochs: int = 60
    batch_size: int = 32
    learning_rate: float = 1e-3
    dropout: float = 0.3
    label_smoothing: float = 0.1
    class_weighting: bool = True
    patience: int = 8
    fine_tune: bool = False
    fine_tune_layers: int = 30
    fine_tune_epochs: int = 10
    fine_tune_learning_rate: float = 1e-5
    augment: bool = True
    augment_copies: int = 1
    seed: int = 0
    tensorboard_dir: Optional[str] = None

    def to_dict(self) -> dict:
        d = dataclasses.asdict(self)
        if d["image_size"] is not None:
            d["image_size"] = list(d["image_size"])
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "TrainConfig":
        known = {f.name for f in dataclasses.fields(cls)}
        kwargs = {k: v for k, v in d.items() if k in known}
        if kwargs.get("image_size") is not None:
            kwargs["image_size"] = tuple(kwargs["image_size"])
        return cls(**kwargs)


@dataclass
class LabeledImages:
    """Images (PNG paths or RGB uint8 arrays) and their integer class indices."""

    images: Sequence[Any]
    labels: np.ndarray

    def __len__(self) -> int:
        return len(self.images)


@dataclass
class TrainResult:
    model: Any  # keras.Model: uint8 images (N, H, W, 3) -> softmax probabilities (N, C)
    history: list[dict]
    val_probabilities: np.ndarray
    feature_dim: int
    config: TrainConfig
    labels: list[str] = field(default_factory=list)
    timings: dict = field(default_factory=dict)


def train_classifier(train: LabeledImages, val: LabeledImages, labels: list[str], cfg: TrainConfig,
                     cache_dir: Optional[Union[str, Path]], progress: Optional[ProgressCallback] = None,
                     cancel: Optional[CancelToken] = None) -> TrainResult:
    raise NotImplementedError
