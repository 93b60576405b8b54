"""Where a deployment's logs are and how to read them: the live file, its rotated
``bot.log.N.gz`` segments (oldest first, then the live file), a ``journalctl -o json``
export, or the journal itself. Facts only; nothing here judges or writes.
"""

from __future__ import annotations

import gzip
import os
import queue
import re
import shutil
import subprocess
import threading
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from acore_doctor.deployment import Deployment
from acore_doctor.logs.parse import (
    MAX_LINE_BYTES,
    LogRecord,
    ParseStats,
    iter_records,
    line_time,
    strip_eol,
)
from acore_doctor.saferead import open_regular, read_bounded

DEFAULT_LOG_FILE = "logs/bot.log"
DEFAULT_UNIT = "discordbot"
#: Decompressed bytes split into lines at a time.
CHUNK_BYTES = 1 << 20


@dataclass(frozen=True)
class Segment:
    path: Path
    #: rotation index: 0 for the live file, N for bot.log.N[.gz]
    index: int
    compressed: bool
    size: int
    mtime: float
    #: st_mode (who may read it: logs carry users' messages)
    mode: int = 0


@dataclass
class LogFiles:
    """The live log file and its rotated segments, as found on disk."""

    live: Path
    live_exists: bool
    live_size: int = 0
    live_mtime: float | None = None
    live_mode: int = 0
    live_error: str | None = None
    segments: list[Segment] = field(default_factory=list)
    #: ``bot.log.N`` without .gz: left by an older bot or an interrupted rotation
    uncompressed_backups: list[Path] = field(default_factory=list)

    def in_time_order(self) -> list[Segment]:
        """Oldest segment first, the live file last (the rotating handler's numbering)."""
        ordered = sorted(self.segments, key=lambda s: -s.index)
        if self.live_exists:
            ordered.append(
                Segment(self.live, 0, False, self.live_size, self.live_mtime or 0.0, self.live_mode)
            )
        return ordered

    def every_file(self) -> list[Segment]:
        """The live file, every gz segment and every uncompressed ``bot.log.N`` left beside
        them: all that holds the log's records on disk (who may read them matters)."""
        found = self.in_time_order()
        for path in self.uncompressed_backups:
            try:
                st = path.stat()
            except OSError:
                continue
            index = int(path.name.rpartition(".")[2])
            found.append(Segment(path, index, False, st.st_size, st.st_mtime, st.st_mode))
        return found

    def modes(self) -> list[tuple[str, int]]:
        """(file name, st_mode) of every log file (:meth:`every_file`)."""
        return [(s.path.name, s.mode) for s in self.every_file()]

    @property
    def total_bytes(self) -> int:
        return sum(s.size for s in self.in_time_order())


_ROTATED = re.compile(r"^(?P<base>.+)\.(?P<n>\d+)(?P<gz>\.gz)?$")


def log_file_path(deployment: Deployment) -> Path:
    return deployment.path(deployment.settings.get("LOG_FILE_PATH") or DEFAULT_LOG_FILE)


def find_log_files(live: Path) -> LogFiles:
    files = LogFiles(live=live, live_exists=False)
    try:
        st = live.stat()
        files.live_exists = live.is_file()
        files.live_size, files.live_mtime, files.live_mode = st.st_size, st.st_mtime, st.st_mode
        if not files.live_exists:
            files.live_error = "not a regular file"
    except FileNotFoundError:
        pass
    except OSError as exc:
        files.live_exists, files.live_error = False, exc.strerror or str(exc)
    try:
        entries = list(os.scandir(live.parent))
    except OSError:
        return files
    for entry in entries:
        match = _ROTATED.match(entry.name)
        if not match or match.group("base") != live.name:
            continue
        path = Path(entry.path)
        if not match.group("gz"):
            files.uncompressed_backups.append(path)
            continue
        try:
            st = entry.stat()
        except OSError:
            continue
        files.segments.append(
            Segment(path, int(match.group("n")), True, st.st_size, st.st_mtime, st.st_mode)
        )
    files.segments.sort(key=lambda s: s.index)
    files.uncompressed_backups.sort()
    return files


@dataclass(frozen=True)
class SegmentScan:
    """One full read of a rotated segment: whether it is a complete gzip file, and the times
    of its first and last records (when it started and when it was rotated out)."""

    problem: str | None
    first_time: float | None = None
    last_time: float | None = None
    #: uncompressed bytes read
    size: int = 0


