import os

import numpy as np
import pytest
import soundfile as sf

from audionet_gui.core.audio import files as audio
from audionet_gui.core.audio.files import audio_info, is_audio_file, iter_audio_blocks, load_audio, write_wav
from audionet_gui.core.base.errors import (
    EmptyFileError,
    InvalidSamplesError,
    NotAudioError,
    SilentAudioError,
    TruncatedAudioError,
    UnreadableFileError,
)
from tests.audio_factory import SR, bad_corpus, ffmpeg_encode, tone, write


def dominant_hz(x: np.ndarray, sr: int) -> float:
    spec = np.abs(np.fft.rfft(x * np.hanning(x.size)))
    return float(np.fft.rfftfreq(x.size, 1 / sr)[np.argmax(spec)])


@pytest.mark.parametrize("subtype", ["PCM_U8", "PCM_16", "PCM_24", "PCM_32", "FLOAT", "DOUBLE"])
def test_wav_of_every_sample_type_decodes_to_float32_at_the_asked_rate(tmp_path, subtype):
    path = write(tmp_path / f"a_{subtype}.wav", tone(1000, 1.0, sr=44100), sr=44100, subtype=subtype)
    x = load_audio(path, 16000)
    assert x.dtype == np.float32
    assert abs(x.size - 16000) <= 2
    assert abs(dominant_hz(x, 16000) - 1000) < 5
    assert 0.4 < np.max(np.abs(x)) < 0.6


@pytest.mark.parametrize("ext,extra", [("flac", None), ("ogg", None), ("mp3", None), ("m4a", ["-c:a", "aac"])])
def test_compressed_formats_decode(tmp_path, ext, extra):
    src = write(tmp_path / "src.wav", tone(660, 2.0, sr=22050), sr=22050)
    if ext in ("flac", "ogg"):
        path = write(tmp_path / f"a.{ext}", tone(660, 2.0, sr=22050), sr=22050)
    else:
        path = ffmpeg_encode(src, tmp_path / f"a.{ext}", extra)
    x = load_audio(path, 16000)
    assert x.dtype == np.float32
    assert 1.9 * 16000 < x.size < 2.2 * 16000  # encoders add a little padding
    assert abs(dominant_hz(x, 16000) - 660) < 8


def test_stereo_is_downmixed_to_mono(tmp_path):
    left, right = tone(500, 1.0), tone(1500, 1.0)
    path = tmp_path / "stereo.wav"
    sf.write(str(path), np.stack([left, right], axis=1), SR)
    x = load_audio(path, SR)
    assert x.ndim == 1
    np.testing.assert_allclose(x, (left + right) / 2, atol=1e-4)


def test_resampling_is_seamless_across_blocks(tmp_path):
    # a long tone read in small blocks must have no clicks at block boundaries
    path = write(tmp_path / "long.wav", tone(440, 6.0, sr=44100), sr=44100)
    blocks = list(iter_audio_blocks(path, SR, block_s=0.5))
    assert len(blocks) > 5
    x = np.concatenate(blocks)
    ref = tone(440, x.size / SR)[: x.size]
    # compare away from the resampler's edges; the phase is the same
    err = np.abs(x[2000:-2000] - ref[2000:-2000])
    assert err.max() < 0.01


def test_bad_inputs_get_typed_errors_naming_the_file(tmp_path):
    files = bad_corpus(tmp_path)
    expected = {"empty": EmptyFileError, "not_audio": NotAudioError, "nan": InvalidSamplesError,
                "silent": SilentAudioError, "truncated_mp3": TruncatedAudioError}
    for kind, error in expected.items():
        with pytest.raises(error) as info:
            load_audio(files[kind])
        assert str(files[kind]) in str(info.value)
        assert info.value.reason


def test_half_an_mp3_is_reported_truncated(tmp_path):
    src = write(tmp_path / "src.wav", tone(440, 4.0))
    data = ffmpeg_encode(src, tmp_path / "full.mp3").read_bytes()
    half = tmp_path / "half.mp3"
    half.write_bytes(data[: len(data) // 2 + 17])
    with pytest.raises(TruncatedAudioError):
        load_audio(half)


def test_unreadable_and_missing_files(tmp_path, monkeypatch):
    with pytest.raises(UnreadableFileError, match="does not exist"):
        load_audio(tmp_path / "nope.wav")
    path = write(tmp_path / "locked.wav", tone(440, 1.0))
    if os.geteuid() != 0:
        os.chmod(path, 0)
    else:  # root reads anything: pretend the permission check fails
        monkeypatch.setattr(audio.os, "access", lambda p, mode: False)
    with pytest.raises(UnreadableFileError, match="permission"):
        load_audio(path)


def test_folder_is_not_audio(tmp_path):
    with pytest.raises(NotAudioError):
        load_audio(tmp_path)


def test_silence_can_be_allowed(tmp_path):
    path = write(tmp_path / "silent.wav", np.zeros(SR, np.float32))
    assert load_audio(path, allow_silent=True).size == SR


def test_max_seconds_stops_early(tmp_path):
    path = write(tmp_path / "a.wav", tone(440, 5.0))
    assert load_audio(path, max_seconds=1.5).size == int(1.5 * SR)


def test_audio_info_reads_headers(tmp_path):
    info = audio_info(write(tmp_path / "a.wav", tone(440, 2.5, sr=8000), sr=8000))
    assert info.sample_rate == 8000 and info.channels == 1 and abs(info.duration_s - 2.5) < 1e-6
    mp3 = ffmpeg_encode(tmp_path / "a.wav", tmp_path / "a.mp3")
    assert abs(audio_info(mp3).duration_s - 2.5) < 0.2


def test_long_file_streams_without_loading_it_whole(tmp_path, monkeypatch):
    path = write(tmp_path / "long.wav", tone(220, 120.0, sr=8000), sr=8000)
    sizes = [b.size for b in iter_audio_blocks(path, SR, block_s=10.0)]
    assert sum(sizes) == pytest.approx(120 * SR, abs=10)
    assert max(sizes) <= 11 * SR  # bounded blocks, not the whole file


def test_is_audio_file():
    assert is_audio_file("a/b/c.WAV") and is_audio_file("x.mp3") and is_audio_file("y.m4a")
    assert not is_audio_file("notes.txt") and not is_audio_file(".hidden.wav")


def test_write_wav_is_atomic_and_round_trips(tmp_path):
    path = tmp_path / "out" / "rec.wav"
    write_wav(path, tone(440, 1.0), SR)
    assert np.allclose(load_audio(path, SR), tone(440, 1.0), atol=1e-3)
    assert [p.name for p in path.parent.iterdir()] == ["rec.wav"]  # no temp files left


def test_user_files_are_never_modified(tmp_path):
    path = write(tmp_path / "a.wav", tone(440, 1.0))
    before = (path.read_bytes(), path.stat().st_mtime_ns)
    load_audio(path)
    audio_info(path)
    assert (path.read_bytes(), path.stat().st_mtime_ns) == before
