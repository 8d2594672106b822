"""Atomic writes: a reader sees the old file or the new one, never half of one. And the two checks every write and
read of a user's path goes through: ``replace_refusal`` (may this target be replaced?) and ``regular_file_problem``
(is this a file one can read to its end, not a pipe or a device?)."""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import shutil
import stat
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

PathLike = str | Path

PARTIAL_SUFFIX = ".partial"
# The one refusal of ``replace_refusal`` a user may overrule (the GUI asks); the others are never replaced.
NOT_EMPTY = "exists and is not empty"


# ------------------------------------------------------------------------------------------------ permissions

def _umask_by_setting() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


_UMASK_AT_IMPORT = _umask_by_setting()  # where /proc cannot tell; read once, at import, before threads write files


def current_umask() -> int:
    """The process's umask. /proc tells without changing it; os.umask() can only be read by setting it, which
    races with other threads creating files, so that is done once at import only."""
    with contextlib.suppress(OSError, ValueError, StopIteration):
        with open("/proc/self/status", encoding="ascii") as fh:
            return int(next(line for line in fh if line.startswith("Umask:")).split()[1], 8)
    return _UMASK_AT_IMPORT


def _give_mode(path: Path, like: Path | None, directory: bool) -> None:
    """tempfile makes 0600 files and 0700 folders; what we write should look like anything else the user makes:
    the mode of the file it replaces, else the default under the umask."""
    try:
        mode = stat.S_IMODE(like.stat().st_mode) if like is not None and like.exists() and not directory else None
    except OSError:
        mode = None
    if mode is None:
        mode = (0o777 if directory else 0o666) & ~current_umask()
    with contextlib.suppress(OSError):
        os.chmod(path, mode)


# -------------------------------------------------------------------------------------------- regular files

class NotRegularFileError(OSError):
    """The path exists but is not a regular file (a folder, a named pipe, a device, a socket). Reading a pipe
    waits for a writer for ever and a device like /dev/zero never ends, so only regular files are read."""

    def __init__(self, path: PathLike, reason: str):
        super().__init__(errno.EINVAL, reason, str(path))
        self.reason = reason


def _kind(mode: int) -> str | None:
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "is a folder, not a file"
    if stat.S_ISFIFO(mode):
        return "is a named pipe (FIFO), not a regular file"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "is a device, not a regular file"
    if stat.S_ISSOCK(mode):
        return "is a socket, not a regular file"
    return "is not a regular file"


def regular_file_problem(path: PathLike) -> str | None:
    """None when ``path`` is (or links to) a regular file; else why not, in words ("does not exist", "is a named
    pipe (FIFO), not a regular file", ...). Never opens the path, so it cannot block."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return "does not exist" if not os.path.islink(path) else "is a link to something that does not exist"
    except OSError as exc:
        return f"cannot be read ({exc.strerror or exc})"
    return _kind(st.st_mode)


def is_regular_file(path: PathLike) -> bool:
    return regular_file_problem(path) is None


@contextmanager
def open_regular(path: PathLike) -> Iterator[IO[bytes]]:
    """Open ``path`` for reading in binary, refusing (``NotRegularFileError``) anything but a regular file.
    The open itself cannot block on a pipe (O_NONBLOCK) and the check is made on the opened file, so a file
    swapped for a pipe between a check and the open is refused too."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    fd = os.open(path, flags)
    try:
        problem = _kind(os.fstat(fd).st_mode)
        if problem:
            raise NotRegularFileError(path, problem)
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        fh = os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise
    with fh:
        yield fh


def file_sha256(path: PathLike) -> str:
    """Hex SHA-256 of a file's content, read in 1 MiB blocks (files may be hours of audio or large weights).
    ``NotRegularFileError`` (an OSError) for pipes, devices and folders."""
    h = hashlib.sha256()
    with open_regular(path) as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


# ------------------------------------------------------------------------------------------- replacing folders

class TargetRefusedError(OSError):
    """A folder that is not ours to replace (``replace_refusal`` says why)."""

    def __init__(self, path: PathLike, reason: str):
        super().__init__(errno.EEXIST, reason, str(path))
        self.path, self.reason = str(path), reason

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}"


def normalized(path: PathLike) -> Path:
    """An absolute path without ``.`` or ``..`` (``Path('.').name`` is empty, so nothing could be put beside it)."""
    return Path(os.path.abspath(os.fspath(path)))


