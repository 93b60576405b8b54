"""Read only the recent window of a log: the last N minutes before its newest record.

The live file is searched from its end (a binary search over byte offsets on the records'
timestamps), so the cost of a check follows the window, not the file's total size. Rotated
segments are only opened when the window reaches back past the live file's first record,
and each is bounded by LOG_MAX_BYTES. The window ends at the newest record rather than at
"now": for a bot that died an hour ago, the minutes before it died are what matter.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from acore_doctor.logs.analyzer import Analyzer, LogAnalysis
from acore_doctor.logs.parse import ParseStats, iter_lines, iter_records, line_time
from acore_doctor.logs.sources import LogFiles, open_segment, records_since
from acore_doctor.saferead import open_regular

BLOCK = 64 * 1024
#: How far to look for a record header from a probe point before giving up on it.
MAX_SCAN_BYTES = 8 * 1024 * 1024
#: A window larger than this is cut (its newest part is read) and marked truncated.
MAX_WINDOW_BYTES = 256 * 1024 * 1024


@dataclass
class WindowFacts:
    """The recent window of a log and the analysis of it."""

    source: str
    minutes: float
    analysis: LogAnalysis
    start: float | None = None
    end: float | None = None
    bytes_read: int = 0
    truncated: bool = False
    segments_read: list[str] = field(default_factory=list)
    #: why there is no window (no file, empty file, no timestamps), or None
    problem: str | None = None


def last_record_time(f: IO[bytes], size: int, max_back: int = MAX_SCAN_BYTES) -> float | None:
    """Time of the newest header line, reading backwards from the end."""
    end = size
    carry = b""
    while end > 0 and size - end < max_back:
        start = max(0, end - BLOCK)
        f.seek(start)
        chunk = f.read(end - start) + carry
        lines = chunk.split(b"\n")
        carry = lines[0] if start > 0 else b""
        for line in reversed(lines[1:] if start > 0 else lines):
            when = line_time(line.rstrip(b"\r"))
            if when is not None:
                return when
        end = start
    return None


def _next_header(f: IO[bytes], offset: int, limit: int) -> tuple[int, float] | None:
    """Position and time of the first header line starting at or after ``offset``."""
    f.seek(offset)
    pos = offset
    if offset > 0:  # we are probably mid-line: the next line starts after a newline
        f.seek(offset - 1)
        pos = offset - 1
    scanned = 0
    first = offset > 0
    while pos < limit and scanned < MAX_SCAN_BYTES:
        line = f.readline(MAX_SCAN_BYTES)
        if not line:
            return None
        start = pos
        pos += len(line)
        scanned += len(line)
        if first:
            first = False
            continue
        when = line_time(line.rstrip(b"\r\n"))
        if when is not None:
            return (start, when) if start < limit else None
    return None


def first_offset_at_or_after(f: IO[bytes], size: int, target: float) -> int:
    """Byte offset of the first record whose time is ``target`` or later (size when none)."""
    lo, hi = 0, size
    while hi - lo > BLOCK:
        mid = (lo + hi) // 2
        found = _next_header(f, mid, hi)
        if found is None:
            hi = mid
        elif found[1] < target:
            lo = found[0] + 1
        else:
            hi = mid
    # Linear finish over at most one block (plus the line that straddles it).
    found = _next_header(f, lo, size) if lo > 0 else _first_header(f, size)
    while found is not None and found[1] < target:
        found = _next_header(f, found[0] + 1, size)
    return found[0] if found is not None else size


def _first_header(f: IO[bytes], size: int) -> tuple[int, float] | None:
    f.seek(0)
    pos = 0
    while pos < size and pos < MAX_SCAN_BYTES:
        line = f.readline(MAX_SCAN_BYTES)
        if not line:
            return None
        when = line_time(line.rstrip(b"\r\n"))
        if when is not None:
            return pos, when
        pos += len(line)
    return None


def read_file_window(
    files: LogFiles,
    minutes: float,
    crash_window_s: float = 600.0,
    max_bytes: int = MAX_WINDOW_BYTES,
    progress: Callable[[int], None] | None = None,
) -> WindowFacts:
    """Analyze the last ``minutes`` of the live file (and older segments if the window needs them)."""
    analyzer = Analyzer(crash_window_s=crash_window_s, progress=progress)
    facts = WindowFacts(str(files.live), minutes, analyzer.result)
    end, problem = newest_record_time(files)
    if end is None:
        facts.problem = problem
        return facts
    read_file_span(files, end - minutes * 60, None, analyzer, facts, max_bytes)
    facts.end = end
    return facts


def newest_record_time(files: LogFiles) -> tuple[float | None, str | None]:
    """The newest record's time (live file, else the newest segment), or why there is none."""
    if not files.live_exists and not files.segments:
        return None, f"no log file at {files.live}"
    end = None
    if files.live_exists:
        try:
            with open_regular(files.live) as live:
                end = last_record_time(live, files.live_size)
        except OSError as exc:
            return None, f"cannot read {files.live}: {exc.strerror or exc}"
    if end is None:
        # An empty or just-rotated live file: the newest records are in bot.log.1.gz.
        for segment in files.segments[:1]:
            for record in iter_records(open_segment(segment), ParseStats()):
                if record.time is not None:
                    end = record.time if end is None else max(end, record.time)
    if end is None:
        return None, f"no timestamped record in {files.live} or its newest segment"
    return end, None


