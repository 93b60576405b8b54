"""Parse every line format acore_bot writes into records (deployment reference §4.2).

* text: ``YYYY-MM-DD HH:MM:SS[,mmm] - logger - LEVEL - message [trace_id=..., ...]``
  (``,mmm`` from the launcher path and old segments; the trace suffix when trace context is set);
* JSON lines (``LOG_FORMAT=json``) whose timestamp ends in the bot's invalid ``+00:00Z``;
* ``journalctl -o json`` entries, whose MESSAGE is one stdout/stderr line of the bot.

Lines without a header (tracebacks, aiohttp details) are continuation lines of the record
before them. Nothing here raises on bad input: huge lines are cut, binary and invalid UTF-8
lines are counted and decoded with replacement characters.
"""

from __future__ import annotations

import functools
import json
import re
import time
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import IO, Any

LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
LEVEL_RANK = {name: rank for rank, name in enumerate(LEVELS)}
#: syslog priorities journald records for stderr/stdout lines without a header of ours
_PRIORITY_LEVEL = {0: "CRITICAL", 1: "CRITICAL", 2: "CRITICAL", 3: "ERROR", 4: "WARNING"}

#: A physical line longer than this is cut (a DEBUG line can carry a whole Discord payload).
MAX_LINE_BYTES = 1 << 20
#: Only this much of a message is decoded and kept.
MAX_MESSAGE_BYTES = 8192
#: Continuation lines kept per record (the tail: a traceback ends with the exception).
MAX_CONTINUATION_LINES = 64
MAX_CONTINUATION_CHARS = 500

TRACEBACK_HEAD = "Traceback (most recent call last)"
_EXCEPTION_LINE = re.compile(r"^([A-Za-z_][\w.]*)(?::\s|:$|$)")


@dataclass(slots=True)
class LogRecord:
    """One log record: its header line plus the continuation lines that followed it."""

    time: float | None  # epoch seconds
    level: str
    logger: str
    message: str
    fmt: str  # "text" | "json" | "journal"
    #: the trace context, raw suffix text or JSON context (user and channel ids: never output)
    context: str | dict[str, str] | None = None
    continuation: deque[str] | None = None
    continuation_count: int = 0
    #: exception type named by a JSON record's ``exception`` object
    exception_type: str | None = None

    @property
    def trace(self) -> dict[str, str]:
        if isinstance(self.context, dict):
            return self.context
        trace: dict[str, str] = {}
        for part in (self.context or "").split(","):
            key, _, value = part.strip().partition("=")
            if key:
                trace[key] = value
        return trace

    def add_continuation(self, text: str) -> None:
        self.continuation_count += 1
        if self.continuation is None:
            self.continuation = deque(maxlen=MAX_CONTINUATION_LINES)
        self.continuation.append(text[:MAX_CONTINUATION_CHARS])

    @property
    def has_traceback(self) -> bool:
        return any(line.startswith(TRACEBACK_HEAD) for line in self.continuation or ())

    def traceback_type(self) -> str | None:
        """The exception type a traceback ends with (the last one of a chain), or None."""
        if self.exception_type:
            return self.exception_type
        if not self.has_traceback:
            return None
        for line in reversed(self.continuation or ()):
            if line[:1].isspace() or not line:
                continue
            match = _EXCEPTION_LINE.match(line)
            if match and not line.startswith(("Traceback", "During handling", "The above")):
                return match.group(1)
        return None

    def full_text(self) -> str:
        """Message and continuation lines, for signature matching."""
        if not self.continuation:
            return self.message
        return self.message + "\n" + "\n".join(self.continuation)


@dataclass
class ParseStats:
    """What the parser met besides records."""

    lines: int = 0
    continuation_lines: int = 0
    #: lines with no header before any record (or junk that is not text at all)
    orphan_lines: int = 0
    binary_lines: int = 0
    invalid_utf8_lines: int = 0
    huge_lines: int = 0

    def add(self, other: ParseStats) -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))


# -- time ---------------------------------------------------------------------------------
_minute_cache: dict[bytes, float] = {}


def local_minute_epoch(prefix: bytes) -> float | None:
    """Epoch of ``YYYY-MM-DD HH:MM`` read as local time (the bot's asctime), cached."""
    cached = _minute_cache.get(prefix)
    if cached is not None:
        return cached
    try:
        value = time.mktime(
            (
                int(prefix[0:4]),
                int(prefix[5:7]),
                int(prefix[8:10]),
                int(prefix[11:13]),
                int(prefix[14:16]),
                0,
                0,
                0,
                -1,
            )
        )
    except (ValueError, OverflowError):
        return None
    if len(_minute_cache) > 10_000:
        _minute_cache.clear()
    _minute_cache[prefix] = value
    return value


def text_time(line: bytes) -> float | None:
    """Epoch of a text line's ``YYYY-MM-DD HH:MM:SS[,mmm]`` prefix, or None."""
    if not is_text_header(line):
        return None
    minute = local_minute_epoch(line[:16])
    if minute is None:
        return None
    try:
        seconds = int(line[17:19])
        millis = int(line[20:23]) / 1000 if line[19:20] == b"," else 0.0
    except ValueError:
        return None
    return minute + seconds + millis


