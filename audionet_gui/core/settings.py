"""The one settings object for how audio becomes the CNN's image: the window rule, the spectrogram and the
image size.

    settings = ImageSettings()                               # the defaults
    settings = settings.with_values({"n_mels": 64, "window_s": 1.0})
    ready = settings.for_backbone("mobilenet_v2")            # image size resolved: what training makes
    ready.spectrogram, ready.window                          # what cut_windows / spectrogram_image take

It is stored once: a project's ``settings`` entry and a model bundle's ``config.json`` ``settings`` entry
(``to_dict``/``from_dict``; both still read the older ``spectrogram``/``window``/``image_size`` keys). The
fields of its parts are declared with ``setting(...)`` (core/base/fields.py); ``setting_fields()`` lists them
all, and the settings form (ui/widgets/settings_form.py) and the CLI flags (cli/flags.py) are made from that
list, so a new field declared with ``setting`` gets its editor and its flag without further code.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
from dataclasses import dataclass, field, replace
from typing import Any

from audionet_gui.core.audio.spectrogram import SpectrogramConfig
from audionet_gui.core.audio.windows import WindowConfig
from audionet_gui.core.base.fields import SettingInfo, check_bounds, setting, setting_info, settings_fields, value_kind
from audionet_gui.core.data.convert.augmentation import DEFAULT_COPIES, AugmentPlan
from audionet_gui.core.model.backbones import resolve_image_size
from audionet_gui.core.model.training import TrainConfig

# The parts of the settings, in the order the form and ``--help`` show them: (attribute, class).
PARTS: tuple[tuple[str, type], ...] = (("window", WindowConfig), ("spectrogram", SpectrogramConfig))
# Fields of the spectrogram part that follow ``image_size`` instead of being settings of their own.
DERIVED_FIELDS = ("image_width", "image_height")
_DEFAULT_SPECTROGRAM_SIZE = SpectrogramConfig().image_size


@dataclass(frozen=True)
class SettingField:
    """One editable setting: its flat name (unique across the parts), the part holding it ("" = the
    settings object itself), its metadata, its default and its kind ("choice", "bool", "int", "float",
    "size", "str"; see ``value_kind``)."""

    name: str
    part: str
    info: SettingInfo
    default: Any
    kind: str

    @property
    def flag(self) -> str:
        return self.info.flag or "--" + self.name.replace("_", "-")


@dataclass(frozen=True)
class ImageSettings:
    """Window rule + spectrogram + image size; frozen, validated by its parts, JSON round trip.

    ``image_size`` (width, height) None means "the backbone's own"; ``for_backbone`` resolves it. The
    spectrogram part's ``image_width``/``image_height`` always follow ``image_size`` (the spectrogram default
    while it is None), so the size is chosen in one place.
    """

    window: WindowConfig = field(default_factory=WindowConfig)
    spectrogram: SpectrogramConfig = field(default_factory=SpectrogramConfig)
    image_size: tuple[int, int] | None = setting(
        None, "Image size", "Width × height of the image the network sees, in pixels. auto = the size the chosen "
        "network was made for (299 × 299 for inception_v3, 224 × 224 for the MobileNets).", unit="px", min=8,
        max=2048, step=1, optional=True, auto_text="the network's", advanced=True)

    def __post_init__(self) -> None:
        if not isinstance(self.window, WindowConfig) or not isinstance(self.spectrogram, SpectrogramConfig):
            raise TypeError("ImageSettings takes a WindowConfig and a SpectrogramConfig")
        if self.image_size is None:
            if self.spectrogram.image_size != _DEFAULT_SPECTROGRAM_SIZE:
                raise ValueError("set the image size with image_size (or ImageSettings.from_parts), not in the "
                                 "spectrogram part")
            return
        try:
            width, height = (int(v) for v in self.image_size)
        except (TypeError, ValueError):
            raise ValueError(f"image size must be (width, height), got {self.image_size!r}") from None
        if width < 8 or height < 8:
            raise ValueError(f"image size {width}x{height} is too small (8 px minimum)")
        object.__setattr__(self, "image_size", (width, height))
        check_bounds(self)  # the image size's own min/max
        if self.spectrogram.image_size != (width, height):
            object.__setattr__(self, "spectrogram", self.spectrogram.with_image_size(width, height))

    @classmethod
    def from_parts(cls, spectrogram: SpectrogramConfig | None = None, window: WindowConfig | None = None,
                   image_size: tuple[int, int] | None = None) -> ImageSettings:
        """Settings from a spectrogram config whose image size is meant (as a bundle's or a workspace's)."""
        spectrogram = spectrogram or SpectrogramConfig()
        if image_size is None and spectrogram.image_size != _DEFAULT_SPECTROGRAM_SIZE:
            image_size = spectrogram.image_size
        if image_size is None:
            return cls(window or WindowConfig(), spectrogram)
        return cls(window or WindowConfig(), spectrogram, tuple(image_size))

    # -- reading -----------------------------------------------------------------------------------------------
    @property
    def resolved(self) -> bool:
        """The image size is known (set, or resolved for a backbone)."""
        return self.image_size is not None

    def for_backbone(self, backbone: str) -> ImageSettings:
        """These settings at the image size ``backbone`` takes: the size given, checked against the backbone's
        minimum, else its own. What training makes and what the Inspect page shows."""
        return replace(self, image_size=resolve_image_size(backbone, self.image_size))

    def values(self) -> dict[str, Any]:
        """Every setting by its flat name (as ``setting_fields`` names them)."""
        return {f.name: self.value(f.name) for f in setting_fields()}

    def value(self, name: str) -> Any:
        part = _field(name).part
        return getattr(getattr(self, part) if part else self, name)

    def effective_value(self, name: str) -> Any:
        """The value, or for an optional setting left on auto what auto means here (fmax: the Nyquist frequency,
        image_size: the size the spectrogram makes; resolve for a backbone first to get the network's); None
        when there is no such number."""
        value = self.value(name)
        if value is None and name in _EFFECTIVE:
            return _EFFECTIVE[name](self)
        return value

    # -- editing -----------------------------------------------------------------------------------------------
    def with_values(self, values: dict[str, Any]) -> ImageSettings:
        """A copy with some settings changed, by flat name; the parts check the result (ValueError)."""
        known = {f.name: f for f in setting_fields()}
        unknown = sorted(set(values) - set(known))
        if unknown:
            raise ValueError(f"unknown settings {unknown}")
        changes: dict[str, dict[str, Any]] = {part: {} for part, _ in PARTS}
        image_size = self.image_size
        for name, value in values.items():
            if known[name].part:
                changes[known[name].part][name] = value
            else:
                image_size = None if value is None else tuple(value)
        parts = {part: replace(getattr(self, part), **changes[part]) if changes[part] else getattr(self, part)
                 for part, _ in PARTS}
        if image_size is None:
            parts["spectrogram"] = parts["spectrogram"].with_image_size(*_DEFAULT_SPECTROGRAM_SIZE)
        return ImageSettings(parts["window"], parts["spectrogram"], image_size)

    def with_image_size(self, width: int, height: int) -> ImageSettings:
        return replace(self, image_size=(int(width), int(height)))

    # -- JSON --------------------------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        spectrogram = {k: v for k, v in self.spectrogram.to_dict().items() if k not in DERIVED_FIELDS}
        return {"window": self.window.to_dict(), "spectrogram": spectrogram,
                "image_size": list(self.image_size) if self.image_size else None}

    @classmethod
    def from_dict(cls, data: Any) -> ImageSettings:
        """Settings from ``to_dict``'s shape; missing keys take their defaults, unknown keys are ignored. Older
        files wrote a spectrogram with ``image_width``/``image_height``; those give the image size when there
        is no ``image_size`` key (a workspace's settings). ValueError/TypeError for bad values."""
        if data is None:
            return cls()
        if not isinstance(data, dict):
            raise TypeError(f"settings must be a JSON object, got {type(data).__name__}")
        spectrogram_data = dict(data.get("spectrogram") or {})
        image_size = data.get("image_size")
        if image_size is None and {"image_width", "image_height"} <= set(spectrogram_data):
            image_size = (spectrogram_data["image_width"], spectrogram_data["image_height"])
        for key in DERIVED_FIELDS:
            spectrogram_data.pop(key, None)
        window = WindowConfig.from_dict(dict(data.get("window") or {}))
        spectrogram = SpectrogramConfig.from_dict(spectrogram_data)
        if image_size is None:
            return cls(window, spectrogram)
        if isinstance(image_size, int):
            image_size = (image_size, image_size)
        return cls(window, spectrogram, tuple(image_size))

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> ImageSettings:
        return cls.from_dict(json.loads(text))

    def fingerprint(self) -> str:
        """Stable short hash of everything that determines the images (equal settings, equal fingerprint)."""
        return hashlib.sha256(self.to_json().encode()).hexdigest()[:16]


_EFFECTIVE = {"fmax": lambda s: s.spectrogram.top_hz, "image_size": lambda s: s.spectrogram.image_size}


def settings_from_json(data: Any) -> ImageSettings:
    """Settings from any JSON that holds them: a settings object, a project file or a bundle's config.json
    (their ``settings`` entry), or the older ``spectrogram``/``window`` shapes (a workspace.json, an old project
    or bundle); a bare spectrogram object is read as the spectrogram part."""
    if not isinstance(data, dict):
        raise TypeError(f"settings must be a JSON object, got {type(data).__name__}")
    if isinstance(data.get("settings"), dict):
        return ImageSettings.from_dict(data["settings"])
    if any(key in data for key in ("spectrogram", "window", "image_size")):
        return ImageSettings.from_dict(data)
    return ImageSettings.from_dict({"spectrogram": data})


def _field(name: str) -> SettingField:
    return _fields_by_name()[name]  # KeyError for an unknown name


@functools.cache
def _fields_by_name() -> dict[str, SettingField]:
    return {f.name: f for f in setting_fields()}


def setting_fields() -> list[SettingField]:
    """Every setting, part by part in declaration order, then the image size. Fields without ``setting``
    metadata other than the derived image size are an error (a test checks every field has its metadata)."""
    return list(_setting_fields())


@functools.cache
def _setting_fields() -> tuple[SettingField, ...]:
    # built once: it makes default settings, whose bounds checks cost about 1 ms, and the form reads a value
    # by name dozens of times per redraw (100 ms of GUI time when a model arrived)
    out: list[SettingField] = []
    for part, cls in PARTS:
        defaults = cls()
        for f, info in settings_fields(cls):
            out.append(SettingField(f.name, part, info, getattr(defaults, f.name), value_kind(cls, f)))
    for f in dataclasses.fields(ImageSettings):
        info = setting_info(f)
        if info is not None:
            out.append(SettingField(f.name, "", info, f.default, value_kind(ImageSettings, f)))
    return tuple(out)


@dataclass(frozen=True)
class TrainingPlan:
    """How much work training does beyond the network choice: audio copies per training window and when to stop.

    Stored as keys of a project's ``training`` section beside backbone, weights and epochs (``from_training`` /
    ``to_training``); the Train page's network panel and ``audionet train`` make their editors and flags from
    ``training_plan_fields()`` as for ``ImageSettings``. A small project (a demo, a first try) picks a small
    plan in its file; the defaults are the robust ones (DEVELOPERS.md, "Robustness")."""

    # not "augment_copies": that training-section key is TrainConfig's image-level copies for a head on features
    augmented_copies: int = setting(
        DEFAULT_COPIES, "Augmented copies", "Noisy copies of each training window (background noise, a simulated "
        "room, a random microphone, other talkers, level and masks): more copies make a model that copes better "
        "with noise and rooms, and each copy adds about as much training time as the recordings themselves. "
        "0 = train on the recordings only.", min=0, max=32, step=1, flag="--augment")
    patience: int = setting(
        TrainConfig.patience, "Early stopping", "Stop when the validation loss has not improved for this many "
        "epochs; the best epoch's weights are kept. 0 = always train every epoch.", unit="epochs", min=0,
        max=1000, step=1)

    def __post_init__(self) -> None:
        check_bounds(self)

    @classmethod
    def from_training(cls, training: dict[str, Any] | None) -> TrainingPlan:
        """The plan in a project's ``training`` section; missing keys take their defaults (older projects).
        ValueError naming the setting for a bad value."""
        training = training or {}
        return cls(**{f.name: training[f.name] for f, _ in settings_fields(cls) if f.name in training})

    def to_training(self) -> dict[str, Any]:
        """The keys this plan adds to a ``training`` section."""
        return {f.name: getattr(self, f.name) for f, _ in settings_fields(self)}

    def augment_plan(self, seed: int = 0) -> Any:
        """What conversion takes: an ``AugmentPlan`` with this many copies, None for none."""
        return AugmentPlan(copies=self.augmented_copies, seed=seed) if self.augmented_copies else None


def training_plan_fields() -> list[SettingField]:
    """The training plan's settings, in declaration order (the form's rows, the CLI's flags)."""
    defaults = TrainingPlan()
    return [SettingField(f.name, "", info, getattr(defaults, f.name), value_kind(TrainingPlan, f))
            for f, info in settings_fields(TrainingPlan)]
