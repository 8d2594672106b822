"""Audio input devices: list them with their host API, and pick one by id or name with a safe fallback.

sounddevice (PortAudio) is imported lazily through ``_sounddevice()`` so that importing this module never fails on a
machine without PortAudio, and so tests can replace the backend with a fake.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from audionet_gui.core.base.errors import AudioNetError


class NoInputDeviceError(AudioNetError):
    """There is no usable audio input at all (no microphone, no PortAudio, no sound server)."""


class InputStreamError(AudioNetError):
    """An input stream could not be opened or failed while running."""


@dataclass(frozen=True)
class InputDevice:
    id: int
    name: str
    hostapi: str
    channels: int
    default_samplerate: float
    is_default: bool = False

    @property
    def label(self) -> str:
        """What a person reads in a device list: ``"3: USB Mic (ALSA)"``."""
        return f"{self.id}: {self.name} ({self.hostapi})"

    @property
    def key(self) -> str:
        """A choice worth persisting: ids change when devices come and go, names rarely do."""
        return self.name

    def to_json(self) -> dict:
        return asdict(self)


DeviceChoice = int | str | None


def _sounddevice():
    """The sounddevice module, or NoInputDeviceError when PortAudio itself is missing."""
    try:
        import sounddevice  # noqa: PLC0415 - without PortAudio the import itself fails (OSError)
    except OSError as exc:  # the wheel does not bundle PortAudio on Linux
        raise NoInputDeviceError(
            f"audio input is unavailable: the PortAudio library could not be loaded ({exc}); "
            "on Debian/Ubuntu install it with: apt-get install libportaudio2"
        ) from exc
    return sounddevice


def list_input_devices() -> list[InputDevice]:
    """Every device with at least one input channel, in PortAudio's order. Empty when there is none."""
    sd = _sounddevice()
    try:
        devices = sd.query_devices()
        hostapis = sd.query_hostapis()
    except Exception as exc:  # PortAudio can fail to initialise (no sound server): treat as no device
        raise NoInputDeviceError(f"audio input is unavailable: {exc}") from exc
    default_id = _default_input_id(sd)
    found = []
    for index, dev in enumerate(devices):
        if int(dev.get("max_input_channels", 0)) <= 0:
            continue
        dev_id = int(dev.get("index", index))
        api_index = int(dev.get("hostapi", 0))
        api_name = hostapis[api_index]["name"] if 0 <= api_index < len(hostapis) else "?"
        found.append(
            InputDevice(
                id=dev_id,
                name=str(dev["name"]),
                hostapi=str(api_name),
                channels=int(dev["max_input_channels"]),
                default_samplerate=float(dev.get("default_samplerate") or 0.0),
                is_default=(dev_id == default_id),
            )
        )
    return found


def _default_input_id(sd) -> int:
    try:
        default = sd.default.device
        value = default[0] if isinstance(default, (list, tuple)) or hasattr(default, "__getitem__") else default
        return int(value) if value is not None else -1
    except Exception:
        return -1


def default_input_device(devices: list[InputDevice] | None = None) -> InputDevice:
    """The system's default input, else the first input device. NoInputDeviceError when there is none."""
    devices = list_input_devices() if devices is None else devices
    if not devices:
        raise NoInputDeviceError("no audio input device found (no microphone connected, or no sound server running)")
    for dev in devices:
        if dev.is_default:
            return dev
    return devices[0]


def find_input_device(choice: DeviceChoice, devices: list[InputDevice]) -> InputDevice | None:
    """The device ``choice`` names: an id (int or digits), an exact name (any case), or a unique part of a name."""
    if choice is None:
        return None
    text = str(choice).strip()
    if isinstance(choice, int) or text.lstrip("-").isdigit():
        wanted = int(text)
        return next((d for d in devices if d.id == wanted), None)
    lowered = text.lower()
    exact = [d for d in devices if d.name.lower() == lowered or d.label.lower() == lowered]
    if exact:
        return exact[0]
    partial = [d for d in devices if lowered in d.name.lower()]
    return partial[0] if len(partial) == 1 else None


def resolve_input_device(choice: DeviceChoice = None, devices: list[InputDevice] | None = None
                         ) -> tuple[InputDevice, str | None]:
    """The device to open and a warning for the user (None when ``choice`` was found or not given).

    A device that is not there (unplugged since it was chosen, a typo) falls back to the default input with a
    warning that names it; no input device at all raises NoInputDeviceError.
    """
    devices = list_input_devices() if devices is None else devices
    fallback = default_input_device(devices)
    if choice is None or (isinstance(choice, str) and not choice.strip()):
        return fallback, None
    found = find_input_device(choice, devices)
    if found is not None:
        return found, None
    names = ", ".join(d.label for d in devices)
    return fallback, (f"input device {choice!r} not found; using {fallback.label} instead "
                      f"(available: {names})")