def iso_time(value: str) -> float | None:
    """Epoch of an ISO timestamp, accepting the bot's ``+00:00Z`` quirk."""
    text = value.strip()
    if text.endswith("Z") and len(text) > 6 and text[-7] in "+-" and text[-4] == ":":
        text = text[:-1]  # "+00:00Z" is not ISO-8601: the offset already says UTC
    try:
        return datetime.fromisoformat(text).timestamp()
    except ValueError:
        return None


def format_local(epoch: float | None) -> str:
    if epoch is None:
        return "?"
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(epoch))


def is_text_header(line: bytes) -> bool:
    return (
        len(line) >= 19
        and line[4:5] == b"-"
        and line[7:8] == b"-"
        and line[10:11] == b" "
        and line[13:14] == b":"
        and line[16:17] == b":"
        and line[:4].isdigit()
    )


# -- lines --------------------------------------------------------------------------------
def iter_lines(stream: IO[bytes], stats: ParseStats | None = None) -> Iterator[bytes]:
    """Physical lines, each cut at :data:`MAX_LINE_BYTES` (the rest of a monster line comes
    as further pieces, which the record parser treats as continuation lines).

    Lines keep their end-of-line; :func:`iter_records` strips it. ``stats`` is accepted for
    symmetry; huge lines are counted where messages are decoded.
    """
    return iter(functools.partial(stream.readline, MAX_LINE_BYTES), b"")


def strip_eol(line: bytes) -> bytes:
    """A physical line without its ``\\n`` or ``\\r\\n`` (a cut piece of a huge line has none)."""
    if line[-1:] == b"\n":
        return line[:-2] if line[-2:-1] == b"\r" else line[:-1]
    return line


def decode(raw: bytes, stats: ParseStats) -> str:
    if len(raw) > MAX_MESSAGE_BYTES:
        stats.huge_lines += 1
        raw = raw[:MAX_MESSAGE_BYTES]
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        stats.invalid_utf8_lines += 1
        return raw.decode("utf-8", errors="replace")


def split_trace(message: str) -> tuple[str, str | None]:
    """Cut the ``[trace_id=..., user_id=...]`` suffix off; return it as raw text."""
    stripped = message.rstrip()
    at = stripped.rfind(" [trace_id=")
    if at < 0 or not stripped.endswith("]") or "]" in stripped[at:-1]:
        return message, None
    return stripped[:at].rstrip(), stripped[at + 2 : -1]


TEXT_HEADER = re.compile(
    rb"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)(?:,(\d{3}))? - (.*?) - (DEBUG|INFO|WARNING|ERROR|CRITICAL) - ?"
)
_second_cache: dict[bytes, float | None] = {}
_logger_cache: dict[bytes, str] = {}


def _second_epoch(stamp: bytes) -> float | None:
    minute = local_minute_epoch(stamp[:16])
    value = None if minute is None else minute + int(stamp[17:19])
    if len(_second_cache) > 10_000:
        _second_cache.clear()
    _second_cache[stamp] = value
    return value


LEVEL_STR = {name.encode(): name for name in LEVELS}


def parse_text(line: bytes, stats: ParseStats) -> LogRecord | None:
    """A text header line as a record, or None when ``line`` is not one."""
    match = TEXT_HEADER.match(line)
    return None if match is None else text_record(line, match, stats)


def stamp_time(stamp: bytes, millis: bytes | None) -> float | None:
    """Epoch of a header's ``YYYY-MM-DD HH:MM:SS`` and optional ``mmm`` (local time)."""
    when = _second_cache.get(stamp, 0.0)
    if when == 0.0:
        when = _second_epoch(stamp)
    if millis and when is not None:
        when += int(millis) / 1000
    return when


def text_record(line: bytes, match: re.Match[bytes], stats: ParseStats) -> LogRecord:
    """The record of a line :data:`TEXT_HEADER` matched."""
    stamp, millis, logger_raw, level = match.groups()
    return header_record(line, match.end(), stamp, millis, logger_raw, level, stats)


def header_record(
    line: bytes,
    end: int,
    stamp: bytes,
    millis: bytes | None,
    logger_raw: bytes,
    level: bytes,
    stats: ParseStats,
) -> LogRecord:
    """The record of a text header line cut into its parts; the message starts at ``end``."""
    when = stamp_time(stamp, millis)
    raw = line[end:]
    if len(raw) > MAX_MESSAGE_BYTES:
        message = decode(raw, stats)
    else:
        try:
            message = raw.decode()
        except UnicodeDecodeError:
            message = decode(raw, stats)
    context = None
    if message[-1:] == "]" and "[trace_id=" in message:
        message, context = split_trace(message)
    logger = _logger_cache.get(logger_raw)
    if logger is None:
        logger = logger_raw.decode(errors="replace")
        if len(_logger_cache) < 10_000:
            _logger_cache[logger_raw] = logger
    return LogRecord(when, LEVEL_STR[level], logger, message, "text", context)


