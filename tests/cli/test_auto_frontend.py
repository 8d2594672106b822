"""`audionet train` resolves the "auto" front end once and stores it in the model: PCEN for a speech project, plain
dB for a project of steady sounds (PCEN would fade them: a tone model fell from over 80 % to 25 % with it)."""

import contextlib
import io

import pytest
import soundfile as sf

from audionet_gui.cli.entry import main
from audionet_gui.core.model.bundle import load_bundle
from tests.audio_factory import SR, speech_like
from tests.tone_dataset import make_tone_dataset

FLAGS = ["--backbone", "small_cnn", "--weights", "none", "--image-size", "32x32", "--epochs", "2", "--window", "1",
         "--hop", "0.5", "--n-mels", "32", "--augment", "0", "--no-robustness",
         "--no-feature-map", "--quiet"]


def _train(data, out, monkeypatch, *extra):
    monkeypatch.setenv("AUDIONET_CACHE_DIR", str(out.parent / "cache"))  # never the user's cache
    err = io.StringIO()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
        status = main([str(a) for a in ("train", data, "--out", out, *FLAGS, *extra)])
    assert status == 0, err.getvalue()
    bundle = load_bundle(out, load_model=False)
    assert "feature_map_s" not in bundle.metrics.get("timings", {})  # --no-feature-map: no map was made
    return bundle.spectrogram_config.frontend, bundle.window_config.gate


@pytest.mark.slow
def test_tones_train_plain_and_speech_trains_pcen(tmp_path, monkeypatch):
    tones = make_tone_dataset(tmp_path / "tones", files_per_class=4, seconds=1.5)
    assert _train(tones, tmp_path / "tone-model", monkeypatch) == ("none", "energy")
    for name, f0 in (("ann", 110.0), ("bob", 200.0)):
        for k in range(4):
            (tmp_path / "voices" / name).mkdir(parents=True, exist_ok=True)
            sf.write(tmp_path / "voices" / name / f"{k}.wav", speech_like(1.5, seed=k, f0=f0), SR)
    assert _train(tmp_path / "voices", tmp_path / "voice-model", monkeypatch) == ("pcen", "speech")
    # an explicit choice is kept as it is
    assert _train(tmp_path / "voices", tmp_path / "plain", monkeypatch, "--frontend", "none")[0] == "none"
