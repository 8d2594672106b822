"""``audionet timeline MODEL_DIR AUDIO... [--format json|csv|audacity|rttm|srt] [--out PATH]``: the speaker turns
of long recordings (who spoke when). JSON: ``file``, ``segments`` [{``start``, ``end``, ``label``, ``p``}],
``speakers``. Voices no enrolled speaker matches are ``unknown-1``, ``unknown-2`` ... (the same voice keeps its id
across the file).

One file: to ``--out PATH`` (a file, or a folder to put ``<name>.<ext>`` in) or to standard output. Several files
or a folder: one output per file in the ``--out`` folder, or all to standard output (JSON: one object per line).
A file that cannot be read is reported and skipped; the others go on."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from audionet_gui.cli.term import TerminalProgress, fail
from audionet_gui.core.answers import MIN_TURN_S, SMOOTHING, SWITCH_COST
from audionet_gui.core.base.errors import AudioNetError
from audionet_gui.core.base.fsutil import atomic_write_text
from audionet_gui.core.model.bundle import load_bundle
from audionet_gui.core.model.timeline import TurnOptions, audio_inputs, timeline_file
from audionet_gui.core.timeline_formats import EXTENSIONS, FORMATS, render


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "timeline", help="who spoke when in long recordings (speaker turns)",
        description="Speaker turns of each AUDIO file (or every audio file in a folder): windows with speech are "
                    "identified with MODEL_DIR, smoothed into turns, and voices that match no enrolled speaker "
                    "are told apart as unknown-1, unknown-2, ...")
    p.add_argument("model_dir", metavar="MODEL_DIR")
    p.add_argument("audio", nargs="+", metavar="AUDIO", help="audio files or folders")
    p.add_argument("--format", choices=FORMATS, default="json",
                   help="json (default), csv, audacity (labels: start<TAB>end<TAB>label), rttm, srt")
    p.add_argument("--out", default=None, metavar="PATH",
                   help="output file (one input) or folder (one file per input); default standard output")
    p.add_argument("--smoothing", choices=SMOOTHING, default="viterbi",
                   help="viterbi: decide all windows together, with a minimum turn (default); none: each window "
                        "on its own")
    p.add_argument("--min-turn", type=float, default=MIN_TURN_S, metavar="S",
                   help=f"shortest turn in seconds (viterbi; default {MIN_TURN_S:g})")
    p.add_argument("--switch-cost", type=float, default=SWITCH_COST, metavar="X",
                   help=f"evidence (nats) a change of speaker must win by (viterbi; default {SWITCH_COST:g})")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(run=run)


def _out_path(out: Path, source: Path, ext: str, taken: set[Path]) -> Path:
    path = out / f"{source.stem}{ext}"
    n = 2
    while path in taken:  # two inputs with the same name in different folders
        path = out / f"{source.stem}_{n}{ext}"
        n += 1
    taken.add(path)
    return path


def run(args) -> int:
    try:
        bundle = load_bundle(args.model_dir)
    except AudioNetError as exc:
        return fail(str(exc), status=1)
    inputs = audio_inputs(args.audio)
    if not inputs:
        return fail("no audio files in " + ", ".join(args.audio), status=1)
    ext = EXTENSIONS[args.format]
    out = Path(args.out) if args.out else None
    to_folder = out is not None and (len(inputs) > 1 or out.is_dir() or Path(args.audio[0]).is_dir())
    if to_folder:
        if out.exists() and not out.is_dir():
            return fail(f"{out}: several outputs need a folder, and this is a file", status=2)
        out.mkdir(parents=True, exist_ok=True)
    options = TurnOptions(args.smoothing, args.min_turn, args.switch_cost)
    progress = TerminalProgress(stream=sys.stderr, quiet=args.quiet)
    failures, taken = 0, set()
    for i, path in enumerate(inputs, 1):
        if len(inputs) > 1 and progress.enabled:
            progress.close()
            print(f"[{i}/{len(inputs)}] {path}", file=sys.stderr)
        try:
            result = timeline_file(bundle, path, options, progress=progress)
        except (AudioNetError, OSError, ValueError) as exc:
            failures += 1
            progress.close()
            print(f"audionet: {path}: {getattr(exc, 'reason', None) or exc}", file=sys.stderr)
            continue
        progress.close()
        data = result.to_dict()
        if out is None:
            text = json.dumps(data, separators=(",", ":")) + "\n" if (
                args.format == "json" and len(inputs) > 1) else render(data, args.format)
            sys.stdout.write(text)
            sys.stdout.flush()
        else:
            target = _out_path(out, path, ext, taken) if to_folder else out
            atomic_write_text(target, render(data, args.format))
    # Like predict: bad files are reported and skipped; failure only when no file could be read.
    return 1 if failures == len(inputs) else 0
