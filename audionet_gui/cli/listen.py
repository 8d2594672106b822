"""``audionet listen MODEL_DIR [--device ID] [--seconds N] [--json]``: identify who (or what) the microphone hears.

A decision every hop (0.5 s) once a full window has been heard. With ``--json``: one JSON object per line and
decision with ``t`` (seconds of audio since listening started), ``label`` (a class, ``unknown`` or ``silence``),
``p``, ``latency_ms`` (last sample of the window heard -> decision), ``top_k``, ``best``, ``level_db`` and
``gate``. Warnings (a device that is not there and the default used instead, a device lost and reconnected) go to
stderr. Exit status 1 when the model cannot be loaded, there is no audio input at all, or the input was lost and
had not come back when listening ended.
"""

from __future__ import annotations

import os
import queue
import sys
import time

from audionet_gui.cli.term import fail, print_json, shown
from audionet_gui.core.answers import SILENCE, UNKNOWN
from audionet_gui.core.base.errors import AudioNetError
from audionet_gui.core.live.devices import NoInputDeviceError
from audionet_gui.core.live.engine import engine_for_bundle, live_config_from_bundle, resolve_input_device
from audionet_gui.core.model.bundle import load_bundle


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "listen", help="identify the speaker or sound heard by the microphone, live",
        description="Listen to an input device and say, every half second, which class of MODEL_DIR is heard "
                    f"('{UNKNOWN}' when the model is unsure, '{SILENCE}' when it is too quiet to tell).")
    p.add_argument("model_dir", metavar="MODEL_DIR")
    p.add_argument("--device", metavar="ID", help="input device id or name (see `audionet devices`); default: "
                                                  "the system's default input")
    p.add_argument("--seconds", type=float, metavar="N", help="stop after N seconds (default: until Ctrl-C)")
    p.add_argument("--json", action="store_true", help="one JSON object per decision (JSON lines)")
    p.add_argument("--threshold", type=float, metavar="P",
                   help=f"under this probability the answer is '{UNKNOWN}' (default: the model's calibrated value)")
    p.add_argument("--hop", type=float, metavar="S", help="seconds between decisions, at most 0.5 (default 0.5)")
    p.add_argument("--smooth", type=int, metavar="N", help="average the last N decisions (default 3; 1 = off)")
    p.add_argument("--silence-db", type=float, metavar="DB",
                   help=f"windows under this level (dBFS) are '{SILENCE}' (default: the model's setting)")
    p.add_argument("--top-k", type=int, default=3, metavar="K", help="how many classes to rank (3)")
    p.set_defaults(run=run)


def _text_line(d) -> str:
    ranked = ", ".join(f"{shown(label)} {p:.2f}" for label, p in d.top_k)
    detail = f"  ({ranked})" if ranked else ""
    return f"{d.t:8.1f} s  {shown(d.label):<16} p={d.p:.2f}  {d.latency_ms:5.0f} ms  {d.level_db:6.1f} dB{detail}"


def run(args) -> int:
    if args.seconds is not None and args.seconds <= 0:
        return fail("--seconds must be positive")
    # The input first: no microphone is the commonest problem, and loading a model takes seconds.
    try:
        device, warning = resolve_input_device(args.device)
    except NoInputDeviceError as exc:
        return fail(str(exc), status=1)
    if warning:
        print(f"audionet: warning: {shown(warning)}", file=sys.stderr)
    try:
        bundle = load_bundle(args.model_dir)
        config = live_config_from_bundle(bundle, threshold=args.threshold, hop_s=args.hop, smoothing=args.smooth,
                                         silence_db=args.silence_db, top_k=args.top_k)
    except (AudioNetError, ValueError) as exc:
        return fail(str(exc), status=1)

    decisions: queue.Queue = queue.Queue()
    engine = engine_for_bundle(
        bundle, device=device.id, config=config, on_decision=decisions.put,
        on_event=lambda kind, message: print(f"audionet: {kind}: {message}", file=sys.stderr, flush=True))
    if not args.json:
        print(f"audionet: loading {shown(bundle.path.name)} ({shown(bundle.backbone)}) ...", file=sys.stderr,
              flush=True)
    engine.warm_up()
    try:
        engine.start()
    except AudioNetError as exc:
        return fail(str(exc), status=1)
    if not args.json:
        print(f"audionet: listening on {shown(device.label)} at {device.default_samplerate:g} Hz; classes: "
              f"{shown(', '.join(bundle.labels))}; threshold {engine.threshold:.2f}" +
              ("" if args.seconds else "; Ctrl-C to stop"), file=sys.stderr, flush=True)
    deadline = None if args.seconds is None else time.monotonic() + args.seconds
    try:
        while deadline is None or time.monotonic() < deadline:
            timeout = 0.1 if deadline is None else max(0.0, min(0.1, deadline - time.monotonic()))
            try:
                d = decisions.get(timeout=timeout)
            except queue.Empty:
                continue
            if args.json:
                print_json(d.to_json(), compact=True)
            else:
                print(_text_line(d), flush=True)
    except KeyboardInterrupt:  # Ctrl-C is the normal way to stop without --seconds
        pass
    except BrokenPipeError:  # `audionet listen ... | head`: the reader is gone, stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error at exit
        return 0
    finally:
        engine.stop()
    if not args.json:
        segments = [s for s in engine.timeline.segments()]
        if segments:
            print("timeline:", file=sys.stderr)
            for s in segments:
                print(f"  {s.start_s:8.1f}-{s.end_s:8.1f} s  {shown(s.label)} ({s.p:.2f})", file=sys.stderr)
    lost = getattr(engine.source, "lost_problem", None)
    return fail(lost, status=1) if lost else 0
