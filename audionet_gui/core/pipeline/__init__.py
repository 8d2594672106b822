"""The whole job from folders of audio to a checked model bundle, shared by ``audionet train`` and the GUI:

    dataset folders -> workspace of window images (convert, cached) -> train on train/val (features cached)
    -> evaluate on test -> calibrate "unknown" on val -> bundle with metrics.json + confusion.png

and ``evaluate_folder``: the same metrics for an existing bundle on any folder of class subfolders.

Where intermediate files go (``cache_root()``): ``$AUDIONET_CACHE_DIR``, else ``$XDG_CACHE_HOME/audionet``, else
``~/.cache/audionet``. The window-image workspace defaults to ``<cache>/workspaces/<name>-<hash of the dataset's
folders>``; convert keys images by file content and settings inside it, so training again on the same data
re-uses every image, and a change of spectrogram settings never mixes images of two kinds.
Backbone features are cached under ``<cache>/features`` (keyed by image content, see core/features.py).
Neither lives next to the model: a model folder stays small and can be copied to another machine.

The stages live in this package's modules: ``train`` (the job), ``cache`` (where intermediate files go), ``scoring``
(a model's probabilities for window images), ``unknown`` (the unknown gate's calibration windows and test rates),
``robustness`` (the report in noise, rooms, microphones and live replay), ``report`` (``TrainReport``) and
``evaluate`` (``evaluate_folder``).
"""

from audionet_gui.core.pipeline.cache import cache_root, default_workspace
from audionet_gui.core.pipeline.evaluate import evaluate_folder
from audionet_gui.core.pipeline.report import TrainReport
from audionet_gui.core.pipeline.robustness import ROBUSTNESS_PER_CLASS, bundle_robustness, load_recordings
from audionet_gui.core.pipeline.train import train_from_folders

__all__ = ["ROBUSTNESS_PER_CLASS", "TrainReport", "bundle_robustness", "cache_root", "default_workspace",
           "evaluate_folder", "load_recordings", "train_from_folders"]
