"""``audionet listen`` and ``audionet devices``: with a fake sound system for the error paths, and through the
virtual microphone with a hand-built pitch model and with a small_cnn trained here on two tone classes."""

from __future__ import annotations

import json
import threading
import time

import numpy as np
import pytest
import soundfile as sf

from audionet_gui.cli.entry import main
from audionet_gui.core.audio.spectrogram import SpectrogramConfig
from audionet_gui.core.audio.windows import WindowConfig
from audionet_gui.core.model.training import TrainConfig
from audionet_gui.core.pipeline import train_from_folders
from audionet_gui.core.settings import ImageSettings
from tests.core.live.fakes import play, tone, virtual_mic_or_skip
from tests.tiny_models import pitch_classifier, small_spec, write_bundle
from tests.tone_dataset import make_tone_dataset, tone_clip

PITCHES = {"high": 2000.0, "low": 300.0}
WINDOW = WindowConfig(window_s=1.0, hop_s=0.5)


@pytest.fixture(scope="module")
def pitch_bundle(tmp_path_factory):
    spec = small_spec()
    return write_bundle(tmp_path_factory.mktemp("m") / "pitch", model=pitch_classifier(PITCHES, spec),
                        labels=list(PITCHES), spec=spec, window=WINDOW, threshold=0.6)


# --- without a sound card ---------------------------------------------------------------------------------------
def test_devices_json_lists_inputs(fake_sd, capsys):
    assert main(["devices", "--json"]) == 0
    devices = json.loads(capsys.readouterr().out)
    assert [(d["id"], d["name"], d["hostapi"], d["is_default"]) for d in devices] == [
        (1, "Built-in Mic", "ALSA", True), (2, "USB Headset", "JACK Audio Connection Kit", False)]


def test_devices_text_marks_the_default(fake_sd, capsys):
    assert main(["devices"]) == 0
    out = capsys.readouterr().out
    assert "*   1  Built-in Mic  (ALSA, 1 ch, 48000 Hz)" in out


def test_no_input_device_at_all_exits_non_zero_with_a_clear_message(fake_sd, pitch_bundle, capsys):
    fake_sd.devices = []
    assert main(["listen", str(pitch_bundle), "--seconds", "1", "--json"]) == 1
    captured = capsys.readouterr()
    assert captured.out == "" and "no audio input device" in captured.err
    assert main(["devices", "--json"]) == 1
    captured = capsys.readouterr()
    assert json.loads(captured.out) == [] and "no audio input device" in captured.err


def test_a_missing_model_folder_is_a_clear_error(fake_sd, tmp_path, capsys):
    assert main(["listen", str(tmp_path / "nope"), "--seconds", "1"]) == 1
    assert "nope" in capsys.readouterr().err


# --- through the virtual microphone ------------------------------------------------------------------------------
def _listen_while_playing(argv, clip_path, capsys, timeout=60.0):
    """Run ``audionet listen`` in this process and start playing ``clip_path`` into the virtual microphone as
    soon as its first decision (a full window of silence) is out."""
    result = {}
    runner = threading.Thread(target=lambda: result.setdefault("status", main(argv)), daemon=True)
    runner.start()
    out, err, player = "", "", None
    deadline = time.monotonic() + timeout
    while runner.is_alive() and time.monotonic() < deadline:
        captured = capsys.readouterr()
        out, err = out + captured.out, err + captured.err
        if player is None and out.strip():
            player = play(clip_path)
        time.sleep(0.02)
    runner.join(timeout=10)
    if player is not None:
        player.wait(timeout=20)
    captured = capsys.readouterr()
    out, err = out + captured.out, err + captured.err
    assert player is not None, f"no decision came out: {err}"
    return result.get("status"), [json.loads(line) for line in out.splitlines()], err


@pytest.mark.live
def test_listen_json_identifies_tones_and_falls_back_from_a_missing_device(pitch_bundle, tmp_path, capsys):
    virtual_mic_or_skip()
    clip = np.concatenate([tone(PITCHES["low"], 2.0), tone(PITCHES["high"], 2.0)])
    sf.write(tmp_path / "tones.wav", clip, 16000)
    started = time.monotonic()
    status, lines, err = _listen_while_playing(
        # 10 s: room for the player's start-up delay before the 4 s of tones (seen above 1 s on a busy machine)
        ["listen", str(pitch_bundle), "--device", "No Such Mic", "--seconds", "10", "--json"],
        tmp_path / "tones.wav", capsys)
    assert status == 0
    assert "'No Such Mic' not found" in err
    assert time.monotonic() - started < 25
    assert len(lines) >= 8  # a decision every 0.5 s once the first 1 s window was heard
    assert all({"t", "label", "p", "latency_ms"} <= set(d) for d in lines)
    ts = [d["t"] for d in lines]
    assert ts == sorted(ts) and max(ts) <= 10.5
    labels = [d["label"] for d in lines]
    assert labels[0] == "silence"
    assert labels.count("low") >= 2 and labels.count("high") >= 2
    assert labels.index("low") < labels.index("high")
    assert all(d["label"] == "silence" for d in lines if d["level_db"] < -50)


@pytest.mark.slow
@pytest.mark.live
def test_listen_with_a_small_cnn_trained_on_two_tones(tmp_path, capsys):
    virtual_mic_or_skip()

    data = make_tone_dataset(tmp_path / "tones", PITCHES, files_per_class=8, seconds=2.0)
    cfg = TrainConfig(backbone="small_cnn", weights="none", image_size=(64, 64), epochs=12, seed=1)
    report = train_from_folders(data, tmp_path / "model", ImageSettings(WINDOW, SpectrogramConfig(n_mels=64)), cfg,
                                workspace=tmp_path / "ws", feature_cache=tmp_path / "fc",
                                augment=None, robustness=False, feature_map=False)  # listening is what this tests
    # new recordings of each class, made like the training ones (a tone with a little jitter and noise)
    rng = np.random.default_rng(99)
    clip = np.concatenate([tone_clip(PITCHES["high"], 2.5, rng), np.zeros(16000, np.float32),
                           tone_clip(PITCHES["low"], 2.5, rng)])
    sf.write(tmp_path / "say.wav", clip, 16000)
    status, lines, err = _listen_while_playing(
        ["listen", str(report.bundle_path), "--seconds", "8", "--json", "--threshold", "0.5"],
        tmp_path / "say.wav", capsys)
    assert status == 0, err
    labels = [d["label"] for d in lines]
    named = [lb for lb in labels if lb not in ("silence", "unknown")]
    assert named.count("high") >= 2 and named.count("low") >= 2, labels
    assert named.index("high") < named.index("low")
    assert labels[0] == "silence"
