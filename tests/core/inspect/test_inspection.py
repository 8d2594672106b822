"""core/inspection and core/overview: what the inspector shows for a file, without Qt."""

from __future__ import annotations

import csv

import numpy as np
import pytest
import soundfile as sf

from audionet_gui.core.audio.spectrogram import SpectrogramConfig, compute_spectrogram, load_png, spectrogram_image
from audionet_gui.core.audio.windows import WindowConfig
from audionet_gui.core.base.errors import AudioFileError
from audionet_gui.core.base.jobs import Cancelled, CancelToken
from audionet_gui.core.inspect.inspection import (
    compute_file_spectrogram,
    export_image_png,
    export_values_csv,
    freq_of_row,
    frequency_ticks,
    inspect_file,
    load_for_inspection,
    row_of_freq,
    value_at,
    window_at,
    window_image,
    window_starting_at,
)
from audionet_gui.core.inspect.overview import SpectrogramOverview, WaveformEnvelope

SR = 16000


def tone(freq=1000.0, seconds=3.0, amplitude=0.5, sr=SR):
    t = np.arange(int(seconds * sr)) / sr
    return (amplitude * np.sin(2 * np.pi * freq * t)).astype(np.float32)


@pytest.fixture
def tone_wav(tmp_path):
    path = tmp_path / "tone.wav"
    sf.write(path, tone(), SR, subtype="FLOAT")
    return path


@pytest.mark.parametrize("cfg", [SpectrogramConfig(), SpectrogramConfig(kind="stft", n_fft=511, hop_length=100),
                                 SpectrogramConfig(kind="chroma", n_fft=1024, hop_length=256)])
def test_chunked_spectrogram_equals_one_call(cfg):
    x = np.random.default_rng(1).standard_normal(SR * 3).astype(np.float32) * 0.1
    whole = compute_spectrogram(x, cfg)
    chunked = compute_file_spectrogram(x, cfg, chunk_frames=37)
    assert chunked.values_db.shape == whole.values_db.shape
    # the same frames and filters; only the matrix product's summation order may differ (float32 ulps)
    np.testing.assert_allclose(chunked.values_db, whole.values_db, rtol=0, atol=1e-4)
    np.testing.assert_array_equal(chunked.times_s, whole.times_s)
    np.testing.assert_array_equal(chunked.freqs_hz, whole.freqs_hz)


def test_chunked_spectrogram_can_be_cancelled():
    token = CancelToken()
    token.cancel()
    with pytest.raises(Cancelled):
        compute_file_spectrogram(np.zeros(SR * 3, np.float32), SpectrogramConfig(), cancel=token, chunk_frames=50)


