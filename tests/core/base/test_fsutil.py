"""fsutil: the one replace rule, the regular-file check, an interrupted folder swap recovered, killed builds
cleaned, and files and folders written with the modes the umask gives (not tempfile's 0600/0700)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from audionet_gui.core.base.fsutil import (
    NOT_EMPTY,
    NotRegularFileError,
    atomic_directory,
    atomic_write_json,
    file_sha256,
    recover_directory,
    regular_file_problem,
    replace_refusal,
)
from tests.deadline import finishes


@pytest.fixture
def fifo(tmp_path):
    path = tmp_path / "a.wav"
    os.mkfifo(path)
    yield path
    # release a reader stuck in open() (only the old code gets there)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK)
        os.close(fd)
    except OSError:
        pass


# --- replacing --------------------------------------------------------------------------------------------------
def test_a_folder_of_the_users_is_not_replaceable_an_empty_one_or_ours_is(tmp_path):
    user = tmp_path / "model"
    (user / "recordings").mkdir(parents=True)
    (user / "thesis.txt").write_text("years of work")
    assert replace_refusal(user, marker="format_version") == NOT_EMPTY
    (tmp_path / "empty").mkdir()
    assert replace_refusal(tmp_path / "empty", marker="format_version") is None
    assert replace_refusal(tmp_path / "new", marker="format_version") is None
    ours = tmp_path / "ours"
    ours.mkdir()
    (ours / "format_version").write_text("1\n")
    assert replace_refusal(ours, marker="format_version") is None
    (tmp_path / "file").write_text("x")
    assert replace_refusal(tmp_path / "file", marker="format_version") == "exists and is not a folder"
    (tmp_path / "link").symlink_to(ours)
    assert "link" in replace_refusal(tmp_path / "link", marker="format_version")


def test_the_current_folder_is_never_a_target(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # empty: before, "." passed and the write failed at the very end
    assert "current folder" in replace_refusal(".")
    assert "current folder" in replace_refusal(tmp_path.parent)


def test_a_file_target_is_replaced_only_when_it_is_ours(tmp_path):
    mine = tmp_path / "out.bin"
    mine.write_bytes(b"MINE")
    assert replace_refusal(mine, file_is_ours=lambda p: p.read_bytes() == b"MINE") is None
    assert "not a file this writes" in replace_refusal(mine, file_is_ours=lambda p: False)
    assert "is a folder" in replace_refusal(tmp_path, file_is_ours=lambda p: True)


# --- regular files -----------------------------------------------------------------------------------------------
def test_a_fifo_and_a_device_are_refused_at_once_not_read(tmp_path, fifo):
    zero = tmp_path / "z.wav"
    zero.symlink_to("/dev/zero")
    assert "named pipe" in regular_file_problem(fifo)
    assert "device" in regular_file_problem(zero)
    assert regular_file_problem(tmp_path / "nothing.wav") == "does not exist"
    for path in (fifo, zero):
        done, result = finishes(lambda p=path: file_sha256(p))
        assert done, f"hashing {path.name} hangs"
        assert isinstance(result, NotRegularFileError)
    ok = tmp_path / "ok.wav"
    ok.write_bytes(b"abc")
    assert file_sha256(ok) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"


# --- folder swaps --------------------------------------------------------------------------------------------------
def test_a_swap_killed_between_its_renames_is_recovered(tmp_path):
    target = tmp_path / "model"
    old = tmp_path / ".model.old"
    old.mkdir()
    (old / "format_version").write_text("1\n")  # the first rename happened, the second did not
    recover_directory(target)
    assert (target / "format_version").is_file() and not old.exists()
    # and a finished swap's leftover .old is removed by the next write
    old.mkdir()
    (old / "stale").write_text("x")
    with atomic_directory(target) as tmp:
        (tmp / "format_version").write_text("1\n")
    assert not old.exists() and (target / "format_version").is_file()


def test_killed_builds_are_cleaned_by_the_next_write_a_live_ones_is_kept(tmp_path):
    dead = tmp_path / ".model.999999999-abcd.partial"   # no such process
    legacy = tmp_path / ".model.k2j4h5g3.partial"        # written before the pid was in the name
    alive = tmp_path / f".model.{os.getppid()}-efgh.partial"
    for folder in (dead, legacy, alive):
        folder.mkdir()
        (folder / "model.keras").write_bytes(b"half")
    with atomic_directory(tmp_path / "model") as tmp:
        (tmp / "format_version").write_text("1\n")
    assert not dead.exists() and not legacy.exists() and alive.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([alive.name, "model"])


# --- modes ---------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("umask", [0o022, 0o027])
def test_written_folders_and_files_follow_the_umask(tmp_path, umask):
    before = os.umask(umask)
    try:
        with atomic_directory(tmp_path / "model") as tmp:
            atomic_write_json(tmp / "config.json", {"a": 1})
        atomic_write_json(tmp_path / "project.json", {"b": 2})
    finally:
        os.umask(before)
    mode = lambda p: stat.S_IMODE(Path(p).stat().st_mode)  # noqa: E731
    assert mode(tmp_path / "model") == 0o777 & ~umask
    assert mode(tmp_path / "model" / "config.json") == 0o666 & ~umask
    assert mode(tmp_path / "project.json") == 0o666 & ~umask