def parse_json(line: bytes, stats: ParseStats) -> LogRecord | None:
    """A ``LOG_FORMAT=json`` line as a record, or None."""
    try:
        data = json.loads(decode(line, stats) if len(line) > MAX_MESSAGE_BYTES else line)
    except (ValueError, RecursionError):
        return None
    if not isinstance(data, dict) or "message" not in data or "level" not in data:
        return None
    level = str(data.get("level", "")).upper()
    if level not in LEVEL_RANK:
        return None
    ts = data.get("timestamp")
    message = str(data.get("message", ""))[:MAX_MESSAGE_BYTES]
    record = LogRecord(
        iso_time(ts) if isinstance(ts, str) else None,
        level,
        str(data.get("logger", "")),
        message,
        "json",
    )
    context = data.get("context")
    trace = {str(k): str(v) for k, v in context.items()} if isinstance(context, dict) else {}
    if data.get("trace_id"):
        trace["trace_id"] = str(data["trace_id"])
    record.context = trace or None
    exception = data.get("exception")
    if isinstance(exception, dict):
        record.exception_type = str(exception.get("type") or "") or None
        tb = exception.get("traceback")
        if isinstance(tb, list):
            for entry in tb:
                for text in str(entry).splitlines():
                    record.add_continuation(text)
    return record


def line_time(line: bytes) -> float | None:
    """The time of a header line (text or JSON), or None for any other line."""
    if line[:1] == b"{":
        record = parse_json(line, ParseStats())
        return record.time if record else None
    return text_time(line)


def parse_header(line: bytes, stats: ParseStats) -> LogRecord | None:
    if line[:1] == b"{":
        return parse_json(line, stats)
    return parse_text(line, stats)


def is_binary(line: bytes) -> bool:
    return b"\x00" in line


def iter_records(
    lines: Iterable[bytes], stats: ParseStats | None = None, fmt: str = "auto"
) -> Iterator[LogRecord]:
    """Records from physical lines; ``fmt="journal"`` reads ``journalctl -o json`` lines."""
    stats = stats if stats is not None else ParseStats()
    if fmt == "journal":
        yield from _journal_records(lines, stats)
        return
    current: LogRecord | None = None
    header = TEXT_HEADER.match
    count = 0
    for line in lines:
        count += 1
        if line[-1:] == b"\n":
            line = line[:-2] if line[-2:-1] == b"\r" else line[:-1]
        match = header(line)
        if match is not None:
            if current is not None:
                yield current
            current = text_record(line, match, stats)
            continue
        record = parse_json(line, stats) if line[:1] == b"{" else None
        if record is not None:
            if current is not None:
                yield current
            current = record
            continue
        if is_binary(line):
            stats.binary_lines += 1
            continue
        if current is None:
            stats.orphan_lines += 1
            continue
        stats.continuation_lines += 1
        current.add_continuation(decode(line, stats))
    stats.lines += count
    if current is not None:
        yield current


# -- journald -----------------------------------------------------------------------------
def _journal_message(entry: dict[str, Any]) -> bytes | None:
    message = entry.get("MESSAGE")
    if isinstance(message, str):
        return message.encode("utf-8", errors="replace")
    if isinstance(message, list):  # journald exports non-UTF-8 messages as a byte array
        try:
            return bytes(int(b) & 0xFF for b in message)
        except (TypeError, ValueError):
            return None
    return None


def _journal_records(lines: Iterable[bytes], stats: ParseStats) -> Iterator[LogRecord]:
    """One journal entry per line the bot printed; entries without our header continue a record."""
    current: LogRecord | None = None
    for line in lines:
        stats.lines += 1
        try:
            entry = json.loads(line)
        except (ValueError, RecursionError):
            stats.orphan_lines += 1
            continue
        if not isinstance(entry, dict):
            stats.orphan_lines += 1
            continue
        raw = _journal_message(entry)
        if raw is None:
            stats.orphan_lines += 1
            continue
        try:
            when = int(entry.get("__REALTIME_TIMESTAMP", "")) / 1_000_000
        except (TypeError, ValueError):
            when = None
        for physical in raw.splitlines() or [b""]:
            record = parse_header(physical, stats)
            if record is not None:
                record.fmt = "journal"
                if record.time is None:
                    record.time = when
                if current is not None:
                    yield current
                current = record
                continue
            if is_binary(physical):
                stats.binary_lines += 1
                continue
            text = decode(physical, stats)
            if current is not None:
                stats.continuation_lines += 1
                current.add_continuation(text)
                continue
            # A bare line before any record of ours (e.g. a crash before logging was set up).
            priority = _priority(entry)
            level = _PRIORITY_LEVEL.get(6 if priority is None else priority, "INFO")
            name = str(entry.get("SYSLOG_IDENTIFIER") or entry.get("_COMM") or "journal")
            current = LogRecord(when, level, name, text, "journal")
    if current is not None:
        yield current


def _priority(entry: dict[str, Any]) -> int | None:
    try:
        return int(entry.get("PRIORITY"))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