def test_inspect_file_gives_samples_spectrogram_and_windows(tone_wav):
    seen = []
    insp = inspect_file(tone_wav, SpectrogramConfig(), WindowConfig(window_s=2.0, hop_s=1.0), progress=seen.append)
    assert insp.sample_rate == SR and insp.duration_s == pytest.approx(3.0)
    spec = insp.spectrogram
    assert spec.values_db.shape == (128, 3 * SR // 160 + 1)
    assert spec.times_s[-1] == pytest.approx(3.0)
    assert [(w.start_s, w.end_s) for w in insp.windows] == [(0.0, 2.0), (1.0, 3.0)]
    assert insp.envelope.peak == pytest.approx(0.5, abs=1e-3)
    assert seen and seen[0].stage == "decode"


def test_the_level_of_a_1khz_tone_is_read_at_1khz(tone_wav):
    insp = inspect_file(tone_wav, SpectrogramConfig(), WindowConfig())
    spec, frame_s = insp.spectrogram, insp.display.frame_s
    peak_bin = int(np.argmax(spec.values_db[:, 150]))
    assert abs(spec.freqs_hz[peak_bin] - 1000) < 60
    on = value_at(spec, frame_s, 1.5, 1000.0)
    off = value_at(spec, frame_s, 1.5, 4000.0)
    # a 0.5-amplitude sine is -6 dB re a full-scale sine; the mel filter peak is not exactly on 1 kHz
    assert -9.0 < on.db < -5.0
    assert off.db < on.db - 40
    assert on.time_s == 1.5 and on.frame == 150 and on.freq_hz == pytest.approx(1000.0)
    assert "1000 Hz" in on.text()
    assert value_at(spec, frame_s, 9.0, 1000.0) is None  # after the end


def test_rows_and_frequencies_round_trip():
    freqs = compute_spectrogram(np.zeros(1600, np.float32), SpectrogramConfig()).freqs_hz
    for hz in (50.0, 440.0, 1000.0, 3333.0, 7900.0):
        assert freq_of_row(freqs, row_of_freq(freqs, hz)) == pytest.approx(hz, rel=1e-6)
    assert freq_of_row(freqs, 0.5) == pytest.approx(float(freqs[0]))


def test_frequency_ticks_are_round_spaced_and_inside_the_view():
    cfg = SpectrogramConfig()
    freqs = compute_spectrogram(np.zeros(1600, np.float32), cfg).freqs_hz
    ticks = frequency_ticks(freqs, "mel", 0, 128, max_ticks=8)
    labels = [label for _, label in ticks]
    assert "1k" in labels and "5k" in labels
    rows = [y for y, _ in ticks]
    assert rows == sorted(rows) and all(0 <= y <= 128 for y in rows)
    assert min(np.diff(rows)) >= 128 / 8 - 1e-9
    assert 2 <= len(ticks) <= 9
    chroma = frequency_ticks(np.arange(12, dtype=np.float32), "chroma", 0, 12, max_ticks=12)
    assert [label for _, label in chroma][:3] == ["C", "C#", "D"]


def test_window_selection_by_time_and_by_start(tone_wav):
    insp = inspect_file(tone_wav, SpectrogramConfig(), WindowConfig(window_s=2.0, hop_s=1.0))
    assert window_at(insp.windows, 0.3) == 0
    assert window_at(insp.windows, 2.6) == 1
    assert window_at(insp.windows, 1.5) in (0, 1)
    assert window_starting_at(insp.windows, 1.02) == 1
    assert window_at([], 1.0) is None


def test_window_image_is_the_cnn_image(tone_wav):
    cfg = SpectrogramConfig(image_width=64, image_height=48, colormap="magma")
    insp = inspect_file(tone_wav, cfg, WindowConfig())
    for window in insp.windows:
        image = window_image(window, cfg)
        assert image.shape == (48, 64, 3) and image.dtype == np.uint8
        np.testing.assert_array_equal(image, spectrogram_image(window.samples, cfg))


def test_short_clip_is_filled_by_the_rule_the_model_uses(tmp_path):
    path = tmp_path / "short.wav"
    sf.write(path, tone(seconds=0.5), SR)
    insp = inspect_file(path, SpectrogramConfig(), WindowConfig(window_s=2.0, short_clip="pad"))
    assert len(insp.windows) == 1 and insp.windows[0].padded
    assert insp.windows[0].samples.size == 2 * SR
    streamed = inspect_file(path, SpectrogramConfig(), WindowConfig(window_s=2.0, hop_s=1.0))  # the default rule
    assert len(streamed.windows) > 1 and all(w.padded and w.samples.size == 2 * SR for w in streamed.windows)


def test_export_values_csv(tmp_path, tone_wav):
    insp = inspect_file(tone_wav, SpectrogramConfig(n_mels=32), WindowConfig())
    spec, frame_s = insp.spectrogram, insp.display.frame_s
    out = tmp_path / "values.csv"
    rows = export_values_csv(spec, out, frame_s)
    with open(out, newline="") as fh:
        table = list(csv.reader(fh))
    assert table[0] == ["time_s", "freq_hz", "db"]
    assert rows == len(table) - 1 == spec.values_db.size
    frame, row = 120, 7
    t, f, db = table[1 + frame * 32 + row]
    assert float(t) == pytest.approx(spec.times_s[frame], abs=1e-4)
    assert float(f) == pytest.approx(spec.freqs_hz[row], abs=0.01)
    assert float(db) == pytest.approx(spec.values_db[row, frame], abs=0.006)
    # a time range keeps only those frames
    part = tmp_path / "part.csv"
    n = export_values_csv(spec, part, frame_s, t0=1.0, t1=1.1)
    times = sorted({float(r[0]) for r in list(csv.reader(open(part)))[1:]})
    assert n == 11 * 32 and times[0] == pytest.approx(1.0) and times[-1] == pytest.approx(1.1)


def test_cancelled_csv_export_leaves_the_old_file(tmp_path, tone_wav):
    insp = inspect_file(tone_wav, SpectrogramConfig(), WindowConfig())
    out = tmp_path / "values.csv"
    out.write_text("old\n")
    token = CancelToken()
    token.cancel()
    with pytest.raises(Cancelled):
        export_values_csv(insp.spectrogram, out, insp.display.frame_s, cancel=token)
    assert out.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_export_png_is_pixel_exact(tmp_path):
    image = np.random.default_rng(0).integers(0, 256, (40, 50, 3), dtype=np.uint8)
    export_image_png(image, tmp_path / "x.png")
    np.testing.assert_array_equal(load_png(tmp_path / "x.png"), image)


def test_load_errors_name_the_file_and_silence_is_shown(tmp_path):
    bad = tmp_path / "notes.wav"
    bad.write_text("not audio at all")
    with pytest.raises(AudioFileError) as err:
        load_for_inspection(bad, SR)
    assert "notes.wav" in str(err.value)
    silent = tmp_path / "silent.wav"
    sf.write(silent, np.zeros(SR, np.float32), SR)
    assert load_for_inspection(silent, SR).size == SR


# -- overviews ----------------------------------------------------------------------------------------------
def test_envelope_keeps_extremes_and_stays_screen_sized():
    x = np.zeros(SR * 60, np.float32)
    x[SR * 37 + 5] = 0.9     # one click in a minute of silence
    x[SR * 12 + 3] = -0.7
    env = WaveformEnvelope(x, SR)
    for t0, t1 in ((0, 60), (30, 45), (36.9, 37.1)):
        view = env.view(t0, t1, max_points=800)
        assert view.x.size <= 2 * 800 + 16
        inside = (t0 <= 37.0003) and (37.0003 <= t1)
        assert (view.y.max() == pytest.approx(0.9)) == inside
    whole = env.view(0, 60, 500)
    assert whole.y.min() == pytest.approx(-0.7)
    tiny = env.view(1.0, 1.01, max_points=800)   # few samples: drawn as they are
    assert tiny.x.size == 160
    assert env.peak == pytest.approx(0.9)


def test_spectrogram_tile_pools_by_max_and_keeps_time_alignment():
    frame_s = 0.01
    values = np.full((8, 100_000), -80.0, np.float32)
    values[3, 54_321] = 0.0           # one loud cell in 1000 s
    overview = SpectrogramOverview(values, frame_s)
    whole = overview.tile(0, 1000, max_columns=1000)
    assert whole.values_db.shape[1] <= 1100
    assert whole.values_db.max() == 0.0
    col = int(np.argmax(whole.values_db[3]))
    width = (whole.t1 - whole.t0) / whole.values_db.shape[1]
    assert whole.t0 + col * width <= 543.21 <= whole.t0 + (col + 1) * width
    zoom = overview.tile(543.0, 543.5, max_columns=1000)
    assert zoom.values_db.shape[1] == pytest.approx(51, abs=2)   # full resolution: 50 frames
    assert zoom.t0 <= 543.0 and zoom.t1 >= 543.5
    col = int(np.argmax(zoom.values_db[3]))
    assert zoom.t0 + col * frame_s == pytest.approx(543.21 - frame_s / 2, abs=1e-6)