def oldest_record_time(files: LogFiles) -> float | None:
    """Time of the first record of the oldest segment (or of the live file)."""
    for segment in files.in_time_order():
        for record in iter_records(open_segment(segment), ParseStats()):
            if record.time is not None:
                return record.time
    return None


def read_file_span(
    files: LogFiles,
    start: float,
    stop: float | None,
    analyzer: Analyzer | None = None,
    facts: WindowFacts | None = None,
    max_bytes: int = MAX_WINDOW_BYTES,
) -> WindowFacts:
    """Analyze records from ``start`` to ``stop`` (to the end when None): the live file is
    entered by binary search; rotated segments only when the span reaches before it."""
    analyzer = analyzer or Analyzer()
    if facts is None:
        facts = WindowFacts(str(files.live), 0.0, analyzer.result)
    facts.start, facts.end = start, stop
    facts.minutes = facts.minutes or ((stop or start) - start) / 60
    stats = analyzer.result.parse
    live = None
    try:
        if files.live_exists:
            try:
                live = open_regular(files.live)
            except OSError as exc:
                facts.problem = f"cannot read {files.live}: {exc.strerror or exc}"
                return facts
        offset = files.live_size
        if live is not None:
            offset = first_offset_at_or_after(live, files.live_size, start)
            if files.live_size - offset > max_bytes:
                offset, facts.truncated = files.live_size - max_bytes, True
        chosen = []
        if live is None or (offset == 0 and not facts.truncated):
            for segment in files.segments:  # newest rotated first
                # A segment's mtime is when it was rotated out: it ends there.
                if segment.mtime < start:
                    break
                chosen.append(segment)
        for segment in reversed(chosen):
            facts.segments_read.append(segment.path.name)
            facts.bytes_read += segment.size
            analyzer.feed_lines(_until(open_segment(segment), stop), stats, since=start)
        if live is not None and offset < files.live_size:
            live.seek(offset)
            facts.bytes_read += files.live_size - offset
            facts.segments_read.append(files.live.name)
            lines = _until(_bounded(live, files.live_size - offset, stats), stop)
            analyzer.feed_lines(lines, stats, since=start)
    finally:
        if live is not None:
            live.close()
    return facts


def _until(lines: Iterator[bytes], stop: float | None) -> Iterator[bytes]:
    """Lines up to the first record newer than ``stop``."""
    if stop is None:
        yield from lines
        return
    for line in lines:
        if line[:1] in b"0123456789{":
            when = line_time(line.rstrip(b"\r\n"))
            if when is not None and when > stop:
                return
        yield line


def _bounded(f: IO[bytes], length: int, stats: ParseStats) -> Iterator[bytes]:
    """Lines of ``f`` from its position, stopping at ``length`` bytes (a live file grows)."""
    remaining = length
    for line in iter_lines(f, stats):
        yield line
        remaining -= len(line)
        if remaining <= 0:
            return


def read_journal_window(
    lines: list[bytes], minutes: float, source: str, crash_window_s: float = 600.0
) -> WindowFacts:
    """The last ``minutes`` of ``journalctl -o json`` lines (two passes: they are in memory)."""
    analyzer = Analyzer(crash_window_s=crash_window_s)
    facts = WindowFacts(source, minutes, analyzer.result)
    end = None
    for record in iter_records(lines, ParseStats(), fmt="journal"):
        if record.time is not None:
            end = record.time if end is None else max(end, record.time)
    if end is None:
        facts.problem = f"no timestamped entry in {source}"
        return facts
    facts.start, facts.end = end - minutes * 60, end
    facts.bytes_read = sum(len(line) + 1 for line in lines)
    records = iter_records(lines, analyzer.result.parse, fmt="journal")
    analyzer.feed_all(records_since(records, facts.start))
    return facts


def file_size(path: Path) -> int:
    try:
        return os.stat(path).st_size
    except OSError:
        return 0
