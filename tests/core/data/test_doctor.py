"""The dataset doctor finds each planted problem in generated audio, and nothing in a clean set."""

from __future__ import annotations

import shutil
import stat

import numpy as np
import pytest

from audionet_gui.core.base.jobs import Cancelled, CancelToken
from audionet_gui.core.data.dataset import DatasetSpec
from audionet_gui.core.data.doctor.findings import KINDS
from audionet_gui.core.data.doctor.run import doctor_dataset
from audionet_gui.core.settings import ImageSettings
from tests.audio_factory import ffmpeg_encode, speech_like, write
from tests.tiny_models import small_spec
from tests.tone_dataset import make_tone_dataset

CLASSES = ("anna", "ben", "carl")


def clean_set(root, classes=CLASSES, files=5, seconds=1.5):
    for c, name in enumerate(classes):
        for i in range(files):
            write(root / name / f"{name}_{i}.wav", speech_like(seconds, seed=100 * c + i, f0=110 + 40 * c))
    return root


def kinds(report):
    return [f.kind for f in report.findings]


def test_clean_set_has_no_findings(tmp_path):
    report = doctor_dataset(DatasetSpec.from_root(clean_set(tmp_path / "data")))
    assert report.findings == []
    assert report.files == 15


def test_each_planted_problem_is_found(tmp_path):
    root = clean_set(tmp_path / "data")
    a, b, c = (root / n for n in CLASSES)
    (a / "notes.wav").write_text("not audio at all\n" * 50)
    write(a / "copy_of_0.wav", 0.5 * speech_like(1.5, seed=0, f0=110))  # quieter copy: same audio
    ffmpeg_encode(a / "anna_1.wav", b / "anna_again.mp3")                 # re-encoded into another class
    write(c / "loud.wav", np.clip(4 * speech_like(1.5, seed=7, f0=190), -1, 1))
    write(b / "empty_room.wav", np.zeros(16000, np.float32))
    write(b / "whisper.wav", 1e-4 * speech_like(1.5, seed=8))
    write(c / "blip.wav", speech_like(0.06, seed=9))
    for i in range(5):  # a class recorded at 8 kHz
        write(root / "dora" / f"dora_{i}.wav", speech_like(1.5, sr=8000, seed=300 + i, f0=230), sr=8000)
    write(root / "emil" / "emil_0.wav", speech_like(1.5, seed=400, f0=260))  # one file against five

    report = doctor_dataset(DatasetSpec.from_root(root))
    by_kind = {k: [f for f in report.findings if f.kind == k] for k in KINDS}
    names = {k: sorted(p.split("/")[-1] for f in fs for p in f.paths) for k, fs in by_kind.items()}
    assert names["unreadable"] == ["notes.wav"]
    assert names["duplicate"] == ["anna_0.wav", "copy_of_0.wav"]
    assert names["cross_class_duplicate"] == ["anna_1.wav", "anna_again.mp3"]
    assert by_kind["cross_class_duplicate"][0].cls is None
    assert names["clipping"] == ["loud.wav"]
    assert names["silence"] == ["empty_room.wav", "whisper.wav"]
    assert names["too_short"] == ["blip.wav"]
    [mismatch] = by_kind["sample_rate_mismatch"]
    assert mismatch.cls == "dora" and "'dora'" in mismatch.message and "8 kHz" in mismatch.message
    assert len(mismatch.paths) == 5
    assert [f.cls for f in by_kind["imbalance"]] == ["emil"]
    assert by_kind["suspect_label"] == []  # no backbone, no judgement of labels
    for f in report.findings:
        assert set(f.to_dict()) == {"kind", "paths", "class", "message", "fix"}
        assert f.message and f.fix


def test_quiet_room_tone_in_the_background_class_is_not_silence(tmp_path):
    root = clean_set(tmp_path / "data", files=2)
    write(root / "_background_noise_" / "room.wav", 1e-4 * speech_like(3.0, seed=5))
    report = doctor_dataset(DatasetSpec.from_root(root))
    assert "silence" not in kinds(report)


def test_data_is_never_modified(tmp_path):
    root = clean_set(tmp_path / "data", files=3)
    shutil.copy(root / "anna" / "anna_0.wav", root / "ben" / "dupe.wav")
    before = {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in root.rglob("*") if p.is_file()}
    for p in before:
        p.chmod(stat.S_IRUSR)  # a read-only dataset is examined all the same
    report = doctor_dataset(DatasetSpec.from_root(root))
    assert "cross_class_duplicate" in kinds(report)
    after = {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in root.rglob("*") if p.is_file()}
    assert after == before


def test_cancel_stops_the_job(tmp_path):
    token = CancelToken()
    seen = []

    def progress(p):
        seen.append(p)
        token.cancel()

    with pytest.raises(Cancelled):
        doctor_dataset(DatasetSpec.from_root(clean_set(tmp_path / "data", files=3)), progress=progress, cancel=token)
    assert seen and seen[0].stage == "examining"


@pytest.mark.slow
def test_a_file_in_the_wrong_folder_is_the_first_suspect(tmp_path):
    root = make_tone_dataset(tmp_path / "data", files_per_class=6, seconds=2.5)
    shutil.move(root / "high" / "high_03.wav", root / "low" / "high_03.wav")
    settings = ImageSettings.from_parts(small_spec(64, 64), None, (64, 64))
    # small_cnn with random weights: no download, and random features tell pitches apart well enough
    report = doctor_dataset(DatasetSpec.from_root(root), backbone="small_cnn", weights="none", settings=settings,
                            workspace=tmp_path / "ws", feature_cache=tmp_path / "features")
    suspects = [f for f in report.findings if f.kind == "suspect_label"]
    assert suspects, report.findings
    first = suspects[0]
    assert first.paths == [str(root / "low" / "high_03.wav")]
    assert first.cls == "low" and first.suggested_class == "high" and "'high'" in first.message
    assert [f.score for f in suspects] == sorted((f.score for f in suspects), reverse=True)
