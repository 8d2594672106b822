"""``audionet featmap``: JSON with a point per window and a short summary, a clear error for a model without its
training windows."""

import contextlib
import io
import json

from audionet_gui.cli.entry import main
from tests.tiny_models import voice_bundle_with_workspace


def run_cli(*argv):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main([str(a) for a in argv])
    return status, out.getvalue(), err.getvalue()


def test_featmap_json_summary_and_errors(tmp_path, monkeypatch):
    monkeypatch.setenv("AUDIONET_CACHE_DIR", str(tmp_path / "cache"))
    model = voice_bundle_with_workspace(tmp_path, {"anna": 300.0, "ben": 800.0}, ["anna", "ben"])
    status, out, _ = run_cli("featmap", model, "--json")
    assert status == 0
    data = json.loads(out)
    assert data["labels"] == ["anna", "ben"] and len(data["points"]) == 4 * 3 * 2  # files x windows x classes
    assert {"file", "start", "end", "class", "misclassified", "x", "y"} <= set(data["points"][0])
    status, out, _ = run_cli("featmap", model)
    assert status == 0 and "24 windows of 8 files mapped" in out and "from the cache" in out
    status, _, err = run_cli("featmap", tmp_path / "nothing")
    assert status == 1 and "nothing" in err
