import numpy as np
import pytest

from audionet_gui.core.audio.augment import add_noise, colored_noise, mic_response, reverberate
from audionet_gui.core.audio.vad import (
    CHUNK,
    MAX_GAIN,
    REFERENCE_THRESHOLD,
    SPEECH_FRACTION,
    default_model,
    has_speech,
    is_speech,
    levelled,
    resolve_gate,
    speech_fraction,
    speech_probabilities,
    speech_probabilities_of_each,
)
from tests.audio_factory import SR, fan_hum, noise, speech_like, taps, tone

# Silero VAD's own runtime (onnxruntime 1.32 on silero_vad_16k_op15.onnx from the silero-vad 6.2.3 wheel),
# chunk by chunk with its reference wrapper's state and context, on ``_reference_input()``. If speech_like or
# noise in tests/audio_factory.py change, recompute these with onnxruntime.
ONNX_REFERENCE = [
    0.05617, 0.04646, 0.02406, 0.01917, 0.01308, 0.01258, 0.01259, 0.01063, 0.00799, 0.00704, 0.88144, 0.94135,
    0.99006, 0.99672, 0.99471, 0.98830, 0.98652, 0.98625, 0.98866, 0.99121, 0.99768, 0.98656, 0.97173, 0.97486,
    0.60777, 0.95418, 0.98186, 0.96096, 0.95173, 0.94078, 0.90832, 0.97418, 0.95376, 0.96870, 0.95433, 0.96360,
    0.95466, 0.95275, 0.95021, 0.98024, 0.91838, 0.98342, 0.98289, 0.99003, 0.98987, 0.99359, 0.99869]


def _reference_input() -> np.ndarray:
    return np.concatenate([noise(0.3, amp=0.005, seed=9),
                           speech_like(1.2, seed=2) + noise(1.2, amp=0.005, seed=8)]).astype(np.float32)


def _room(x: np.ndarray, seed: int = 0) -> np.ndarray:
    """Speech as a microphone hears it: never digital silence, a room's faint noise (about -46 dBFS) under it."""
    return (x + noise(x.size / SR, amp=0.005, seed=seed + 100)).astype(np.float32)