def replace_refusal(path: PathLike, marker: str | None = None,
                    file_is_ours: Callable[[Path], bool] | None = None) -> str | None:
    """Whether ``path`` may be written, replacing what is there: None when it may, else the reason in words.

    A folder (the default) may be replaced when nothing is there, it is empty, or it holds the regular file
    ``marker``, the sign of a folder of ours. With ``file_is_ours`` the target is a file: it may be replaced when
    nothing is there or it is a regular file ``file_is_ours`` recognises (a file this kind of write made).

    The one rule for every write that replaces a user's path (a model folder, a copy of one, an export), so a typo
    like ``--out ~/Documents`` can never delete the user's files. Call it before the work, not after."""
    target = normalized(path)
    if target.name in ("", ".", ".."):
        return "is not a folder that can be written (it has no name)"
    with contextlib.suppress(OSError):
        cwd = Path.cwd().resolve()
        if target.resolve() == cwd or target.resolve() in cwd.parents:
            return "is the current folder (or holds it); choose a new folder inside it"
    if os.path.islink(target):
        return "is a link; choose a real folder"
    if not target.exists():
        return None
    if file_is_ours is not None:
        if target.is_dir():
            return "is a folder; give a file name"
        problem = regular_file_problem(target)
        if problem:
            return problem
        return None if file_is_ours(target) else "exists and is not a file this writes; choose a new name"
    if not target.is_dir():
        return "exists and is not a folder"
    if marker is not None and (target / marker).is_file() and not (target / marker).is_symlink():
        return None
    try:
        empty = not any(target.iterdir())
    except OSError as exc:
        return f"cannot be read ({exc.strerror or exc})"
    return None if empty else NOT_EMPTY


# ---------------------------------------------------------------------------------------------- atomic writes

@contextmanager
def atomic_path(path: PathLike, suffix: str = "") -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success it replaces ``path`` in one rename. The new file gets
    the mode of the one it replaces, else the umask's default (not tempfile's 0600)."""
    path = normalized(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix or ".tmp", dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        _give_mode(tmp_path, path, directory=False)
        os.replace(tmp_path, path)
    except BaseException:
        tmp_path.unlink(missing_ok=True)
        raise


def atomic_write_bytes(path: PathLike, data: bytes, durable: bool = True) -> None:
    """Replace ``path`` with ``data`` in one rename. ``durable=False`` skips the fsync: for caches, where a
    power cut may lose the file (it is then made again) but never leaves half of one."""
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as fh:
            fh.write(data)
            if durable:
                fh.flush()
                os.fsync(fh.fileno())


def atomic_write_text(path: PathLike, text: str, durable: bool = True) -> None:
    atomic_write_bytes(path, text.encode("utf-8"), durable)


def atomic_write_json(path: PathLike, obj: Any, durable: bool = True) -> None:
    atomic_write_text(path, json.dumps(obj, indent=2, sort_keys=False) + "\n", durable)


def _old_name(path: Path) -> Path:
    return path.with_name(f".{path.name}.old")


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # someone else's process: alive
    return True


def recover_directory(path: PathLike) -> None:
    """Finish what a killed ``atomic_directory`` left beside ``path``: a swap stopped between its two renames
    left the previous folder only as ``.NAME.old`` (it is put back); a finished swap may have left ``.NAME.old``
    (removed); a killed build left ``.NAME.<pid>-*.partial`` folders (removed once their process is gone)."""
    path = normalized(path)
    old = _old_name(path)
    if old.is_dir() and not old.is_symlink():
        if not os.path.lexists(path):
            with contextlib.suppress(OSError):
                os.replace(old, path)
        else:
            shutil.rmtree(old, ignore_errors=True)
    prefix = f".{path.name}."
    with contextlib.suppress(OSError):
        for leftover in path.parent.iterdir():
            name = leftover.name
            if not (name.startswith(prefix) and name.endswith(PARTIAL_SUFFIX)) or leftover.is_symlink():
                continue
            owner = name[len(prefix):].split("-", 1)[0]
            if owner.isdigit() and int(owner) != os.getpid() and _pid_alive(int(owner)):
                continue  # another process is building it right now
            if owner.isdigit() and int(owner) == os.getpid():
                continue
            shutil.rmtree(leftover, ignore_errors=True)


@contextmanager
def atomic_directory(path: PathLike) -> Iterator[Path]:
    """Build a directory under a temporary name beside ``path``, then swap it in.

    On any error (cancel included) the half-built directory is removed and an existing ``path`` is untouched.
    What an earlier, killed write left beside ``path`` is recovered or cleaned first (``recover_directory``).
    Whether ``path`` may be replaced at all is the caller's question (``replace_refusal``)."""
    path = normalized(path)
    if path.name in ("", ".", ".."):
        raise TargetRefusedError(path, "is not a folder that can be written (it has no name)")
    path.parent.mkdir(parents=True, exist_ok=True)
    recover_directory(path)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.{os.getpid()}-", suffix=PARTIAL_SUFFIX, dir=path.parent))
    _give_mode(tmp, None, directory=True)
    try:
        yield tmp
        if os.path.lexists(path):
            old = _old_name(path)
            shutil.rmtree(old, ignore_errors=True)
            os.replace(path, old)
            os.replace(tmp, path)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
