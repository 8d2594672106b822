"""Inputs that cannot stall: a named pipe and a link to /dev/zero named like audio are bad files with a reason in
the scan, the conversion (serial and with workers) and prediction, never a hang; hidden class folders and files
are left out and said to be."""

from __future__ import annotations

import os

import pytest

from audionet_gui.core.audio.files import audio_info, load_audio
from audionet_gui.core.base.errors import AudioFileError
from audionet_gui.core.data.convert import convert_dataset
from audionet_gui.core.data.dataset import DatasetSpec, scan_dataset
from tests.audio_factory import make_class_tree, tone, write
from tests.deadline import finishes


@pytest.fixture
def odd_data(tmp_path):
    root = make_class_tree(tmp_path / "data", {"alice": [tone(300, 1.0), tone(320, 1.0)],
                                               "bob": [tone(900, 1.0), tone(950, 1.0)]})
    os.mkfifo(root / "alice" / "a.wav")
    os.mkfifo(root / "bob" / "a.wav")  # same size (0) in two classes: the duplicate check would hash both
    (root / "bob" / "z.wav").symlink_to("/dev/zero")
    (root / "alice" / "y.wav").symlink_to("/dev/zero")
    yield root
    for fifo in (root / "alice" / "a.wav", root / "bob" / "a.wav"):  # free a reader stuck in open() (old code)
        try:
            os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        except OSError:
            pass


def _reasons(paths_and_reasons) -> dict[str, str]:
    return {os.path.basename(p): r for p, r in paths_and_reasons}


def test_reading_a_pipe_or_dev_zero_is_refused_at_once(odd_data):
    for name in ("alice/a.wav", "bob/z.wav"):
        for read in (audio_info, load_audio):
            done, result = finishes(lambda r=read, n=name: r(odd_data / n))
            assert done, f"{read.__name__}({name}) hangs"
            assert isinstance(result, AudioFileError) and "not a regular file" in result.reason


def test_the_scan_reports_them_and_finishes(odd_data):
    done, report = finishes(lambda: scan_dataset(DatasetSpec.from_root(odd_data)), timeout=30)
    assert done, "the scan hangs"
    assert not isinstance(report, BaseException), report
    alice, bob = report.classes
    assert (alice.files, bob.files) == (2, 2)
    assert "named pipe" in _reasons(alice.unreadable)["a.wav"] and "device" in _reasons(bob.unreadable)["z.wav"]


@pytest.mark.parametrize("workers", [1, 2])
def test_conversion_lists_them_as_failed_and_converts_the_rest(odd_data, tmp_path, workers):
    done, summary = finishes(lambda: convert_dataset(DatasetSpec.from_root(odd_data), tmp_path / "ws",
                                                     workers=workers), timeout=120)
    assert done, "the conversion hangs"
    assert not isinstance(summary, BaseException), summary
    assert summary.files == 4
    failed = {os.path.relpath(f["path"], odd_data): f["reason"] for f in summary.failed}
    assert set(failed) == {"alice/a.wav", "bob/a.wav", "alice/y.wav", "bob/z.wav"}
    assert "named pipe" in failed["alice/a.wav"] and "device" in failed["bob/z.wav"]


def test_hidden_class_folders_and_files_are_reported_not_dropped_silently(tmp_path):
    root = make_class_tree(tmp_path / "data", {"alice": [tone(300, 1.0)], "bob": [tone(900, 1.0)]})
    write(root / "...lucas" / "l1.wav", tone(500, 1.0))
    write(root / "alice" / ".take2.wav", tone(310, 1.0))
    write(root / "bob" / ".old" / "b.wav", tone(910, 1.0))
    (root / "alice" / ".DS_Store").write_bytes(b"\0")  # not audio: nothing to say
    spec = DatasetSpec.from_root(root)
    assert spec.labels == ["alice", "bob"]
    warnings = "\n".join(scan_dataset(spec).warnings)
    for name in ("...lucas", ".take2.wav", ".old"):
        assert name in warnings and "hidden" in warnings
    assert ".DS_Store" not in warnings
    summary = convert_dataset(spec, tmp_path / "ws", workers=1)
    assert sorted(os.path.basename(s["path"]) for s in summary.skipped) == sorted([".old", ".take2.wav", "...lucas"])
    assert summary.to_dict()["skipped"] == summary.skipped
