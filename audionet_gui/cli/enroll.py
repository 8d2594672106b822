"""``audionet enroll MODEL_DIR NAME AUDIO... --out NEW_MODEL_DIR [--json]``: a new model that also knows NAME (or
knows NAME from more audio), made in seconds: only the head retrains, on cached features. The enrolment check
(seconds of speech, level, clipping, background noise, agreement among the clips) is printed first; with
``--json`` one object: the enrolment (``model``, ``name``, ``labels``, ``windows``, ``test_accuracy``,
``others_before``, ``others_after``, ...) and ``check``."""

from __future__ import annotations

import sys

from audionet_gui.cli.term import TerminalProgress, fail, print_json
from audionet_gui.core.audio.enrol_check import check_enrolment
from audionet_gui.core.audio.files import load_audio
from audionet_gui.core.base.errors import AudioFileError, AudioNetError
from audionet_gui.core.model.enroll import enroll_speaker
from audionet_gui.core.model.timeline import audio_inputs

CHECK_RATE = 16000


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "enroll", help="add a speaker to a model from a few recordings (seconds, no retraining of the backbone)",
        description="Write NEW_MODEL_DIR: MODEL_DIR plus the speaker NAME learnt from AUDIO (files or folders; "
                    "about 30 s of speech is a good voice print). Only the classification head retrains, on the "
                    "cached features of the model's training windows; the unknown threshold and the test metrics "
                    "are measured again.")
    p.add_argument("model_dir", metavar="MODEL_DIR")
    p.add_argument("name", metavar="NAME")
    p.add_argument("audio", nargs="+", metavar="AUDIO")
    p.add_argument("--out", required=True, metavar="NEW_MODEL_DIR", help="the new model folder")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--cache-dir", default=None, help="feature cache (default: the user cache, as train)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(run=run)


def run(args) -> int:
    files = audio_inputs(args.audio)
    clips = []
    for path in files:
        try:
            clips.append(load_audio(path, CHECK_RATE))
        except AudioFileError:
            pass  # enroll_speaker reports it with the reason
    check = check_enrolment(clips, CHECK_RATE)
    if not args.json:
        print(f"enrolment check: {check.status}")
        for item in check.items:
            print(f"  {item.key:<10} {item.status:<5} {item.message}")
    progress = TerminalProgress(stream=sys.stderr, quiet=args.quiet or args.json)
    try:
        report = enroll_speaker(args.model_dir, args.name, files, args.out, feature_cache=args.cache_dir,
                                progress=progress)
    except (AudioNetError, ValueError) as exc:
        progress.close()
        if args.json:
            print_json({"error": str(exc), "check": check.to_dict()}, stream=sys.stdout)
        return fail(str(exc), status=1)
    progress.close()
    if args.json:
        print_json({**report.to_dict(), "check": check.to_dict()}, stream=sys.stdout)
        return 0
    verb = "added" if report.new_speaker else "more audio for"
    print(f"{verb} {report.name}: {report.windows['train']} training windows "
          f"({report.windows['val']} validation, {report.windows['test']} test) in {report.seconds:.1f} s")
    test = report.metrics.get("test")
    if test:
        print(f"test accuracy: {test['accuracy']:.1%} of {test['windows']} windows")
    for label in report.before:
        print(f"  {label}: {report.before[label]:.1%} before, {report.after[label]:.1%} after")
    print(f"unknown below p = {report.unknown_threshold:.3f}")
    for f in report.failed:
        print(f"skipped {f['path']}: {f['reason']}")
    for w in report.warnings:
        print(f"warning: {w}")
    print(f"model: {report.bundle_path}")
    return 0
