"""Who spoke when from window answers (answers.speaker_turns): smoothing, no-speech gaps, unknown voices."""

import numpy as np
import pytest

from audionet_gui.core.answers import (
    UNKNOWN,
    Segment,
    is_unknown_voice,
    speaker_turns,
    speech_spans,
    trim_to_speech,
    turn_speakers,
)

LABELS = ["alice", "bob", "carol"]
THRESHOLD = 0.6


def _windows(answers, rng, voices=None, dim=16):
    """One window per second (2 s long, 1 s hop) per answer: a name, "?" + a voice key (unsure), or "-" (no
    speech); features: the voice's direction plus noise (named windows get their own voices)."""
    voices = voices or {}
    probs, feats = [], []
    for a in answers:
        if a == "-":
            probs.append([0.0, 0.0, 0.0])
            feats.append(np.zeros(dim))
            continue
        key = a if not a.startswith("?") else a[1:]
        voice = voices.setdefault(key, rng.standard_normal(dim))
        feats.append(voice + 0.25 * rng.standard_normal(dim))
        if a.startswith("?"):
            probs.append([0.34, 0.33, 0.33])
        else:
            probs.append([0.9, 0.05, 0.05] if a == "alice" else [0.05, 0.9, 0.05])
    starts = np.arange(len(answers), dtype=float)
    return starts, starts + 2.0, np.array(probs), np.array(feats)


def test_two_strangers_get_two_ids_that_stay_the_same_across_the_file():
    rng = np.random.default_rng(0)
    answers = (["alice"] * 4 + ["?x"] * 4 + ["bob"] * 4 + ["?y"] * 4 + ["alice"] * 3 + ["?x"] * 3 + ["bob"] * 3
               + ["?y"] * 3)
    starts, ends, probs, feats = _windows(answers, rng)
    segments = speaker_turns(starts, ends, probs, LABELS, THRESHOLD, 1.0, feats)
    labels = [s.label for s in segments]
    assert labels == ["alice", "unknown-1", "bob", "unknown-2", "alice", "unknown-1", "bob", "unknown-2"]
    assert turn_speakers(segments) == ["alice", "unknown-1", "bob", "unknown-2"]
    # the turns tile the speech: each boundary half way between the centres of the two windows around it
    assert segments[0].start_s == 0.0 and segments[0].end_s == pytest.approx(4.5)
    assert segments[1].start_s == pytest.approx(4.5)
    assert segments[-1].end_s == pytest.approx(ends[-1])


def test_one_stranger_is_one_id():
    rng = np.random.default_rng(1)
    answers = ["?x"] * 3 + ["alice"] * 4 + ["?x"] * 4 + ["bob"] * 4 + ["?x"] * 3
    starts, ends, probs, feats = _windows(answers, rng)
    segments = speaker_turns(starts, ends, probs, LABELS, THRESHOLD, 1.0, feats)
    assert {s.label for s in segments if is_unknown_voice(s.label)} == {"unknown-1"}


def test_a_lone_odd_window_is_smoothed_but_kept_without_smoothing():
    rng = np.random.default_rng(2)
    answers = ["alice"] * 5 + ["bob"] + ["alice"] * 5
    starts, ends, probs, feats = _windows(answers, rng)
    probs[5] = [0.3, 0.65, 0.05]  # bob by the gate, but alice is not ruled out (a window across a pause, a cough)
    assert [s.label for s in speaker_turns(starts, ends, probs, LABELS, THRESHOLD, 1.0, feats)] == ["alice"]
    raw = speaker_turns(starts, ends, probs, LABELS, THRESHOLD, 1.0, feats, smoothing="none")
    assert [s.label for s in raw] == ["alice", "bob", "alice"]
    assert raw[0].p == pytest.approx(0.9) and raw[1].p == pytest.approx(0.65)


def test_no_speech_is_a_gap_not_a_turn():
    rng = np.random.default_rng(3)
    answers = ["alice"] * 3 + ["-"] * 3 + ["alice"] * 3
    starts, ends, probs, feats = _windows(answers, rng)
    segments = speaker_turns(starts, ends, probs, LABELS, THRESHOLD, 1.0, feats)
    assert [(s.label, s.start_s, s.end_s) for s in segments] == [("alice", 0.0, 4.0), ("alice", 6.0, 10.0)]
    assert speaker_turns(starts[3:6], ends[3:6], probs[3:6], LABELS, THRESHOLD, 1.0, feats[3:6]) == []


