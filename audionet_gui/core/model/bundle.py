"""A trained model is a FOLDER (a "bundle"), written in one atomic step and checked when it is loaded.

    MODEL_DIR/
      format_version   "1": the layout of this folder
      model.keras      ONE Keras model: uint8 RGB spectrogram images (N, H, W, 3) -> softmax probabilities (N, C)
      labels.json      ["alice", "bob", ...]: column i of the output is labels[i]
      config.json      everything needed to turn audio into the exact input the model saw in training:
                       "settings" (window rule, spectrogram and image size: one ImageSettings, stored once),
                       backbone name, weights identity, preprocessing, the calibrated "unknown" threshold and the
                       training settings. Older bundles wrote "spectrogram", "window" and "image_size"; they load.
      metrics.json     test/validation metrics (core/evaluation.py)
      confusion.png    optional picture of the test confusion matrix

The model is loaded with ``safe_mode=True``: a bundle from someone else cannot run arbitrary Python code.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import json
import math
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from audionet_gui.core.base.errors import BundleError
from audionet_gui.core.base.fsutil import (
    NOT_EMPTY,
    atomic_directory,
    atomic_path,
    atomic_write_json,
    atomic_write_text,
    normalized,
    open_regular,
    recover_directory,
    regular_file_problem,
    replace_refusal,
)
from audionet_gui.core.base.jobs import CancelToken, ProgressCallback, ProgressTracker, ensure_token
from audionet_gui.core.settings import DERIVED_FIELDS, ImageSettings

FORMAT_VERSION = 1

MODEL_FILE = "model.keras"
LABELS_FILE = "labels.json"
CONFIG_FILE = "config.json"
METRICS_FILE = "metrics.json"
VERSION_FILE = "format_version"
CONFUSION_FILE = "confusion.png"
REQUIRED_FILES = (VERSION_FILE, MODEL_FILE, LABELS_FILE, CONFIG_FILE, METRICS_FILE)
REQUIRED_CONFIG_KEYS = ("settings", "backbone", "unknown_threshold")
LEGACY_SETTINGS_KEYS = ("spectrogram", "window", "image_size")  # what bundles wrote before "settings"

PathLike = str | Path


def to_jsonable(value: Any) -> Any:
    """Dataclasses, tuples, Paths and numpy values to plain JSON types (for configs and metrics); NaN -> null."""
    if hasattr(value, "to_dict") and callable(value.to_dict) and not isinstance(value, type):
        return to_jsonable(value.to_dict())
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    if hasattr(value, "item") and callable(value.item) and getattr(value, "ndim", 0) == 0:  # numpy scalar
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None  # NaN/inf (e.g. a validation loss without validation data) is not valid JSON
    if hasattr(value, "tolist") and callable(value.tolist):  # numpy array
        return to_jsonable(value.tolist())
    return value


def make_config(
    *,
    settings: ImageSettings,
    backbone: str,
    unknown_threshold: float,
    weights: str | None = None,
    preprocessing: str | None = None,
    train: Any = None,
    **extra: Any,
) -> dict:
    """The ``config.json`` of a bundle. ``settings`` must be resolved (have their image size): they are the only
    place the audio-to-image settings and the image size are stored. ``train`` may be a config object or a dict
    (its own ``image_size`` is left out: the settings hold it); ``weights`` is the identity of the pretrained
    weights (``imagenet``, a file's name + hash, or ``none``)."""
    if not settings.resolved:
        raise ValueError("a bundle's settings need their image size (resolve them for the backbone first)")
    train_dict = to_jsonable(train) if train is not None else None
    if isinstance(train_dict, dict):
        train_dict.pop("image_size", None)
    config = {
        "settings": settings.to_dict(),
        "backbone": {"name": backbone, "weights": weights, "preprocessing": preprocessing},
        "unknown_threshold": float(unknown_threshold),
        "train": train_dict,
    }
    config.update(to_jsonable(extra))
    return config


def config_settings(config: dict) -> ImageSettings:
    """The settings of a bundle's config: its ``settings`` entry, or an older bundle's ``spectrogram``,
    ``window`` and ``image_size`` (the model's input size, checked against the model)."""
    if "settings" in config:
        return ImageSettings.from_dict(config["settings"])
    spectrogram = {k: v for k, v in dict(config["spectrogram"]).items() if k not in DERIVED_FIELDS}
    return ImageSettings.from_dict({"spectrogram": spectrogram, "window": config["window"],
                                    "image_size": config["image_size"]})


def missing_config_keys(config: dict) -> list[str]:
    if "settings" not in config and all(k in config for k in LEGACY_SETTINGS_KEYS):
        return [k for k in REQUIRED_CONFIG_KEYS if k != "settings" and k not in config]
    return [k for k in REQUIRED_CONFIG_KEYS if k not in config]


@dataclass
class ModelBundle:
    """A loaded (and checked) bundle. ``model`` is None when loaded with ``load_model=False``."""

    path: Path
    labels: list[str]
    config: dict
    metrics: dict
    model: Any = None
    _predictor: Any = field(default=None, repr=False, compare=False)

    @property
    def settings(self) -> ImageSettings:
        """How audio becomes this model's images, resolved (image size set)."""
        return config_settings(self.config)

    @property
    def image_size(self) -> tuple[int, int]:
        """(width, height), the convention of SpectrogramConfig and backbones."""
        return self.settings.image_size

    @property
    def unknown_threshold(self) -> float:
        return float(self.config["unknown_threshold"])

    @property
    def backbone(self) -> str:
        return str(self.config["backbone"]["name"])

    @property
    def spectrogram_config(self):
        """The spectrogram part of ``settings`` (at the model's image size)."""
        return self.settings.spectrogram

    @property
    def window_config(self):
        return self.settings.window

    @property
    def sample_rate(self) -> int:
        return int(self.spectrogram_config.sample_rate)


# ------------------------------------------------------------------------------------------------------ saving

def save_bundle(
    out_dir: PathLike,
    model: Any,
    labels: list[str],
    config: dict,
    metrics: dict | None = None,
    confusion_png: PathLike | None = None,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> Path:
    """Write a bundle folder atomically: it is built under a temporary name beside ``out_dir`` and swapped in
    at the end, so a cancel or a crash leaves either the previous bundle or none, never half of one."""
    cancel = ensure_token(cancel)
    out_dir = Path(out_dir)
    labels = [str(label) for label in labels]
    if len(set(labels)) != len(labels) or not all(labels):
        raise BundleError(f"{out_dir}: labels must be unique and non-empty, got {labels}")
    missing = missing_config_keys(config)
    if missing:
        raise BundleError(f"{out_dir}: config lacks {missing}")
    n_out = _output_size(model)
    if n_out is not None and n_out != len(labels):
        raise BundleError(f"{out_dir}: the model has {n_out} outputs but there are {len(labels)} labels")

    check_bundle_target(out_dir)

    tracker = ProgressTracker(progress, "saving", total=5)
    cancel.raise_if_cancelled()
    with atomic_directory(out_dir) as tmp:
        model.save(tmp / MODEL_FILE)
        tracker.advance(message=MODEL_FILE, force=True)
        cancel.raise_if_cancelled()
        atomic_write_json(tmp / LABELS_FILE, labels)
        atomic_write_json(tmp / CONFIG_FILE, to_jsonable(config))
        tracker.advance(message=CONFIG_FILE, force=True)
        cancel.raise_if_cancelled()
        atomic_write_json(tmp / METRICS_FILE, to_jsonable(metrics or {}))
        tracker.advance(message=METRICS_FILE, force=True)
        cancel.raise_if_cancelled()
        if confusion_png is not None:
            (tmp / CONFUSION_FILE).write_bytes(Path(confusion_png).read_bytes())
        tracker.advance(force=True)
        # Written last: a folder with a format_version is a finished bundle.
        atomic_write_text(tmp / VERSION_FILE, f"{FORMAT_VERSION}\n")
        cancel.raise_if_cancelled()
        tracker.advance(message="done", force=True)
    return out_dir


def check_bundle_target(out_dir: PathLike) -> None:
    """Refuse a destination that may not be replaced (fsutil.replace_refusal: it exists, is not empty and is not a
    model folder; or it is the current folder, a link, a file): saving replaces the folder whole, and a typo like
    ``--out ~/Documents`` must never delete it. Call it before a long job that ends in ``save_bundle``."""
    reason = replace_refusal(out_dir, marker=VERSION_FILE)
    if reason == NOT_EMPTY:
        reason = "exists and is not a model folder"
    if reason is not None:
        hint = "; choose a new or empty folder" if "choose" not in reason else ""
        raise BundleError(f"{out_dir}: {reason}{hint}")


def is_model_folder(path: PathLike) -> bool:
    """A folder of ours: it holds the ``format_version`` file a finished bundle is marked with."""
    path = Path(path)
    return path.is_dir() and not path.is_symlink() and (path / VERSION_FILE).is_file()


def _output_size(model: Any) -> int | None:
    try:
        return int(model.output_shape[-1])
    except (AttributeError, TypeError, ValueError):
        return None


# ----------------------------------------------------------------------------------------------------- loading

def _read_json(path: Path, what: str) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BundleError(f"{path}: missing ({what})") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BundleError(f"{path}: not valid JSON ({exc})") from None


def _register_custom_objects() -> None:
    """Import the modules that register our serialisable Keras layers, so safe-mode loading finds them."""
    for name in ("backbones", "training"):
        with contextlib.suppress(ImportError):
            __import__(f"{__package__}.{name}")


def read_bundle(path: PathLike, load_model: bool = True) -> ModelBundle:
    """Alias of ``load_bundle``."""
    return load_bundle(path, load_model=load_model)


def load_bundle(path: PathLike, load_model: bool = True) -> ModelBundle:
    """Load a bundle and check it, refusing with a ``BundleError`` that names the file and the problem:
    not a folder, a missing file, another format version, bad labels or config, a model that cannot be loaded
    (corrupt file or code that safe mode refuses), output size != number of labels, input size != image size.
    ``load_model=False`` reads only the JSON files (fast, no TensorFlow)."""
    path = Path(path)
    if not path.exists():
        recover_directory(path)  # a save killed between its two renames left the model as .NAME.old
    if not path.is_dir():
        raise BundleError(f"{path}: not a model folder" + ("" if path.exists() else " (it does not exist)"))
    missing = [name for name in REQUIRED_FILES if not (path / name).is_file()]
    if missing:
        raise BundleError(f"{path / missing[0]}: missing; {path} is not a complete model folder"
                          + (f" (also missing: {', '.join(missing[1:])})" if len(missing) > 1 else ""))

    version_text = (path / VERSION_FILE).read_text(encoding="utf-8", errors="replace").strip()
    try:
        version = int(version_text)
    except ValueError:
        raise BundleError(f"{path / VERSION_FILE}: not a format version number ({version_text[:40]!r})") from None
    if version != FORMAT_VERSION:
        newer = "a newer" if version > FORMAT_VERSION else "an older"
        raise BundleError(f"{path / VERSION_FILE}: format version {version}, made by {newer} AudioNet; "
                          f"this version reads format {FORMAT_VERSION}")

    labels = _read_json(path / LABELS_FILE, "class labels")
    if (not isinstance(labels, list) or not labels or not all(isinstance(label, str) and label for label in labels)
            or len(set(labels)) != len(labels)):
        raise BundleError(f"{path / LABELS_FILE}: must be a list of unique, non-empty class names")

    config = _read_json(path / CONFIG_FILE, "model settings")
    if not isinstance(config, dict):
        raise BundleError(f"{path / CONFIG_FILE}: must be a JSON object")
    missing_keys = missing_config_keys(config)
    if missing_keys:
        raise BundleError(f"{path / CONFIG_FILE}: missing settings {missing_keys}")
    try:
        threshold = float(config["unknown_threshold"])
        backbone = config["backbone"]
        if not (isinstance(backbone, dict) and isinstance(backbone.get("name"), str)):
            raise ValueError("backbone must be an object with a name")
        if not 0.0 <= threshold <= 1.0:
            raise ValueError("the unknown threshold must be within 0..1")
    except (TypeError, ValueError) as exc:
        raise BundleError(f"{path / CONFIG_FILE}: bad settings ({exc})") from None

    metrics = _read_json(path / METRICS_FILE, "metrics")
    if not isinstance(metrics, dict):
        raise BundleError(f"{path / METRICS_FILE}: must be a JSON object")

    bundle = ModelBundle(path=path, labels=labels, config=config, metrics=metrics)
    _check_audio_settings(bundle)
    if load_model:
        bundle.model = _load_model(path / MODEL_FILE)
        _check_model_matches(bundle)
    return bundle


def _check_audio_settings(bundle: ModelBundle) -> None:
    """The audio settings must parse and give the image size; otherwise no prediction could make the picture
    training used. (The size is then checked against the model's input in ``_check_model_matches``.)"""
    config_path = bundle.path / CONFIG_FILE
    try:
        settings = bundle.settings
    except Exception as exc:  # from_dict raises whatever a bad value gives (TypeError, ValueError, KeyError)
        raise BundleError(f"{config_path}: bad audio settings ({exc})") from None
    if not settings.resolved:
        raise BundleError(f"{config_path}: the settings give no image size")


def _load_model(model_path: Path):
    import keras  # noqa: PLC0415 - loads TensorFlow/Keras (3 s): only when this runs

    damage = _keras_file_damage(model_path)
    if damage:  # Keras itself says "File not found" for these, which misleads
        raise BundleError(f"{model_path}: the model cannot be loaded: {damage}")
    _register_custom_objects()
    try:
        return keras.models.load_model(model_path, safe_mode=True, compile=False)
    except Exception as exc:  # keras raises ValueError, OSError, zipfile errors, TypeError... for bad files
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        if "safe_mode" in str(exc) or "lambda" in str(exc).lower():
            reason = f"it contains code that safe mode refuses to run ({reason[:200]})"
        raise BundleError(f"{model_path}: the model cannot be loaded: {reason[:300]}") from None


def _keras_file_damage(model_path: Path) -> str | None:
    """Why ``model_path`` is not a whole .keras file (a zip archive), or None."""
    problem = regular_file_problem(model_path)
    if problem:
        return problem
    try:
        with open_regular(model_path) as fh, zipfile.ZipFile(fh) as archive:
            broken = archive.testzip()
    except zipfile.BadZipFile:
        return "the file is damaged or truncated (not a complete .keras archive)"
    except OSError as exc:
        return f"the file cannot be read ({exc.strerror or exc})"
    if broken is not None:
        return f"the file is damaged (its part {broken!r} does not match its checksum)"
    return None


def _check_model_matches(bundle: ModelBundle) -> None:
    model_path = bundle.path / MODEL_FILE
    model = bundle.model
    n_out = _output_size(model)
    if n_out != len(bundle.labels):
        raise BundleError(f"{model_path}: the model has {n_out} outputs but {bundle.path / LABELS_FILE} "
                          f"lists {len(bundle.labels)} classes")
    shape = tuple(model.input_shape)
    if len(shape) != 4 or (shape[3] not in (None, 3)):
        raise BundleError(f"{model_path}: the model takes input of shape {shape[1:]}, not RGB images")
    h, w = shape[1], shape[2]
    width, height = bundle.image_size
    if (h is not None and h != height) or (w is not None and w != width):
        raise BundleError(f"{model_path}: the model takes {w}x{h} images but {bundle.path / CONFIG_FILE} "
                          f"says {width}x{height} (width x height)")


# ----------------------------------------------------------------------------------------------------- export

TFLITE_IDENTIFIER = b"TFL3"  # bytes 4..8 of every TFLite flatbuffer


def is_tflite_file(path: PathLike) -> bool:
    try:
        with open_regular(path) as fh:
            return fh.read(8)[4:8] == TFLITE_IDENTIFIER
    except OSError:
        return False


def check_export_target(model_dir: PathLike, out_path: PathLike) -> None:
    """An export may create a file or replace an earlier export (a TFLite file), nothing else: not a folder, not
    a file of the model folder (its model.keras), not a user's other file. BundleError before any work."""
    out = normalized(out_path)
    model_dir = normalized(model_dir)
    if out.parent == model_dir and out.name in (*REQUIRED_FILES, CONFUSION_FILE):
        raise BundleError(f"{out_path}: is a file of the model folder {model_dir}; choose another name")
    reason = replace_refusal(out, file_is_ours=is_tflite_file)
    if reason is not None:
        raise BundleError(f"{out_path}: {reason}")


def export_tflite(bundle: ModelBundle, out_path: PathLike) -> Path:
    """Convert the bundle's model to a TFLite flatbuffer (image batch with values 0..255 in, probabilities out).
    Written atomically; the labels and audio settings stay in the bundle (the .tflite holds only the network)."""
    import tensorflow as tf  # noqa: PLC0415 - loads TensorFlow/Keras (3 s): only when this runs

    out_path = Path(out_path)
    check_export_target(bundle.path, out_path)
    if bundle.model is None:
        bundle = load_bundle(bundle.path)
    try:
        # The converter prints a page of "Saved artifact ..." on stdout: keep it off the terminal and --json output.
        with contextlib.redirect_stdout(io.StringIO()):
            converter = tf.lite.TFLiteConverter.from_keras_model(bundle.model)
            flatbuffer = converter.convert()
    except Exception as exc:
        raise BundleError(f"{bundle.path / MODEL_FILE}: TFLite conversion failed: {str(exc)[:300]}") from None
    with atomic_path(out_path, suffix=".tflite") as tmp:
        tmp.write_bytes(flatbuffer)
    return out_path
