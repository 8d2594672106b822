"""``audionet devices [--json]``: the audio input devices, with their host API and native rate.

``--json``: one JSON array of ``{id, name, hostapi, channels, default_samplerate, is_default}``. Exit status 1
when there is no input device at all (the reason goes to stderr; ``--json`` still prints ``[]``).
"""

from __future__ import annotations

from audionet_gui.cli.term import fail, print_json, shown
from audionet_gui.core.live.devices import NoInputDeviceError, list_input_devices


def register(subparsers) -> None:
    p = subparsers.add_parser("devices", help="list audio input devices (microphones)",
                              description="List the audio input devices `audionet listen --device` can use.")
    p.add_argument("--json", action="store_true", help="a JSON array of devices")
    p.set_defaults(run=run)


def run(args) -> int:
    try:
        devices = list_input_devices()
        problem = None if devices else ("no audio input device found (no microphone connected, or no sound server "
                                        "running)")
    except NoInputDeviceError as exc:
        devices, problem = [], str(exc)
    if args.json:
        print_json([d.to_json() for d in devices])
    else:
        for d in devices:
            mark = "*" if d.is_default else " "
            print(f"{mark} {d.id:3d}  {shown(d.name)}  ({shown(d.hostapi)}, {d.channels} ch, "
                  f"{d.default_samplerate:g} Hz)")
        if devices:
            print("(* = default input)")
    return fail(problem, status=1) if problem else 0
