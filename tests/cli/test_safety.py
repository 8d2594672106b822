"""The commands refuse to destroy and do not stall: ``export`` onto the model or a folder, ``train --out .``,
``listen`` after its device is gone for good, special and hidden files in ``convert``, and names with newlines or
escape codes in text output."""

from __future__ import annotations

import os
import threading
import time

import pytest

from audionet_gui.cli.entry import main
from audionet_gui.core.model.bundle import MODEL_FILE
from tests.audio_factory import make_class_tree, tone, write
from tests.tiny_models import write_bundle


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    return write_bundle(tmp_path_factory.mktemp("m") / "model", labels=("a", "b"))


def test_export_onto_the_models_own_file_is_refused_and_the_model_kept(model, capsys):
    before = (model / MODEL_FILE).read_bytes()
    assert main(["export", str(model), "--tflite", str(model / MODEL_FILE)]) == 1
    captured = capsys.readouterr()
    assert "file of the model folder" in captured.err and "wrote" not in captured.out
    assert (model / MODEL_FILE).read_bytes() == before


def test_export_onto_a_folder_or_a_users_file_is_a_message_not_a_traceback(model, tmp_path, capsys):
    assert main(["export", str(model), "--tflite", str(tmp_path)]) == 1
    assert "is a folder" in capsys.readouterr().err
    notes = tmp_path / "notes.txt"
    notes.write_text("mine")
    assert main(["export", str(model), "--tflite", str(notes)]) == 1
    assert "not a file this writes" in capsys.readouterr().err and notes.read_text() == "mine"


def test_train_out_dot_is_refused_before_any_work(tmp_path, monkeypatch, capsys):
    data = make_class_tree(tmp_path / "data", {"lo": [tone(300, 1.0)] * 3, "hi": [tone(900, 1.0)] * 3})
    here = tmp_path / "empty"
    here.mkdir()
    monkeypatch.chdir(here)
    started = time.monotonic()
    status = main(["train", str(data), "--out", ".", "--backbone", "small_cnn", "--weights", "none", "--epochs",
                   "1", "--workspace", str(tmp_path / "ws"), "--quiet", "--no-robustness"])
    assert status == 1 and "current folder" in capsys.readouterr().err
    assert not (tmp_path / "ws").exists(), "it converted before checking the target"
    assert time.monotonic() - started < 10 and list(here.iterdir()) == []


def test_listen_exits_non_zero_when_its_device_is_gone_for_good(fake_sd, model, capsys):
    def unplug():
        deadline = time.monotonic() + 30
        # started, not only made: start() after this thread's unplug would plug it back in
        while not (fake_sd.streams and fake_sd.streams[0].active) and time.monotonic() < deadline:
            time.sleep(0.02)
        fake_sd.fail_open = True  # it does not come back
        fake_sd.streams[0].active = False

    threading.Thread(target=unplug, daemon=True).start()
    assert main(["listen", str(model), "--seconds", "3", "--json"]) == 1
    err = capsys.readouterr().err
    assert "was lost" in err and "did not come back" in err


def test_convert_reports_pipes_and_hidden_files_and_goes_on(tmp_path, capsys):
    data = make_class_tree(tmp_path / "data", {"lo": [tone(300, 1.0)] * 2, "hi": [tone(900, 1.0)] * 2})
    os.mkfifo(data / "lo" / "a.wav")
    write(data / "...lucas" / "x.wav", tone(500, 1.0))
    try:
        assert main(["convert", str(data), "--out", str(tmp_path / "ws"), "--workers", "1"]) == 0
    finally:
        try:
            os.close(os.open(data / "lo" / "a.wav", os.O_WRONLY | os.O_NONBLOCK))
        except OSError:
            pass
    err = capsys.readouterr().err
    assert "a.wav: is a named pipe (FIFO), not a regular file" in err
    assert "...lucas: hidden" in err


def test_names_with_newlines_and_escape_codes_cannot_forge_lines(model, tmp_path, capsys):
    evil = write(tmp_path / "x\nmodel: forged\x1b[2J.wav", tone(300, 1.0))
    missing = tmp_path / "gone\nOK.wav"
    assert main(["predict", str(model), str(evil), str(missing)]) == 0
    captured = capsys.readouterr()
    assert "\x1b" not in captured.out + captured.err
    assert not any(line.startswith(("model: forged", "OK.wav")) for line in (captured.out + captured.err).splitlines())
    assert "x\\nmodel: forged\\x1b[2J.wav" in captured.out and "gone\\nOK.wav" in captured.err
