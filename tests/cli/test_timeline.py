"""``audionet timeline``: turns of a conversation of tone "voices", every format, folders, two strangers."""

import contextlib
import csv
import io
import json

import numpy as np
import pytest

from audionet_gui.cli.entry import main
from audionet_gui.core.timeline_formats import parse_audacity, parse_rttm
from tests.audio_factory import write
from tests.tiny_models import voice_bundle
from tests.tone_dataset import SR, tone_clip

VOICES = {"anna": 300.0, "ben": 800.0, "xavier": 1400.0, "yolanda": 2500.0}
SCRIPT = [("anna", 3), ("xavier", 3), ("ben", 3), ("yolanda", 3), ("anna", 3), ("xavier", 3), ("yolanda", 3)]


def run_cli(*argv):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main([str(a) for a in argv])
    return status, out.getvalue(), err.getvalue()


def conversation(script, seed=0):
    rng = np.random.default_rng(seed)
    return np.concatenate([tone_clip(VOICES[who], seconds, rng) for who, seconds in script])


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    root = tmp_path_factory.mktemp("timeline")
    model = voice_bundle(root / "model", VOICES, ["anna", "ben"])
    talk = write(root / "talks" / "talk.wav", conversation(SCRIPT), SR)
    write(root / "talks" / "sub" / "short.wav", conversation([("ben", 2), ("anna", 2)], seed=1), SR)
    return model, talk, root


def _expected_labels():
    return ["anna", "unknown-1", "ben", "unknown-2", "anna", "unknown-1", "unknown-2"]


def test_json_has_the_keys_and_two_strangers_get_two_stable_ids(setup):
    model, talk, _ = setup
    status, out, _ = run_cli("timeline", model, talk, "--quiet")
    assert status == 0
    data = json.loads(out)
    assert set(data) == {"file", "segments", "speakers"}
    assert set(data["segments"][0]) == {"start", "end", "label", "p"}
    assert [s["label"] for s in data["segments"]] == _expected_labels()
    assert data["speakers"] == ["anna", "unknown-1", "ben", "unknown-2"]
    # turn boundaries within a hop of the truth (every 3 s)
    for seg, k in zip(data["segments"][1:], range(1, 8)):
        assert abs(seg["start"] - 3 * k) <= 0.5


def test_audacity_and_rttm_parse_back_to_the_json_turns(setup, tmp_path):
    model, talk, _ = setup
    _, out, _ = run_cli("timeline", model, talk, "--quiet")
    turns = [(s["start"], s["end"], s["label"]) for s in json.loads(out)["segments"]]
    assert run_cli("timeline", model, talk, "--format", "audacity", "--out", tmp_path / "t.txt")[0] == 0
    assert [(round(a, 3), round(b, 3), c) for a, b, c in parse_audacity((tmp_path / "t.txt").read_text())] == turns
    assert run_cli("timeline", model, talk, "--format", "rttm", "--out", tmp_path / "t.rttm")[0] == 0
    back = parse_rttm((tmp_path / "t.rttm").read_text())
    assert {f for f, *_ in back} == {"talk"}
    assert [(round(a, 3), round(b, 3), c) for _, a, b, c in back] == [(a, b, c) for a, b, c in turns]


def test_csv_and_srt(setup):
    model, talk, _ = setup
    status, out, _ = run_cli("timeline", model, talk, "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert status == 0 and [r["label"] for r in rows] == _expected_labels()
    status, out, _ = run_cli("timeline", model, talk, "--format", "srt")
    assert out.startswith("1\n00:00:00,000 --> 00:00:03,")
    assert out.strip().split("\n\n")[1].splitlines()[2] == "unknown-1"


def test_a_folder_gives_one_output_per_file_and_bad_files_are_reported(setup, tmp_path):
    model, _, root = setup
    bad = root / "talks" / "broken.wav"
    bad.write_bytes(b"not audio")
    try:
        status, _, err = run_cli("timeline", model, root / "talks", "--format", "rttm", "--out", tmp_path / "o")
    finally:
        bad.unlink()
    assert status == 0
    assert sorted(p.name for p in (tmp_path / "o").iterdir()) == ["short.rttm", "talk.rttm"]
    assert "broken.wav" in err
    assert [c for *_, c in parse_rttm((tmp_path / "o" / "short.rttm").read_text())] == ["ben", "anna"]
    # several files to standard output as JSON: one object per line
    status, out, _ = run_cli("timeline", model, root / "talks" / "talk.wav", root / "talks" / "sub" / "short.wav")
    assert [json.loads(line)["file"].endswith(name) for line, name in
            zip(out.splitlines(), ("talk.wav", "short.wav"))] == [True, True]


def test_without_smoothing_and_bad_model(setup, tmp_path):
    model, talk, _ = setup
    status, out, _ = run_cli("timeline", model, talk, "--smoothing", "none")
    assert status == 0 and json.loads(out)["speakers"][:2] == ["anna", "unknown-1"]
    status, _, err = run_cli("timeline", tmp_path / "nope", talk)
    assert status == 1 and "nope" in err
