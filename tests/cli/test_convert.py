import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from audionet_gui.cli.entry import main
from tests.audio_factory import make_class_tree, tone, voice, write

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def data(tmp_path):
    return make_class_tree(tmp_path / "data", {"a": [voice(150, 2.5, seed=i) for i in range(3)],
                                               "b": [voice(260, 2.5, seed=i) for i in range(3)]})


def test_convert_json_summary_has_the_contract_keys(data, tmp_path, capsys):
    (data / "a" / "bad.mp3").write_bytes(b"ID3 not really")
    status = main(["convert", str(data), "--out", str(tmp_path / "ws"), "--json", "--image-size", "64x64",
                   "--window", "1.0", "--hop", "0.5", "--workers", "1"])
    assert status == 0
    out = json.loads(capsys.readouterr().out)
    for key in ("files", "windows", "seconds_of_audio", "wall_seconds", "failed"):
        assert key in out
    assert out["files"] == 6 and out["windows"] == 6 * 4
    assert [Path(f["path"]).name for f in out["failed"]] == ["bad.mp3"] and out["failed"][0]["reason"]
    assert (tmp_path / "ws" / "manifest.csv").exists()


def test_convert_fails_only_when_nothing_converts(tmp_path, capsys):
    (tmp_path / "d" / "a").mkdir(parents=True)
    (tmp_path / "d" / "a" / "x.wav").write_text("nope")
    assert main(["convert", str(tmp_path / "d"), "--out", str(tmp_path / "ws"), "--json"]) == 1
    assert main(["convert", str(tmp_path / "missing"), "--out", str(tmp_path / "ws")]) == 2
    assert "not a folder" in capsys.readouterr().err


def test_bad_arguments_exit_non_zero(data, tmp_path):
    with pytest.raises(SystemExit) as info:
        main(["convert", str(data), "--out", str(tmp_path / "ws"), "--kind", "cqt"])
    assert info.value.code == 2
    assert main(["convert", str(data), "--out", str(tmp_path / "ws"), "--window", "0"]) == 2


def test_inspect_writes_the_png(data, tmp_path, capsys):
    src = data / "a" / "a_00.wav"
    assert main(["inspect", str(src), "--png", str(tmp_path / "s.png"), "--image-size", "200x100",
                 "--colormap", "magma"]) == 0
    with Image.open(tmp_path / "s.png") as img:
        assert img.size == (200, 100) and img.mode == "RGB"
    capsys.readouterr()
    assert main(["inspect", str(src), "--png", str(tmp_path / "w.png"), "--window-index", "1", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    # a 2.5 s clip: windows 0-2 and the tail 0.5-2.5
    assert (out["start_s"], out["end_s"], out["width"]) == (0.5, 2.5, 299)
    assert (tmp_path / "w.png").exists()
    assert main(["inspect", str(src), "--png", str(tmp_path / "x.png"), "--window-index", "9"]) == 2
    bad = tmp_path / "bad.wav"
    bad.write_text("x")
    assert main(["inspect", str(bad), "--png", str(tmp_path / "y.png")]) == 1
    assert str(bad) in capsys.readouterr().err


def test_console_script_runs_end_to_end(data, tmp_path):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    proc = subprocess.run([sys.executable, "-m", "audionet_gui.cli", "convert", str(data),
                           "--out", str(tmp_path / "ws"), "--json", "--image-size", "48x48"],
                          capture_output=True, text=True, env=env, cwd=ROOT, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["files"] == 6


def test_convert_with_augmentation_and_a_noise_folder(data, tmp_path, capsys):
    write(tmp_path / "noise" / "rain.wav", tone(3000, 3.0, amp=0.2))
    assert main(["convert", str(data), "--out", str(tmp_path / "ws"), "--json", "--image-size", "48x48",
                 "--augment", "2", "--noise-dir", str(tmp_path / "noise"), "--workers", "1"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["augmented_windows"] == 2 * out["splits"].get("train", 0) > 0
    assert main(["convert", str(data), "--out", str(tmp_path / "ws"), "--augment", "1",
                 "--noise-dir", str(tmp_path / "nowhere")]) == 2
