"""Reading the deployment's files safely: the one way every probe and tool reads a local file.

A deployment can hold anything at a path where a file is expected: a FIFO (``open`` blocks
until a writer appears, forever), a socket, a device (``/dev/zero`` never ends), or a symlink to
one of those. So a read here

* looks with ``stat`` first (following symlinks, which is what ``open`` would do) and never
  opens what is not a regular file: devices may act on open (a tape rewinds, a tty attaches);
* opens with ``O_NONBLOCK | O_NOCTTY`` and checks ``fstat`` again, so a file swapped for a FIFO
  in between cannot block the run either;
* never reads more than a limit the caller names (what the largest real such file could be).

Failures are ``OSError`` subclasses with a message a finding can quote as it is:
``/root/acore_bot/.env is a FIFO, not a file``.
"""

from __future__ import annotations

import fcntl
import os
import stat
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from acore_doctor.changes.inputs import note_file

_NONBLOCK = getattr(os, "O_NONBLOCK", 0)
_NOCTTY = getattr(os, "O_NOCTTY", 0)
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
#: What one read asks for beyond the size fstat gave (a file still growing, /proc).
_CHUNK = 64 * 1024


#: Each file type's test and name, regular files first (by far the most common).
_KINDS = (
    (stat.S_ISREG, "file"),
    (stat.S_ISDIR, "directory"),
    (stat.S_ISFIFO, "FIFO"),
    (stat.S_ISSOCK, "socket"),
    (stat.S_ISCHR, "character device"),
    (stat.S_ISBLK, "block device"),
    (stat.S_ISLNK, "symbolic link"),
)


def kind_of(mode: int) -> str:
    """What a stat mode is, in words ("FIFO", "socket", "character device", ...)."""
    return next((name for test, name in _KINDS if test(mode)), "special file")


class NotARegularFile(OSError):
    """The path is (or leads through a symlink to) something that is not a regular file."""

    def __init__(self, path: Path | str, kind: str, via_link: bool = False) -> None:
        self.path = Path(path)
        self.kind = kind
        what = f"a symlink to a {kind}" if via_link else f"a {kind}"
        super().__init__(f"{path} is {what}, not a file")
        self.strerror = f"{what}, not a file"


class FileTooLarge(OSError):
    """The file is larger than any real file of its kind; it was not read."""

    def __init__(self, path: Path | str, size: int, limit: int) -> None:
        self.path = Path(path)
        self.size = size
        self.limit = limit
        super().__init__(f"{path} is {_size(size)}, larger than the {_size(limit)} read limit")
        self.strerror = f"{_size(size)}, larger than the {_size(limit)} read limit"


def _size(n: int) -> str:
    if n >= 2**20:
        return f"{n / 2**20:.1f} MiB"
    if n >= 2**10:
        return f"{n / 2**10:.1f} KiB"
    return f"{n} bytes"


def not_a_file(path: Path | str) -> NotARegularFile | None:
    """Why ``path`` must not be opened for reading (it exists but is not a regular file,
    itself or behind a symlink), or None. Never opens anything; raises OSError when the path
    cannot be looked at (missing, no permission)."""
    note_file(path)  # which files a check read, a missing one too (what changed since it passed)
    st = os.stat(path)
    if stat.S_ISREG(st.st_mode):
        return None
    via_link = stat.S_ISLNK(os.lstat(path).st_mode)
    return NotARegularFile(path, kind_of(st.st_mode), via_link)


def open_regular(path: Path | str, limit: int | None = None) -> BinaryIO:
    """A binary read handle on ``path``, which must be a regular file (of at most ``limit``
    bytes when given). Raises NotARegularFile, FileTooLarge or another OSError."""
    fd, _ = _open_regular_fd(path, limit)
    try:
        flags = fcntl.fcntl(fd, fcntl.F_GETFL)
        fcntl.fcntl(fd, fcntl.F_SETFL, flags & ~_NONBLOCK)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def _open_regular_fd(path: Path | str, limit: int | None) -> tuple[int, int]:
    """(descriptor, size) of a regular file opened for reading; see :func:`open_regular`."""
    problem = not_a_file(path)
    if problem is not None:
        raise problem
    fd = os.open(path, os.O_RDONLY | _NONBLOCK | _NOCTTY | _CLOEXEC)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise NotARegularFile(path, kind_of(st.st_mode))
        if limit is not None and st.st_size > limit:
            raise FileTooLarge(path, st.st_size, limit)
    except BaseException:
        os.close(fd)
        raise
    return fd, st.st_size


def read_bounded(path: Path | str, limit: int) -> bytes:
    """All of a regular file of at most ``limit`` bytes. A file that grows past the limit while
    it is read is refused too (FileTooLarge), never read on without end."""
    # Straight from the descriptor: no buffered file object for a read that happens once
    # (O_NONBLOCK does nothing to a regular file's reads).
    fd, size = _open_regular_fd(path, limit)
    try:
        data = _read_upto(lambda n: os.read(fd, n), size, limit)
    finally:
        os.close(fd)
    if len(data) > limit:
        raise FileTooLarge(path, len(data), limit)
    return data


def read_rest(handle: BinaryIO, limit: int) -> bytes:
    """What is left of an open regular file, at most ``limit`` + 1 bytes (one more than the
    limit says the file is larger)."""
    size = os.fstat(handle.fileno()).st_size - handle.tell()
    return _read_upto(handle.read, max(size, 0), limit)


def _read_upto(read: Callable[[int], bytes], size: int, limit: int) -> bytes:
    """Until the end, at most ``limit`` + 1 bytes, for a file ``size`` bytes long when it
    was looked at. Sized by that, not by the limit: ``read(n)`` allocates n bytes up front,
    which for a 16 MiB limit and a 2 KiB file is 16 MiB of memory."""
    chunks = [read(min(size, limit) + 1)]
    total = len(chunks[0])
    while chunks[-1] and total <= limit:  # grew since fstat, or /proc-like (size 0)
        chunks.append(read(min(limit + 1 - total, _CHUNK)))
        total += len(chunks[-1])
    return b"".join(chunks)


def read_head(path: Path | str, size: int) -> bytes:
    """The first ``size`` bytes of a regular file (for magic numbers and headers)."""
    with open_regular(path) as handle:
        return handle.read(size)


#: The suite's own reports and state (latest.json, check results, the trend file, alert and
#: log-template state) stay far below this; a larger one, or a FIFO or device planted where
#: one belongs, is unreadable like a damaged one: never read without end.
OWN_FILE_MAX = 256 * 1024 * 1024


def read_text_bounded(path: Path | str, limit: int, errors: str = "replace") -> str:
    return read_bounded(path, limit).decode("utf-8", errors=errors)


__all__ = [
    "OWN_FILE_MAX",
    "FileTooLarge",
    "NotARegularFile",
    "kind_of",
    "not_a_file",
    "open_regular",
    "read_bounded",
    "read_head",
    "read_rest",
    "read_text_bounded",
]
