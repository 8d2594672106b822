"""``audionet evaluate --robustness``: the robustness report beside every existing evaluate key."""

import contextlib
import io
import json

import pytest

from audionet_gui.cli.entry import main
from audionet_gui.core.audio.windows import WindowConfig
from tests.tiny_models import pitch_classifier, small_spec, write_bundle
from tests.tone_dataset import PITCHES, make_tone_dataset

CONDITIONS = {"clean", "noise_20db", "noise_10db", "noise_5db", "noise_0db", "reverb", "cheap_mic", "live_replay"}


def run_cli(*argv):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main([str(a) for a in argv])
    return status, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def model_and_data(tmp_path_factory):
    root = tmp_path_factory.mktemp("evaluate")
    spec = small_spec()
    model = write_bundle(root / "pitch", model=pitch_classifier(PITCHES, spec), labels=list(PITCHES), spec=spec,
                         window=WindowConfig(window_s=1.0, hop_s=0.5), threshold=0.5)
    data = make_tone_dataset(root / "tones", files_per_class=3, seconds=1.5)
    return model, data


def test_evaluate_robustness_json_keeps_every_key_and_adds_the_report(model_and_data):
    model, data = model_and_data
    status, out, _ = run_cli("evaluate", model, data, "--json")
    assert status == 0
    plain = json.loads(out)
    assert "robustness" not in plain  # only on request: it costs 8 passes over the recordings
    status, out, _ = run_cli("evaluate", model, data, "--json", "--robustness")
    assert status == 0
    m = json.loads(out)
    assert set(plain) <= set(m) and m["accuracy"] == plain["accuracy"]
    report = m["robustness"]
    assert set(report["conditions"]) == CONDITIONS
    assert all(c["recordings"] == 9 for c in report["conditions"].values())
    # the pitch model hears tones perfectly when clean; a 300-3400 Hz microphone cannot pass every pitch
    assert report["conditions"]["clean"]["accuracy"] == 1.0
    assert report["weakest"] in CONDITIONS - {"clean"} and report["advice"]


def test_evaluate_robustness_text_prints_a_table_and_the_weakest_condition(model_and_data):
    model, data = model_and_data
    status, out, _ = run_cli("evaluate", model, data, "--robustness", "--quiet")
    assert status == 0
    lines = out.splitlines()
    assert any(line.startswith("robustness (9 recordings)") for line in lines)
    for name in CONDITIONS:
        assert any(line.split()[:1] == [name] and line.rstrip().endswith("%") for line in lines), name
    weakest = next(line for line in lines if line.startswith("weakest: "))
    assert len(weakest) > 40  # the advice in words follows the condition's name