def _first_time(data: bytes) -> float | None:
    for line in data.split(b"\n", 256)[:256]:
        when = line_time(line.rstrip(b"\r"))
        if when is not None:
            return when
    return None


def _last_time(data: bytes) -> float | None:
    for line in reversed(data.split(b"\n")):
        when = line_time(line.rstrip(b"\r"))
        if when is not None:
            return when
    return None


def scan_segment(path: Path) -> SegmentScan:
    """Read ``path`` fully (CRC check) and note its first and last record times."""
    first = last = None
    tail = b""
    size = 0
    try:
        with open_regular(path) as raw:
            if raw.read(2) != b"\x1f\x8b":
                return SegmentScan("not gzip data (bad magic number)")
            raw.seek(0)
            with gzip.GzipFile(fileobj=raw) as gz:
                while chunk := gz.read(CHUNK_BYTES):
                    size += len(chunk)
                    if first is None:
                        first = _first_time(tail + chunk)
                    tail = (tail + chunk)[-(1 << 16) :]
                    when = _last_time(tail)
                    last = when if when is not None else last
    except EOFError:
        return SegmentScan("truncated (ends before the gzip trailer)", first, last, size)
    except (OSError, zlib.error) as exc:
        return SegmentScan(str(exc) or type(exc).__name__, first, last, size)
    return SegmentScan(None, first, last, size)


def gzip_problem(path: Path) -> str | None:
    """Why ``path`` is not a complete gzip file, or None. Reads it fully (CRC check)."""
    return scan_segment(path).problem


def open_segment(segment: Segment | Path) -> Iterator[bytes]:
    """Physical lines of one file, gz or plain. A broken gz yields what it could."""
    path = segment.path if isinstance(segment, Segment) else segment
    return _lines(path, path.name.endswith(".gz"))


def _lines(path: Path, compressed: bool, stats: ParseStats | None = None) -> Iterator[bytes]:
    for batch in _line_batches(path, compressed, strip=False):
        yield from batch


def _line_batches(path: Path, compressed: bool, strip: bool) -> Iterator[list[bytes]]:
    """Lists of the physical lines of one file, cut as ``readline(MAX_LINE_BYTES)`` cuts them.

    Splitting big decompressed chunks in C is several times cheaper than a readline call per
    line. The chunk size matches the buffered reader this replaced, so a broken gz yields
    the same lines as before: those completed before the failing chunk, not the partial one.
    A gz file is inflated in a second thread (zlib lets go of the GIL while it works), so
    decompression and parsing use both cores.
    """
    try:
        with open_regular(path) as raw:
            chunks = _inflated_chunks(raw) if compressed else _plain_chunks(raw)
            try:
                carry = b""
                for chunk in chunks:
                    if chunk is None:  # the file broke here: drop the unfinished line
                        return
                    lines, carry = _cut(carry + chunk if carry else chunk, strip)
                    if lines:
                        yield lines
                if carry:
                    yield [carry]
            finally:
                chunks.close()  # stop the reader thread before the file closes
    except OSError:
        return


def _plain_chunks(raw: IO[bytes]) -> Iterator[bytes | None]:
    try:
        while chunk := raw.read(CHUNK_BYTES):
            yield chunk
    except OSError:
        yield None


#: decompressed chunks waiting for the parser (bounds memory to a few MiB)
_PREFETCH = 4


def _inflated_chunks(raw: IO[bytes]) -> Iterator[bytes | None]:
    """The decompressed chunks of a gz stream, read ahead by a worker thread; None marks a
    broken stream (truncated, bad CRC, not gzip)."""
    chunks: queue.Queue[bytes | None] = queue.Queue(_PREFETCH)
    stop = threading.Event()

    def put(item: bytes | None) -> bool:
        while not stop.is_set():
            try:
                chunks.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def inflate() -> None:
        try:
            with gzip.GzipFile(fileobj=raw) as stream:
                while chunk := stream.read(CHUNK_BYTES):
                    if not put(chunk):
                        return
        except (EOFError, OSError, ValueError, zlib.error):
            put(None)
            return
        put(b"")

    worker = threading.Thread(target=inflate, name="acore-doctor-gunzip", daemon=True)
    worker.start()
    try:
        while (chunk := chunks.get()) != b"":
            yield chunk
            if chunk is None:
                return
    finally:
        stop.set()
        worker.join()


