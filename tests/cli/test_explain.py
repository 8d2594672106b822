"""``audionet explain``: JSON with the contract's keys, a PNG on request, a clear error for a bad window."""

import contextlib
import io
import json

import numpy as np

from audionet_gui.cli.entry import main
from audionet_gui.core.audio.windows import WindowConfig
from tests.audio_factory import noise, tone, write
from tests.tiny_models import pitch_classifier, small_spec, write_bundle


def run_cli(*argv):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main([str(a) for a in argv])
    return status, out.getvalue(), err.getvalue()


def test_explain_json_png_and_errors(tmp_path):
    spec = small_spec(64, 48)
    model = write_bundle(tmp_path / "m", model=pitch_classifier({"low": 300.0, "high": 2000.0}, spec),
                         labels=["low", "high"], spec=spec, window=WindowConfig(window_s=1.0, hop_s=1.0))
    audio = write(tmp_path / "a.wav", np.concatenate([tone(300, 1.0, amp=0.4), tone(2000, 1.0, amp=0.4)])
                  + noise(2.0, amp=0.002))
    status, out, _ = run_cli("explain", model, audio, "--window-index", 1, "--json", "--png", tmp_path / "x.png")
    assert status == 0
    data = json.loads(out)
    assert data["label"] == "high" and data["p"] > 0.9 and (data["start"], data["end"]) == (1.0, 2.0)
    sal = data["saliency"]
    assert len(sal["values"]) == len(sal["freqs_hz"]) and len(sal["values"][0]) == len(sal["times_s"])
    assert (tmp_path / "x.png").stat().st_size > 0
    status, out, _ = run_cli("explain", model, audio)
    assert status == 0 and "Hz" in out
    status, _, err = run_cli("explain", model, audio, "--window-index", 9)
    assert status == 1 and "out of range" in err
