"""``audionet doctor``: JSON findings with the contract's keys; the text report names each problem and its fix."""

import contextlib
import io
import json

from audionet_gui.cli.entry import main
from tests.audio_factory import speech_like, write


def run_cli(*argv):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main([str(a) for a in argv])
    return status, out.getvalue(), err.getvalue()


def make_data(root):
    for c, name in enumerate(("anna", "ben")):
        for i in range(3):
            write(root / name / f"{name}_{i}.wav", speech_like(1.2, seed=10 * c + i, f0=120 + 60 * c))
    write(root / "ben" / "quiet.wav", 1e-5 * speech_like(1.2, seed=99))
    (root / "anna" / "broken.wav").write_bytes(b"RIFF....WAVEfmt nonsense")
    return root


def test_json_lists_findings_with_the_contract_keys(tmp_path):
    status, out, _ = run_cli("doctor", make_data(tmp_path / "data"), "--json")
    assert status == 0
    data = json.loads(out)
    assert set(data) == {"findings"}
    assert sorted(f["kind"] for f in data["findings"]) == ["silence", "unreadable"]
    for f in data["findings"]:
        assert set(f) == {"kind", "paths", "class", "message", "fix"}
    unreadable = next(f for f in data["findings"] if f["kind"] == "unreadable")
    assert unreadable["class"] == "anna" and unreadable["paths"][0].endswith("broken.wav")


def test_text_report_and_a_missing_folder(tmp_path):
    status, out, _ = run_cli("doctor", make_data(tmp_path / "data"))
    assert status == 0
    assert "examined 8 files" in out and "quiet.wav" in out and "fix:" in out
    status, _, err = run_cli("doctor", tmp_path / "nowhere")
    assert status == 2 and "nowhere" in err
