"""Live replay streams a clip through the live engine with room tone around it and reads the live answer."""

import numpy as np

from audionet_gui.core.answers import SILENCE, UNKNOWN
from audionet_gui.core.live.decisions import LiveDecision
from audionet_gui.core.live.engine import LiveConfig
from audionet_gui.core.live.replay import answer_from_decisions, live_answerer, replay, room_tone
from tests.core.live.fakes import HIGH_HZ, LABELS, LOW_HZ, PitchClassifier, small_spec_cfg, tone

SR = 16000


def test_room_tone_is_quiet_noise_not_digital_silence():
    x = room_tone(SR, np.random.default_rng(0), level_db=-60)
    assert np.all(np.isfinite(x)) and np.count_nonzero(x) == x.size
    assert abs(20 * np.log10(np.sqrt(np.mean(x.astype(np.float64) ** 2))) + 60) < 0.5


def test_a_replay_gives_silence_around_the_clip_and_the_speaker_during_it():
    cfg = LiveConfig(window_s=1.0, hop_s=0.25, silence_db=-50.0, threshold=0.5, smoothing=1)
    decisions = replay(tone(LOW_HZ, 1.5), SR, PitchClassifier(), LABELS, small_spec_cfg(), cfg, lead_s=1.0, tail_s=1.5)
    assert decisions, "the engine decided nothing"
    assert decisions[0].label == SILENCE  # room tone is under the silence level
    assert decisions[-1].label == SILENCE  # and so is the tail once the window has left the clip
    assert any(d.label == "low" for d in decisions)
    times = [d.t for d in decisions]
    assert times == sorted(times) and all(abs(b - a - 0.25) <= 0.02 + 1e-9 for a, b in zip(times, times[1:]))


def test_live_answer_names_each_clip():
    cfg = LiveConfig(window_s=1.0, hop_s=0.25, threshold=0.5, smoothing=3)
    answer = live_answerer(PitchClassifier(), LABELS, small_spec_cfg(), cfg)
    assert answer(tone(LOW_HZ, 1.0)) == "low"
    assert answer(tone(HIGH_HZ, 1.0)) == "high"
    unsure = LiveConfig(window_s=1.0, hop_s=0.25, threshold=0.6, smoothing=3)
    unsure_answer = live_answerer(PitchClassifier(confidence=0.55), LABELS, small_spec_cfg(), unsure)
    assert unsure_answer(tone(LOW_HZ, 1.0)) == UNKNOWN


def test_only_decisions_whose_window_overlaps_the_clip_vote():
    decisions = [LiveDecision(0.5, "high", 0.9), LiveDecision(2.0, "low", 0.9), LiveDecision(2.5, "low", 0.9),
                 LiveDecision(6.0, "high", 0.9), LiveDecision(6.5, "high", 0.9), LiveDecision(7.0, "high", 0.9)]
    assert answer_from_decisions(decisions, start_s=1.0, end_s=3.0, window_s=1.0) == "low"


def test_disagreeing_windows_are_weighed_by_confidence_not_by_order():
    # a short word is heard by two windows; when they disagree, the surer one names it, whichever came first
    unsure_first = [LiveDecision(1.5, "high", 0.37), LiveDecision(2.0, "low", 0.55)]
    sure_first = [LiveDecision(1.5, "low", 0.55), LiveDecision(2.0, "high", 0.37)]
    assert answer_from_decisions(unsure_first, start_s=1.0, end_s=1.5, window_s=1.0) == "low"
    assert answer_from_decisions(sure_first, start_s=1.0, end_s=1.5, window_s=1.0) == "low"
    # two weak windows together outweigh one sure window only when their confidence adds up to more
    assert answer_from_decisions([LiveDecision(1.5, "high", 0.3), LiveDecision(2.0, "high", 0.3),
                                  LiveDecision(2.5, "low", 0.9)], start_s=1.0, end_s=2.0, window_s=1.0) == "low"
    assert answer_from_decisions([LiveDecision(1.5, "high", 0.5), LiveDecision(2.0, "high", 0.5),
                                  LiveDecision(2.5, "low", 0.9)], start_s=1.0, end_s=2.0, window_s=1.0) == "high"
    assert answer_from_decisions([LiveDecision(1.5, SILENCE, 1.0)], start_s=1.0, end_s=2.0, window_s=1.0) == UNKNOWN
