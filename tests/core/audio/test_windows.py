import numpy as np
import pytest

from audionet_gui.core.audio.windows import (
    GATES,
    WindowConfig,
    clip_positions,
    cut_windows,
    fill_short,
    iter_file_windows,
    iter_windows,
    rms_db,
)
from audionet_gui.core.base.errors import EmptyFileError, InvalidSamplesError, SilentAudioError
from tests.audio_factory import SR, noise, tone, write


def spans(windows):
    return [(round(w.start_s, 3), round(w.end_s, 3)) for w in windows]


def test_defaults_suit_live_identification():
    cfg = WindowConfig()
    assert cfg.window_s == 2.0 and cfg.hop_s == 1.0


def test_regular_windows_and_a_tail_window():
    x = noise(5.5)
    ws = cut_windows(x, SR, WindowConfig())
    assert spans(ws) == [(0, 2), (1, 3), (2, 4), (3, 5), (3.5, 5.5)]
    assert all(w.samples.size == 2 * SR for w in ws)
    np.testing.assert_array_equal(ws[1].samples, x[SR:3 * SR])


def test_exact_fit_has_no_extra_tail():
    assert spans(cut_windows(noise(4.0), SR, WindowConfig())) == [(0, 2), (1, 3), (2, 4)]


def test_old_20s_chunks_are_one_setting():
    ws = cut_windows(noise(60.0), SR, WindowConfig(window_s=20, hop_s=20))
    assert spans(ws) == [(0, 20), (20, 40), (40, 60)]


def test_short_clip_tiles_or_pads():
    clip = tone(440, 0.4)
    tiled = cut_windows(clip, SR, WindowConfig(short_clip="tile"))
    assert len(tiled) == 1 and tiled[0].padded and tiled[0].samples.size == 2 * SR
    np.testing.assert_array_equal(tiled[0].samples[: clip.size], clip)
    np.testing.assert_array_equal(tiled[0].samples[clip.size: 2 * clip.size], clip)
    padded = cut_windows(clip, SR, WindowConfig(short_clip="pad"))[0].samples
    start = (2 * SR - clip.size) // 2
    np.testing.assert_array_equal(padded[start:start + clip.size], clip)
    assert not padded[:start].any() and not padded[start + clip.size:].any()
    assert tiled[0].end_s == pytest.approx(0.4)


def test_fill_short_is_exact_length():
    for n in (1, 7, 100, 3199):
        assert fill_short(np.ones(n, np.float32), 3200, "tile").size == 3200
        assert fill_short(np.ones(n, np.float32), 3200, "pad").sum() == n


def test_silent_windows_are_skipped_but_one_always_remains():
    x = np.concatenate([tone(440, 2.0), np.zeros(4 * SR, np.float32), tone(440, 2.0)])
    kept = cut_windows(x, SR, WindowConfig())
    assert spans(kept) == [(0, 2), (1, 3), (5, 7), (6, 8)]  # (2,4) (3,5) (4,6) are digital silence
    assert len(cut_windows(x, SR, WindowConfig(skip_silent=False))) == 7
    quiet = tone(440, 5.0, amp=0.001)  # -63 dBFS: under the -50 dB threshold everywhere
    only = cut_windows(quiet, SR, WindowConfig())
    assert len(only) == 1


def test_rms_db_of_a_full_scale_sine_is_minus_3():
    assert rms_db(tone(1000, 1.0, amp=1.0)) == pytest.approx(-3.01, abs=0.05)


def test_streamed_windows_equal_whole_signal_windows():
    x = noise(13.3, seed=3)
    whole = cut_windows(x, SR, WindowConfig(window_s=1.5, hop_s=0.7))
    blocks = [x[i:i + 12345] for i in range(0, x.size, 12345)]
    streamed = list(iter_windows(iter(blocks), SR, WindowConfig(window_s=1.5, hop_s=0.7)))
    assert spans(whole) == spans(streamed)
    for a, b in zip(whole, streamed):
        np.testing.assert_array_equal(a.samples, b.samples)


