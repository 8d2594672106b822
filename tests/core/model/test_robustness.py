"""The robustness report scores each condition, names the weakest one and gives advice for it."""

import numpy as np

from audionet_gui.core.audio.conditions import band_limit
from audionet_gui.core.model.robustness import ADVICE, robustness_report, standard_conditions

SR = 16000


def tone(freq, seconds=1.0):
    return (0.3 * np.sin(2 * np.pi * freq * np.arange(int(SR * seconds)) / SR)).astype(np.float32)


def spectral_answer(samples):
    """'low' for a 200 Hz tone, 'high' for a 5 kHz tone, 'unknown' when the tone's band holds little energy."""
    spec = np.abs(np.fft.rfft(samples)) ** 2
    f = np.fft.rfftfreq(samples.size, 1 / SR)
    low, high, total = spec[(f > 150) & (f < 250)].sum(), spec[(f > 4900) & (f < 5100)].sum(), spec.sum()
    if max(low, high) < 0.3 * total:
        return "unknown"
    return "low" if low > high else "high"


def test_every_condition_is_scored_and_the_weakest_is_named_with_advice():
    recordings = [(tone(200), "low"), (tone(5000), "high")] * 3
    noise = [np.random.default_rng(0).standard_normal(SR).astype(np.float32)]
    report = robustness_report(recordings, SR, spectral_answer, standard_conditions(noise, snrs=(20, 0)))
    conditions = report["conditions"]
    assert set(conditions) == {"clean", "noise_20db", "noise_0db", "reverb", "cheap_mic"}
    assert conditions["clean"]["accuracy"] == 1.0 and conditions["clean"]["recordings"] == 6
    # a telephone band (300-3400 Hz) removes both tones: nothing is named right and all is unknown
    assert conditions["cheap_mic"]["accuracy"] == 0.0 and conditions["cheap_mic"]["unknown_rate"] == 1.0
    assert conditions["noise_0db"]["accuracy"] <= conditions["noise_20db"]["accuracy"]
    assert report["weakest"] == "cheap_mic" and report["advice"] == ADVICE["cheap_mic"]


def test_live_replay_is_a_condition_of_its_own_when_given():
    recordings = [(tone(200), "low"), (tone(5000), "high")]
    report = robustness_report(recordings, SR, spectral_answer, standard_conditions([]),
                               live_answer=lambda x: spectral_answer(band_limit(x, SR, 1000, 8000)))
    assert report["conditions"]["live_replay"]["accuracy"] == 0.5
    assert "noise_20db" not in report["conditions"]  # no held-back noise, no noise rows


def test_the_report_is_repeatable_for_a_seed():
    recordings = [(tone(200), "low"), (tone(5000), "high")] * 2
    noise = [np.random.default_rng(0).standard_normal(SR).astype(np.float32)]
    conditions = standard_conditions(noise, snrs=(0,))
    first = robustness_report(recordings, SR, spectral_answer, conditions, seed=4)
    assert robustness_report(recordings, SR, spectral_answer, conditions, seed=4) == first