def _cut(data: bytes, strip: bool) -> tuple[list[bytes], bytes]:
    """The complete lines at the start of ``data`` and the rest that waits for more data.

    ``strip`` drops each line's ``\n`` or ``\r\n`` the way the record parsers do.
    """
    limit = MAX_LINE_BYTES
    if strip:
        lines = data.split(b"\n")
        rest = lines.pop()
        if len(rest) < limit and (len(data) <= limit or max(map(len, lines)) < limit):
            if b"\r" in data:
                lines = [line[:-1] if line[-1:] == b"\r" else line for line in lines]
            return lines, rest
        return _cut_pieces(data, strip)
    end = data.rfind(b"\n") + 1
    rest = data[end:]
    if end and len(rest) < limit:
        body = data[:end] if rest else data
        if b"\r" in body:
            lines = body.split(b"\n")
            lines.pop()
            longest = 1 + (max(map(len, lines)) if end > limit else 0)
            lines = [line + b"\n" for line in lines]
        else:
            lines = body.splitlines(True)
            longest = max(map(len, lines)) if end > limit else 0
        if longest <= limit:
            return lines, rest
    return _cut_pieces(data, strip)


def _cut_pieces(data: bytes, strip: bool) -> tuple[list[bytes], bytes]:
    """:func:`_cut` when a line is longer than the limit: pieces as ``readline(limit)`` cuts."""
    limit = MAX_LINE_BYTES
    pieces = []
    pos, size = 0, len(data)
    while True:
        newline = data.find(b"\n", pos, pos + limit)
        if newline >= 0:
            pieces.append(data[pos : newline + 1])
            pos = newline + 1
        elif size - pos >= limit:
            pieces.append(data[pos : pos + limit])
            pos += limit
        else:
            break
    if strip:
        pieces = [strip_eol(piece) for piece in pieces]
    return pieces, data[pos:]


def read_lines(paths: list[Path]) -> Iterator[bytes]:
    """Physical lines of several files (gz or plain) in the given order."""
    for path in paths:
        yield from _lines(path, path.name.endswith(".gz"))


def read_line_batches(paths: list[Path]) -> Iterator[list[bytes]]:
    """The lines of :func:`read_lines` without their end-of-line, in lists."""
    for path in paths:
        yield from _line_batches(path, path.name.endswith(".gz"), strip=True)


def read_records(paths: list[Path], stats: ParseStats, fmt: str = "auto") -> Iterator[LogRecord]:
    """Records from several files in the given order, continuation lines attached."""

    def all_lines() -> Iterator[bytes]:
        for path in paths:
            yield from _lines(path, path.name.endswith(".gz"), stats)

    return iter_records(all_lines(), stats, fmt=fmt)


def records_since(records: Iterator[LogRecord], since: float | None) -> Iterator[LogRecord]:
    if since is None:
        yield from records
        return
    for record in records:
        if record.time is not None and record.time >= since:
            yield record


# -- journald -----------------------------------------------------------------------------
@dataclass(frozen=True)
class JournalResult:
    lines: list[bytes]
    error: str | None = None


def journalctl_available() -> bool:
    return shutil.which("journalctl") is not None


#: A ``journalctl -o json`` export given as a file is read whole; beyond this it is refused.
MAX_JOURNAL_FILE_BYTES = 512 * 1024 * 1024


def read_journal_file(path: Path) -> list[bytes]:
    """The lines of a journal export file (never a FIFO or device; at most
    MAX_JOURNAL_FILE_BYTES). Raises OSError saying why not."""
    return read_bounded(path, MAX_JOURNAL_FILE_BYTES).splitlines()


def read_journal(unit: str, since: float | None, timeout: float = 30.0) -> JournalResult:
    """``journalctl -u UNIT -o json`` since an epoch time (whole journal when None)."""
    cmd = ["journalctl", "-u", unit, "-o", "json", "--no-pager", "-q"]
    if since is not None:
        cmd += ["--since", time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(since))]
    try:
        proc = subprocess.run(cmd, capture_output=True, timeout=timeout, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return JournalResult([], f"journalctl failed: {exc}")
    if proc.returncode != 0:
        detail = proc.stderr.decode("utf-8", errors="replace").strip().splitlines()
        return JournalResult([], f"journalctl exited {proc.returncode}: {detail[:1]}")
    return JournalResult(proc.stdout.splitlines())
