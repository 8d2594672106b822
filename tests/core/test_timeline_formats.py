"""Timeline formats: JSON, CSV, Audacity labels, RTTM and SRT; Audacity and RTTM read back."""

import csv
import io
import json

import pytest

from audionet_gui.core.timeline_formats import FORMATS, parse_audacity, parse_rttm, render

TIMELINE = {"file": "/data/my talk.wav", "speakers": ["alice", "unknown-1"], "segments": [
    {"start": 0.0, "end": 3.5, "label": "alice", "p": 0.91},
    {"start": 3.5, "end": 3723.25, "label": "unknown-1", "p": 0.42},
    {"start": 3725.0, "end": 3730.0, "label": "Mary Ann", "p": 0.8},
]}


def test_json_keeps_the_keys():
    data = json.loads(render(TIMELINE, "json"))
    assert set(data) == {"file", "segments", "speakers"}
    assert data["segments"][1] == TIMELINE["segments"][1]


def test_csv_has_a_header_and_a_row_per_turn():
    rows = list(csv.DictReader(io.StringIO(render(TIMELINE, "csv"))))
    assert [r["label"] for r in rows] == ["alice", "unknown-1", "Mary Ann"]
    assert float(rows[1]["end"]) == 3723.25 and rows[0]["file"] == "/data/my talk.wav"


def test_audacity_labels_parse_back():
    text = render(TIMELINE, "audacity")
    assert text.splitlines()[0] == "0.000000\t3.500000\talice"
    back = parse_audacity(text)
    assert back == [(s["start"], s["end"], s["label"]) for s in TIMELINE["segments"]]


def test_audacity_parser_reads_points_and_skips_frequency_lines():
    assert parse_audacity("1.5\t1.5\tx\n\\\t100\t2000\n2\t3\n") == [(1.5, 1.5, "x"), (2.0, 3.0, "")]
    with pytest.raises(ValueError, match="line 1"):
        parse_audacity("start\tend\tlabel\n")


def test_rttm_parses_back_with_spaces_made_safe():
    text = render(TIMELINE, "rttm")
    first = text.splitlines()[0].split()
    assert first[0] == "SPEAKER" and first[1] == "my_talk" and first[2] == "1" and len(first) == 10
    back = parse_rttm(";; comment\n" + text)
    assert [(f, round(a, 3), round(b, 3), who) for f, a, b, who in back] == [
        ("my_talk", 0.0, 3.5, "alice"), ("my_talk", 3.5, 3723.25, "unknown-1"), ("my_talk", 3725.0, 3730.0, "Mary_Ann")]


def test_srt_cues_are_numbered_with_clock_times():
    cues = render(TIMELINE, "srt").strip().split("\n\n")
    assert len(cues) == 3
    assert cues[1].splitlines() == ["2", "00:00:03,500 --> 01:02:03,250", "unknown-1"]


def test_every_format_renders_an_empty_timeline_and_bad_formats_are_refused():
    for fmt in FORMATS:
        render({"file": "x.wav", "segments": [], "speakers": []}, fmt)
    with pytest.raises(ValueError, match="format"):
        render(TIMELINE, "xml")
