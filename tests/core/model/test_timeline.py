"""The timeline job with the speech gate: the speech detector runs once over the file, gates the windows and cuts
the turns to where someone speaks."""

import numpy as np
import pytest

from audionet_gui.core.audio.files import load_audio
from audionet_gui.core.audio.vad import CHUNK, DEFAULT_THRESHOLD, VAD_RATE, levelled_spans, speech_probabilities
from audionet_gui.core.audio.windows import WindowConfig
from audionet_gui.core.model import timeline as timeline_mod
from audionet_gui.core.model.bundle import load_bundle
from audionet_gui.core.model.timeline import FileTimeline, file_speech_flags, timeline_file
from tests.audio_factory import SR, noise, speech_like, tone, write
from tests.tiny_models import voice_bundle

VOICES = {"anna": 300.0, "ben": 800.0}


@pytest.fixture(scope="module")
def talk(tmp_path_factory):
    root = tmp_path_factory.mktemp("gated")
    # 4 s of a steady tone (a machine: no speech), then 4 s of speech, then 3 s of room noise
    audio = np.concatenate([tone(300.0, 4.0, amp=0.3), speech_like(4.0, seed=3), noise(3.0, amp=0.003, seed=1)])
    return write(root / "talk.wav", audio, SR), root


def test_speech_flags_of_a_file_read_in_blocks_follow_the_detector(talk):
    path, _ = talk
    whole = speech_probabilities(levelled_spans(load_audio(path, VAD_RATE)), VAD_RATE) >= 0.5
    assert np.array_equal(file_speech_flags(path, 0.5), whole)  # one block: exactly the detector's answer
    flags = file_speech_flags(path, 0.5, block_s=2.3)  # blocks that are not whole chunks: alignment must hold
    assert len(flags) == len(whole)
    assert (flags == whole).mean() > 0.85  # the detector restarts with each block: a few chunks differ
    chunk_s = CHUNK / VAD_RATE
    flags = file_speech_flags(path, DEFAULT_THRESHOLD, block_s=2.3)
    assert flags[: int(3.5 / chunk_s)].mean() < 0.1  # the tone
    assert flags[int(4.5 / chunk_s): int(7.5 / chunk_s)].mean() > 0.6  # the speech


def test_blocks_judged_together_answer_as_blocks_judged_one_by_one(talk, monkeypatch):
    path, _ = talk
    audio = load_audio(path, VAD_RATE)
    span = 32768  # block_s below: one levelling span, so each block is judged whole (the last, shorter, too)
    one_by_one = np.concatenate([speech_probabilities(levelled_spans(audio[i:i + span]), VAD_RATE) >= 0.5
                                 for i in range(0, audio.size, span)])
    for at_once in (1, 4, 100):  # 6 blocks judged in groups that end mid-file and at the end, or all together
        monkeypatch.setattr(timeline_mod, "VAD_BLOCKS_AT_ONCE", at_once)
        assert np.array_equal(file_speech_flags(path, 0.5, block_s=span / VAD_RATE), one_by_one)


def test_with_the_speech_gate_turns_lie_only_where_someone_speaks(talk):
    path, root = talk
    model = voice_bundle(root / "model", VOICES, ["anna", "ben"],
                         window=WindowConfig(window_s=1.0, hop_s=0.5, gate="speech"))
    result = timeline_file(load_bundle(model), path)
    assert isinstance(result, FileTimeline) and result.segments
    for seg in result.segments:
        assert seg.start_s >= 3.7 and seg.end_s <= 8.5, seg  # none on the tone, none in the room noise
    assert sum(s.end_s - s.start_s for s in result.segments) > 2.5
