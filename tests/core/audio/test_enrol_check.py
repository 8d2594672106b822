"""The enrolment check on good and bad recordings: silence, clipping, noise, too little speech, a clip of someone
else."""

import numpy as np

from audionet_gui.core.audio.enrol_check import check_enrolment
from tests.audio_factory import SR, noise, speech_like


def _take(seconds, seed, f0=140.0, amp=0.3):
    """Speech as a microphone hears it: a second of quiet room first, faint room noise throughout."""
    x = np.concatenate([np.zeros(SR), speech_like(seconds, seed=seed, f0=f0, amp=amp)])
    return (x + noise(x.size / SR, amp=0.002, seed=seed + 50)).astype(np.float32)


def _items(check):
    return {i.key: i.status for i in check.items}


def test_thirty_seconds_of_clean_speech_is_good():
    check = check_enrolment([_take(10, s) for s in range(3)], SR)
    assert check.speech_s > 20
    assert _items(check) == {"speech": "good", "level": "good", "clipping": "good", "noise": "good",
                             "agreement": "good"}
    assert check.ok and check.advice() == []
    assert check.to_dict()["status"] == "good"


def test_silence_is_poor_and_says_so():
    check = check_enrolment([np.zeros(5 * SR, np.float32)], SR)
    assert not check.ok
    assert _items(check)["speech"] == "poor" and _items(check)["noise"] == "poor"
    assert any("record about 30 s" in a for a in check.advice())


def test_clipping_is_found():
    loud = np.clip(_take(10, 1) * 20, -1, 1)
    check = check_enrolment([loud, _take(10, 2)], SR)
    assert _items(check)["clipping"] == "poor"
    assert any("lower the input level" in a for a in check.advice())


def test_background_noise_is_found():
    noisy = [_take(10, s) + noise(11, amp=0.04, seed=s) for s in range(3)]
    check = check_enrolment(noisy, SR)
    assert _items(check)["noise"] in ("fair", "poor")
    assert _items(check)["clipping"] == "good"
    assert any("quieter place" in a for a in check.advice())


def test_a_few_seconds_is_not_enough_and_quiet_speech_is_flagged():
    check = check_enrolment([_take(4, 3, amp=0.004)], SR)
    assert _items(check)["speech"] in ("fair", "poor")
    assert _items(check)["level"] in ("fair", "poor")


def test_a_clip_unlike_the_others_is_named_with_embeddings():
    rng = np.random.default_rng(0)
    voice, other = rng.standard_normal(16), rng.standard_normal(16)
    emb = np.stack([voice + 0.1 * rng.standard_normal(16) for _ in range(3)] + [other])
    check = check_enrolment([_take(8, s) for s in range(4)], SR, embeddings=emb)
    assert _items(check)["agreement"] == "poor" and check.outliers == [3]


def test_noise_alone_says_no_speech_over_the_noise():
    check = check_enrolment([noise(5, amp=0.2, seed=1)], SR)
    assert not check.ok and any("over the background noise" in a for a in check.advice())
