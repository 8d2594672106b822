"""Dataset -> workspace of window images and a manifest (``run.convert_dataset``); the public names, re-exported."""

from audionet_gui.core.base.jobs import Cancelled
from audionet_gui.core.data.convert.augmentation import (
    BABBLE_FILES_PER_CLASS,
    BABBLE_SECONDS,
    BABBLE_SECONDS_PER_CLASS,
    DEFAULT_COPIES,
    NOISE_BANK_SECONDS,
    ROOM_COUNT,
    AugmentPlan,
    bundled_noise_files,
)
from audionet_gui.core.data.convert.cache import config_key
from audionet_gui.core.data.convert.manifest import (
    MANIFEST_FIELDS,
    WORKSPACE_FORMAT,
    ManifestRow,
    load_manifest,
    load_workspace_info,
    write_manifest,
)
from audionet_gui.core.data.convert.run import ConvertSummary, convert_dataset, resolved_gate
from audionet_gui.core.data.convert.source import convert_source
from audionet_gui.core.data.convert.workers import BATCH_BYTES, default_workers

__all__ = ["AugmentPlan", "ConvertSummary", "ManifestRow", "convert_dataset", "convert_source", "load_manifest",
           "load_workspace_info", "write_manifest", "config_key", "Cancelled", "DEFAULT_COPIES", "ROOM_COUNT",
           "NOISE_BANK_SECONDS", "BABBLE_FILES_PER_CLASS", "BABBLE_SECONDS", "BABBLE_SECONDS_PER_CLASS",
           "MANIFEST_FIELDS", "WORKSPACE_FORMAT", "bundled_noise_files", "resolved_gate", "default_workers",
           "BATCH_BYTES"]