def test_without_features_the_probabilities_stand_in_and_unknown_is_still_an_id():
    rng = np.random.default_rng(4)
    answers = ["alice"] * 3 + ["?x"] * 3
    starts, ends, probs, _ = _windows(answers, rng)
    segments = speaker_turns(starts, ends, probs, LABELS, THRESHOLD, 1.0, None)
    assert [s.label for s in segments] == ["alice", "unknown-1"]
    assert segments[1].p == pytest.approx(0.34)  # the best probability, the one that was too low


def test_bad_smoothing_is_refused():
    with pytest.raises(ValueError, match="smoothing"):
        speaker_turns(np.zeros(1), np.ones(1), np.ones((1, 3)) / 3, LABELS, 0.5, 1.0, smoothing="hmm")


def test_is_unknown_voice():
    assert is_unknown_voice(UNKNOWN) and is_unknown_voice("unknown-3") and not is_unknown_voice("alice")


def test_a_no_speech_window_between_overlapping_windows_of_one_speaker_leaves_one_turn():
    rng = np.random.default_rng(5)
    answers = ["alice"] * 3 + ["-"] + ["alice"] * 3  # windows 2 s long every second: no time without a window
    starts, ends, probs, feats = _windows(answers, rng)
    segments = speaker_turns(starts, ends, probs, LABELS, THRESHOLD, 1.0, feats)
    assert [(s.label, s.start_s, s.end_s, s.count) for s in segments] == [("alice", 0.0, 8.0, 6)]


def test_speech_spans_bridge_short_pauses_and_pad_the_edges():
    flags = np.array([0] * 10 + [1] * 20 + [0] * 5 + [1] * 10 + [0] * 30 + [1] * 5, bool)  # 0.1 s chunks
    spans = speech_spans(flags, 0.1, min_pause_s=0.3, pad_s=0.05)
    assert [(round(a, 2), round(b, 2)) for a, b in spans] == [(0.95, 3.05), (3.45, 4.55), (7.45, 8.05)]
    # a pause shorter than min_pause_s (after padding) is bridged
    assert len(speech_spans(flags, 0.1, min_pause_s=0.5, pad_s=0.05)) == 2
    assert speech_spans(np.zeros(5, bool), 0.1) == []


def test_turns_are_cut_to_the_speech_inside_them():
    turns = [Segment(0.0, 5.0, "alice", 0.9, 4), Segment(5.0, 9.0, "unknown-1", 0.4, 3)]
    spans = [(0.5, 2.0), (3.0, 6.0), (8.5, 12.0)]
    out = [(s.start_s, s.end_s, s.label) for s in trim_to_speech(turns, spans)]
    assert out == [(0.5, 2.0, "alice"), (3.0, 5.0, "alice"), (5.0, 6.0, "unknown-1"), (8.5, 9.0, "unknown-1")]
    assert trim_to_speech(turns, []) == []


def test_a_change_of_speaker_moves_to_the_pause_the_window_grid_could_not_see():
    # bob starts at 4.0 s after a pause; the windows (1 s hop) put the change at 3.5 s, inside alice's stretch
    turns = [Segment(0.0, 3.5, "alice", 0.9, 4), Segment(3.5, 8.0, "bob", 0.8, 4)]
    spans = [(0.5, 3.8), (4.1, 8.0)]
    assert [(s.start_s, s.end_s, s.label) for s in trim_to_speech(turns, spans)] == [
        (0.5, 3.5, "alice"), (3.5, 3.8, "bob"), (4.1, 8.0, "bob")]
    snapped = [(s.start_s, s.end_s, s.label) for s in trim_to_speech(turns, spans, snap_s=1.0)]
    assert snapped == [(0.5, 3.8, "alice"), (4.1, 8.0, "bob")]
    # a piece as long as a hop is a turn the windows did see: it stays; so does a stretch of one speaker
    long_piece = [Segment(0.0, 2.5, "alice", 0.9, 3), Segment(2.5, 8.0, "bob", 0.8, 6)]
    assert [s.label for s in trim_to_speech(long_piece, spans, snap_s=1.0)] == ["alice", "bob", "bob"]
    # at the start of a stretch too: a short piece of the previous speaker goes to the one who continues it
    late = [Segment(0.0, 4.6, "alice", 0.9, 5), Segment(4.6, 8.0, "bob", 0.8, 4)]
    assert [(s.start_s, s.end_s, s.label) for s in trim_to_speech(late, spans, snap_s=1.0)] == [
        (0.5, 3.8, "alice"), (4.1, 8.0, "bob")]
