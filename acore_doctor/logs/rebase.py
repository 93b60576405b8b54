"""Shift a log directory's timestamps so its newest record is about 'now'.

The bundled demo deployment ships a log written long ago; copied as is, every "written
recently" judgement would be about the copy's age. ``acore-doctor demo`` calls
:func:`rebase_log_times` on its private copy (never on a real deployment) so the intervals
between records stay as written and the newest record is a minute old.
"""

from __future__ import annotations

import gzip
import io
import os
import re
import time
from pathlib import Path

from acore_doctor.logs.parse import iso_time, line_time, text_time
from acore_doctor.saferead import FileTooLarge, read_bounded

_TEXT_TS = re.compile(rb"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d")
_JSON_TS = re.compile(rb'"timestamp":\s*"([^"]+)"')
_LOG_NAME = re.compile(r"\.log(?:\.\d+(?:\.gz)?)?$")


#: The demo's logs are a few MiB; a file larger than this (or one that inflates past it) is
#: left as it is rather than read whole into memory.
REBASE_MAX = 64 * 1024 * 1024


def _read(path: Path) -> bytes:
    data = read_bounded(path, REBASE_MAX)
    if not path.name.endswith(".gz"):
        return data
    with gzip.GzipFile(fileobj=io.BytesIO(data)) as inflating:
        text = inflating.read(REBASE_MAX + 1)
    if len(text) > REBASE_MAX:
        raise FileTooLarge(path, len(text), REBASE_MAX)
    return text


def _write(path: Path, data: bytes) -> None:
    path.write_bytes(gzip.compress(data, mtime=0) if path.name.endswith(".gz") else data)


def newest_time(data: bytes) -> float | None:
    for line in reversed(data.splitlines()):
        when = line_time(line)
        if when is not None:
            return when
    return None


def _shift_line(line: bytes, delta: int) -> bytes:
    if _TEXT_TS.match(line):
        when = text_time(line)
        if when is None:
            return line
        stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(int(when) + delta))
        return stamp.encode() + line[19:]
    if line[:1] == b"{":
        match = _JSON_TS.search(line)
        when = iso_time(match.group(1).decode("ascii", "replace")) if match else None
        if match and when is not None:
            shifted = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(when + delta))
            fraction = f"{(when % 1):.6f}"[1:]
            value = f"{shifted}{fraction}+00:00Z".encode()
            return line[: match.start(1)] + value + line[match.end(1) :]
    return line


def rebase_log_times(log_dir: Path, now: float | None = None, age_s: int = 60) -> int:
    """Rewrite every ``*.log[.N[.gz]]`` in ``log_dir`` shifted by one common offset.

    Returns the offset in seconds (0 when there was nothing to shift).
    """
    now = time.time() if now is None else now
    files = sorted(p for p in log_dir.iterdir() if p.is_file() and _LOG_NAME.search(p.name))
    contents = {}
    for path in files:
        try:
            contents[path] = _read(path)
        except (OSError, EOFError, gzip.BadGzipFile):  # leave a file we cannot read alone
            continue
    newest = [t for t in (newest_time(data) for data in contents.values()) if t is not None]
    if not newest:
        return 0
    delta = int(now - age_s - max(newest))
    for path, data in contents.items():
        shifted = b"\n".join(_shift_line(line, delta) for line in data.split(b"\n"))
        _write(path, shifted)
        last = newest_time(shifted)
        if last is not None:
            os.utime(path, (last, last))
    return delta


__all__ = ["rebase_log_times"]