def test_numpy_network_equals_silero_onnx_model():
    x = _reference_input()
    p = default_model().probabilities(x)
    assert p.shape == (-(-x.size // CHUNK),)
    np.testing.assert_allclose(p, ONNX_REFERENCE, atol=2e-5)


def test_segments_judged_together_get_their_own_answers():
    """Each segment from a fresh state, as one by one: the shorter ones are not coloured by the longer ones."""
    x = _reference_input()
    segments = [x, x[: 3 * CHUNK + 100], np.zeros(0, np.float32), x[CHUNK // 2:], x[:200]]
    together = speech_probabilities_of_each(segments, SR)
    assert [len(p) for p in together] == [len(speech_probabilities(s, SR)) for s in segments]
    for seg, p in zip(segments, together):
        np.testing.assert_allclose(p, speech_probabilities(seg, SR), atol=1e-6)
    np.testing.assert_allclose(together[0], ONNX_REFERENCE, atol=2e-5)
    assert speech_probabilities_of_each([np.zeros(0, np.float32)], SR)[0].size == 0


@pytest.mark.parametrize("seed", range(6))
def test_speech_like_audio_is_speech(seed):
    x = _room(speech_like(2.0, seed=seed), seed)
    assert speech_fraction(x, SR) > 0.5
    assert is_speech(x, SR)


@pytest.mark.parametrize("snr_db", [10.0, 5.0, 0.0])
@pytest.mark.parametrize("kind", ["white", "pink", "fan"])
def test_speech_in_noise_is_still_speech(kind, snr_db):
    rng = np.random.default_rng(int(snr_db) + 7)
    back = {"white": noise(2.0, seed=3), "pink": colored_noise(2 * SR, rng, "pink"), "fan": fan_hum(2.0)}[kind]
    x = add_noise(speech_like(2.0, seed=11), back, snr_db, rng)
    assert is_speech(x, SR)


def _noises() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(5)
    return {"white": noise(2.0, amp=0.1), "pink": 0.1 * colored_noise(2 * SR, rng, "pink"),
            "brown rumble": 0.3 * colored_noise(2 * SR, rng, "brown"), "fan": fan_hum(2.0),
            "loud fan": fan_hum(2.0, amp=0.3, seed=1), "taps": taps(2.0), "fast taps": taps(2.0, per_second=10, seed=2),
            "room tone": noise(2.0, amp=0.003), "tone": tone(440, 2.0, amp=0.3),
            "silence": np.zeros(2 * SR, np.float32)}


def test_noise_is_mostly_not_speech():
    fractions = {name: speech_fraction(x, SR) for name, x in _noises().items()}
    called = [name for name, x in _noises().items() if is_speech(x, SR)]
    assert len(called) <= 1, fractions  # "mostly": at most one kind of noise may fool it
    assert np.mean(list(fractions.values())) < 0.05, fractions


def test_a_short_word_in_a_long_window_is_speech_but_a_stray_click_is_not():
    window = _room(np.zeros(2 * SR, np.float32))
    word = window.copy()
    word[SR: SR + int(0.45 * SR)] += speech_like(0.45, seed=4)
    assert is_speech(word, SR)
    click = window.copy()
    click[SR: SR + 160] += taps(0.01, amp=0.8)
    assert not is_speech(click, SR)


def test_other_rates_are_resampled_and_tiny_inputs_answer_no():
    x = _room(speech_like(2.0, seed=1))
    at_8k = x[::2]  # crude decimation keeps 0-4 kHz speech
    assert is_speech(at_8k, 8000)
    assert speech_probabilities(x, SR).size == -(-x.size // CHUNK)
    assert speech_fraction(np.zeros(0, np.float32), SR) == 0.0
    assert not is_speech(np.zeros(10, np.float32), SR)
    assert 0 < SPEECH_FRACTION < 0.5


def test_decisions_do_not_depend_on_what_came_before_and_threshold_is_checked():
    x = _room(speech_like(2.0, seed=2))
    first = speech_probabilities(x, SR)
    speech_probabilities(noise(3.0, amp=0.3), SR)
    np.testing.assert_array_equal(speech_probabilities(x, SR), first)
    assert speech_fraction(x, SR, threshold=0.9) <= speech_fraction(x, SR, threshold=0.3)
    for bad in (0.0, 1.0, 1.5):
        with pytest.raises(ValueError):
            speech_fraction(x, SR, threshold=bad)


def test_resolve_gate_needs_most_classes_to_be_mostly_speech():
    assert resolve_gate({"ann": (9, 10), "bob": (8, 10), "cat": (1, 10)}) == "speech"
    assert resolve_gate({"ann": (9, 10), "hum": (1, 10)}) == "energy"  # one voice-like class of two: not enough
    assert resolve_gate({"ann": (5, 10), "bob": (5, 10)}) == "energy"  # half the windows is not "most"
    assert resolve_gate({}) == "energy" and resolve_gate({"ann": (0, 0)}) == "energy"
    assert has_speech(None) and has_speech(SPEECH_FRACTION) and not has_speech(SPEECH_FRACTION - 0.01)


def _far_talker(seed: int, level_db: float = -38.0) -> np.ndarray:
    """Speech from across a room through a cheap microphone: a short reverberant tail, 300-3400 Hz, quiet."""
    rng = np.random.default_rng(0)
    t = np.arange(int(0.4 * SR)) / SR
    rir = rng.standard_normal(t.size) * np.exp(-6.9 * t / 0.4) * 0.05
    rir[0] = 1.0
    far = mic_response(reverberate(speech_like(2.0, seed=seed), rir), SR, 300, 3400, 0.0)
    far = far / np.sqrt(np.mean(far ** 2)) * 10 ** (level_db / 20)
    return (far + noise(2.0, amp=0.0003, seed=seed)).astype(np.float32)


@pytest.mark.parametrize("seed", [0, 2, 3, 4])
def test_quiet_far_speech_is_speech_once_levelled(seed):
    far = _far_talker(seed)
    raw = speech_probabilities(far, SR)
    assert (raw >= REFERENCE_THRESHOLD).mean() < SPEECH_FRACTION  # as recorded, Silero's own rule misses it
    assert is_speech(far, SR)


@pytest.mark.parametrize("amp", [0.3, 0.003])
def test_levelling_and_the_lower_threshold_let_no_noise_pass(amp):
    for sound in (fan_hum(2.0, amp=amp), noise(2.0, amp=amp), taps(2.0, amp=10 * amp), tone(440, 2.0, amp=amp),
                  colored_noise(2 * SR, np.random.default_rng(1), "brown") * amp):
        assert not is_speech(sound, SR)


def test_levelled_reaches_a_common_level_but_leaves_room_tone_quiet():
    x = speech_like(1.0, amp=0.01)
    y = levelled(x)
    assert np.sqrt(np.mean(y.astype(np.float64) ** 2)) == pytest.approx(0.1, rel=1e-3)
    hiss = noise(1.0, amp=1e-5)
    assert np.abs(levelled(hiss)).max() <= MAX_GAIN * np.abs(hiss).max() * 1.0001
    assert not levelled(np.zeros(100, np.float32)).any()