def test_file_windows_validate_the_file(tmp_path):
    good = write(tmp_path / "a.wav", tone(440, 3.0))
    assert spans(iter_file_windows(good, SR, WindowConfig())) == [(0, 2), (1, 3)]
    with pytest.raises(SilentAudioError):
        list(iter_file_windows(write(tmp_path / "s.wav", np.zeros(SR, np.float32)), SR))
    with pytest.raises(InvalidSamplesError):
        list(iter_file_windows(write(tmp_path / "n.wav", np.array([np.nan] * 100 + [0.5] * 100, np.float32),
                                     subtype="FLOAT"), SR))
    with pytest.raises(EmptyFileError):
        list(iter_windows(iter([]), SR, WindowConfig(), source="x.wav"))


def test_config_validation_and_round_trip():
    cfg = WindowConfig(window_s=1.0, hop_s=0.5, short_clip="pad", skip_silent=False, silence_db=-40)
    assert WindowConfig.from_dict(cfg.to_dict()) == cfg
    with pytest.raises(ValueError):
        WindowConfig(window_s=0)
    with pytest.raises(ValueError):
        WindowConfig(short_clip="stretch")


def test_a_short_clip_is_seen_as_a_stream_sees_it():
    """The "stream" rule: the clip in quiet room tone at the places live windows (every hop) would hold it, at
    least half of it inside, the centred place always; never repeated; the same windows every time."""
    sr = 1000
    clip = np.ones(400, np.float32) * 0.5
    cfg = WindowConfig(window_s=1.0, hop_s=0.5, short_clip="stream", skip_silent=False)
    windows = cut_windows(clip, sr, cfg)
    assert len(windows) >= 3
    loud = [np.abs(w.samples) > 0.1 for w in windows]
    for w, mask in zip(windows, loud):
        assert w.samples.size == 1000 and w.padded
        assert 200 <= np.count_nonzero(mask) <= 400  # never tiled: at most the clip once, at least half
        quiet = w.samples[~mask]
        assert quiet.size and np.all(quiet != 0) and -75 < rms_db(quiet) < -50  # room tone, not digital zeros
    assert any(np.flatnonzero(mask).tolist() == list(range(300, 700)) for mask in loud)  # the centred place
    starts = [int(np.flatnonzero(mask)[0]) for mask in loud]
    assert len(set(starts)) == len(starts)  # each at its own place
    again = cut_windows(clip, sr, cfg)
    assert all(np.array_equal(a.samples, b.samples) for a, b in zip(windows, again))


def test_stream_positions_follow_the_hop_and_keep_half_the_clip():
    assert clip_positions(400, 1000, 500) == [-200, 300, 800]
    assert clip_positions(400, 1000, 2000) == [-200, 300]  # a hop longer than the window: the centred place too
    for p in clip_positions(300, 1000, 250):
        inside = min(1000, p + 300) - max(0, p)
        assert inside >= 150


# --- the activity gate setting --------------------------------------------------------------------------------
def test_gate_setting_round_trips_and_refuses_unknown_values():
    assert WindowConfig().gate == "auto" and GATES == ("auto", "speech", "energy")
    cfg = WindowConfig(gate="speech", speech_threshold=0.7)
    assert WindowConfig.from_dict(cfg.to_dict()) == cfg and cfg.speech_gated
    assert not WindowConfig(gate="auto").speech_gated and not WindowConfig(gate="energy").speech_gated
    old = {k: v for k, v in WindowConfig().to_dict().items() if k not in ("gate", "speech_threshold")}
    assert WindowConfig.from_dict(old).gate == "auto"  # a project or bundle from before the gate loads
    with pytest.raises(ValueError, match="gate"):
        WindowConfig(gate="vad")
    with pytest.raises(ValueError, match="speech threshold"):
        WindowConfig(speech_threshold=1.0)


def test_the_gate_is_not_part_of_the_image_key():
    base = WindowConfig()
    assert WindowConfig(gate="speech", speech_threshold=0.3).images_dict() == base.images_dict()
    assert WindowConfig(hop_s=0.5).images_dict() != base.images_dict()
