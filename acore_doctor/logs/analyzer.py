"""Streaming log analysis: one pass over records, memory bounded whatever the input size.

The analyzer states facts (counts, peaks, markers, signature hits); the checks and the
``logs`` command judge them. Only WARNING and above are mined into templates: they are what a
reader acts on, and masking every DEBUG line would cost most of the time for nothing.
"""

from __future__ import annotations

import math
import operator
import re
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from acore_doctor.logs.masking import CONTENT_PREFIXES, sample_of, template_of
from acore_doctor.logs.parse import (
    LEVEL_RANK,
    LEVEL_STR,
    LEVELS,
    MAX_MESSAGE_BYTES,
    LogRecord,
    ParseStats,
    decode,
    format_local,
    header_record,
    parse_json,
    stamp_time,
    strip_eol,
)
from acore_doctor.logs.signatures import (
    FATAL_MARKERS,
    LEVEL_MARKER,
    READY_MARKERS,
    SIGNATURES,
    START_MARKERS,
    Signature,
)

#: Templates tracked per analysis; the rest are counted as "other".
MAX_TEMPLATES = 5000
MAX_LOGGERS = 500
_CACHE_LIMIT = 20_000
#: continuation texts are up to 64 x 500 characters: fewer of them keep memory flat
_CONTINUATION_CACHE_LIMIT = 500
_WARNING = LEVEL_RANK["WARNING"]
#: Messages that are never only counted: starts, ready markers, the logged level, and the
#: lines that carry conversation content (their count decides who may read the log).
_MARKERS = START_MARKERS + READY_MARKERS + (LEVEL_MARKER,) + CONTENT_PREFIXES
_LEVEL_WORDS = {name: name for name in LEVELS} | {"WARN": "WARNING", "FATAL": "CRITICAL"}
_MARKER_BYTES = tuple(m.encode() for m in _MARKERS)
_ERROR = LEVEL_RANK["ERROR"]


#: :data:`TEXT_HEADER` with the level split so ``lastindex`` tells a DEBUG/INFO record
#: (group 4 or 5) from a WARNING and above (group 6) without a call.
_HEADER = re.compile(
    rb"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)(?:,(\d{3}))? - (.*?) - "
    rb"(?:(DEBUG)|(INFO)|(WARNING|ERROR|CRITICAL)) - ?"
)
#: The same match as :data:`_HEADER` when the logger name has no space (lazy ``.*?`` then
#: stops at the first space anyway), found without trying ``" - LEVEL"`` at every character.
_HEADER_NO_SPACE = re.compile(
    rb"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)(?:,(\d{3}))? - ([^ \n]*) - "
    rb"(?:(DEBUG)|(INFO)|(WARNING|ERROR|CRITICAL)) - ?"
)
_HEAVY = 6
#: A DEBUG or INFO header whose logger has no space and whose message is no start or ready
#: marker (most lines): group 2 is ``logger - LEVEL``, the key the records are counted by.
_LIGHT_HEADER = re.compile(
    rb"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)(?:,\d{3})? - ([^ \n]*+ - (?:DEBUG|INFO)) - ?+(?!"
    + b"|".join(re.escape(marker) for marker in _MARKER_BYTES)
    + rb")"
)
_BATCH_LINES = 4096
#: The ``logger - LEVEL`` key of a :data:`_LIGHT_HEADER` match (called in C by ``map``).
_key_of = operator.itemgetter(2)


def _count_in_python(counts: dict[bytes, int], keys: Iterable[bytes]) -> None:
    for key in keys:
        counts[key] = counts.get(key, 0) + 1


try:  # what Counter.update runs, in C, without its checks on every call
    from collections import _count_elements  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - another Python implementation
    _count_elements = _count_in_python
#: Every digit to "0": copies of a message that differ only in numbers (attempt 17, 18, ...)
#: share one key, so a storm of 17 600 distinct lines is masked once, not 17 600 times.
_DIGITS_TO_ZERO = str.maketrans("123456789", "000000000")
#: A quantifier such as {1,80}: digits that say nothing about the text matched.
_QUANTIFIER = re.compile(r"\{\d*,?\d*\}")


def _needs_digits(signature: Signature) -> bool:
    """Whether a signature's pattern names digits (error code 30007, HTTP 429)."""
    return any(c.isdigit() for c in _QUANTIFIER.sub("", signature.pattern.pattern))


#: A word boundary in a pattern (not an escaped backslash followed by ``b``).
_WORD_BOUNDARY = re.compile(r"(?<!\\)((?:\\\\)*)\\b")


def _prefilter(signatures: tuple[Signature, ...]) -> re.Pattern[str]:
    """One pattern that matches wherever any of ``signatures`` may: a fast first test, each
    hit confirmed by the signature's own pattern.

    A search over alternatives that each start with a literal is fast in ``re`` (it skips
    positions that cannot start one); a group around an alternative or a leading ``\\b``
    makes it try every alternative at every position (40-60 us a message instead of a few).
    So the patterns are joined bare (alternation binds loosest: the same set of matches) and
    without word boundaries, which only lets more through to the confirming search.
    """
    if not signatures:
        return re.compile("(?!)")
    bare = "|".join(_WORD_BOUNDARY.sub(r"\1", s.pattern.pattern) for s in signatures)
    flags = {s.pattern.flags for s in signatures}
    try:
        if len(flags) == 1:
            return re.compile(bare, flags.pop() | re.M)
    except re.error:
        pass
    return re.compile("|".join(f"(?:{s.pattern.pattern})" for s in signatures), re.M)


def _text_record(match: re.Match[bytes], stats: ParseStats) -> LogRecord:
    stamp, millis, logger_raw, debug, info, heavy = match.groups()
    level = debug or info or heavy
    return header_record(match.string, match.end(), stamp, millis, logger_raw, level, stats)


def _header(line: bytes) -> re.Match[bytes]:
    """The :data:`_HEADER` match of a line known to be a text header."""
    match = _HEADER_NO_SPACE.match(line) or _HEADER.match(line)
    assert match is not None
    return match


def _light_key(match: re.Match[bytes]) -> bytes:
    return match.string[match.start(3) : match.end(match.lastindex or 0)]


def _stripped_batches(lines: Iterable[bytes]) -> Iterator[list[bytes]]:
    batch: list[bytes] = []
    for line in lines:
        batch.append(strip_eol(line))
        if len(batch) >= _BATCH_LINES:
            yield batch
            batch = []
    if batch:
        yield batch


@dataclass
class Occurrences:
    """How often something was seen, when, and one sample that is safe to show."""

    count: int = 0
    first: float | None = None
    last: float | None = None
    sample: str = ""
    #: the most copies in one calendar minute, and which minute
    peak_per_minute: int = 0
    peak_minute: float | None = None
    _minute: int | None = None
    _minute_count: int = 0

    def see(self, when: float | None, message: str) -> None:
        self.count += 1
        if self.first is None:
            self.first = when
            self.sample = sample_of(message)
        self.last = when if when is not None else self.last
        minute = int(when // 60) if when is not None else None
        if minute != self._minute:
            self._minute, self._minute_count = minute, 0
        self._minute_count += 1
        if self._minute_count > self.peak_per_minute:
            self.peak_per_minute = self._minute_count
            self.peak_minute = minute * 60.0 if minute is not None else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "count": self.count,
            "first": format_local(self.first),
            "last": format_local(self.last),
            "peak_per_minute": self.peak_per_minute,
            "peak_minute": format_local(self.peak_minute)[:16],
            "sample": self.sample,
        }


@dataclass
class TemplateStats(Occurrences):
    level: str = ""
    template: str = ""
    logger: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "level": self.level,
            "logger": self.logger,
            "template": self.template,
        } | super().to_dict()


@dataclass
class LogAnalysis:
    """Everything one pass over a window of records found."""

    crash_window_s: float = 600.0
    parse: ParseStats = field(default_factory=ParseStats)
    sources: list[str] = field(default_factory=list)
    first_time: float | None = None
    last_time: float | None = None
    records: int = 0
    records_by_level: Counter[str] = field(default_factory=Counter)
    continuation_by_level: Counter[str] = field(default_factory=Counter)
    loggers: Counter[str] = field(default_factory=Counter)
    templates: dict[tuple[str, str], TemplateStats] = field(default_factory=dict)
    other_template_records: int = 0
    errors_per_minute: Occurrences = field(default_factory=Occurrences)
    tracebacks: Counter[str] = field(default_factory=Counter)
    starts: list[float] = field(default_factory=list)
    ready_markers: int = 0
    first_ready: float | None = None
    last_start: float | None = None
    ready_since_last_start: float | None = None
    fatal_since_last_start: Occurrences = field(default_factory=Occurrences)
    max_starts_in_crash_window: int = 0
    max_starts_window_end: float | None = None
    signatures: dict[str, Occurrences] = field(default_factory=dict)
    #: the cause the newest hit of a signature names in its own line (see Signature.causes)
    signature_causes: dict[str, str] = field(default_factory=dict)
    #: the level the bot logged at its newest start (``Logging configured: Level=X``)
    logged_level: str | None = None
    logged_level_at: float | None = None
    #: lines that carry conversation content (reply previews, generated text, messages)
    user_content: Occurrences = field(default_factory=Occurrences)
    #: DEBUG records before the newest start marker (0 when none was seen)
    debug_before_last_start: int = 0

    # -- facts the checks read -----------------------------------------------------------
    @property
    def lines_by_level(self) -> dict[str, int]:
        """Physical lines per level: each record's header plus its continuation lines."""
        return {lvl: self.records_by_level[lvl] + self.continuation_by_level[lvl] for lvl in LEVELS}

    @property
    def debug_since_last_start(self) -> int:
        """DEBUG records after the newest start marker (all of them when none was seen)."""
        return self.records_by_level["DEBUG"] - self.debug_before_last_start

    @property
    def error_records(self) -> int:
        return self.records_by_level["ERROR"] + self.records_by_level["CRITICAL"]

    @property
    def error_share(self) -> float:
        """ERROR and CRITICAL records as a fraction of all records."""
        return self.error_records / self.records if self.records else 0.0

    def flooding_templates(self, per_minute: int) -> list[TemplateStats]:
        """ERROR+ templates that repeated more than ``per_minute`` times in one minute."""
        return sorted(
            (
                t
                for t in self.templates.values()
                if LEVEL_RANK[t.level] >= _ERROR and t.peak_per_minute > per_minute
            ),
            key=lambda t: -t.peak_per_minute,
        )

    def top_templates(self, level: str, limit: int = 10) -> list[TemplateStats]:
        chosen = [t for t in self.templates.values() if t.level == level]
        return sorted(chosen, key=lambda t: -t.count)[:limit]

    def signature_hits(self, signature: Signature) -> Occurrences | None:
        hits = self.signatures.get(signature.key)
        if hits is None or hits.count < signature.min_count:
            return None
        return hits

    def template_keys(self) -> set[str]:
        return {f"{level} {template}" for level, template in self.templates}

    def to_dict(self, top: int = 10) -> dict[str, Any]:
        return {
            "sources": list(self.sources),
            "window": {
                "first": format_local(self.first_time),
                "last": format_local(self.last_time),
            },
            "records": self.records,
            "records_by_level": {lvl: self.records_by_level[lvl] for lvl in LEVELS},
            "lines_by_level": self.lines_by_level,
            "parse": dict(self.parse.__dict__),
            "error_share": round(self.error_share, 5),
            "errors_per_minute": {
                "peak": self.errors_per_minute.peak_per_minute,
                "peak_minute": format_local(self.errors_per_minute.peak_minute)[:16],
            },
            "top_error_templates": [
                t.to_dict() for lvl in ("CRITICAL", "ERROR") for t in self.top_templates(lvl, top)
            ][:top],
            "top_warning_templates": [t.to_dict() for t in self.top_templates("WARNING", top)],
            "other_template_records": self.other_template_records,
            "tracebacks": dict(self.tracebacks.most_common(top)),
            "starts": len(self.starts),
            "ready_markers": self.ready_markers,
            "last_start": format_local(self.last_start) if self.last_start else None,
            "ready_since_last_start": self.ready_since_last_start is not None,
            "fatal_since_last_start": self.fatal_since_last_start.count,
            "max_starts_in_crash_window": self.max_starts_in_crash_window,
            "crash_window_minutes": self.crash_window_s / 60,
            "noisiest_loggers": dict(self.loggers.most_common(top)),
            "signatures": {k: v.to_dict() for k, v in sorted(self.signatures.items())},
            "logged_level": self.logged_level,
            "user_content_lines": self.user_content.count,
            "debug_since_last_start": self.debug_since_last_start,
        }


class Analyzer:
    """Feed records in time order; read :attr:`result`."""

    def __init__(
        self,
        crash_window_s: float = 600.0,
        signatures: tuple[Signature, ...] = SIGNATURES,
        progress: Callable[[int], None] | None = None,
    ) -> None:
        self.result = LogAnalysis(crash_window_s=crash_window_s)
        self.signatures = signatures
        self._recent_starts: deque[float] = deque()
        # One search over all patterns first: most messages match none.
        self._any = _prefilter(signatures)
        # Patterns without digits match a message exactly when they match its digit-zeroed
        # key, so their result is shared by all copies; the few with digits see each message.
        self._digit_signatures = tuple(s for s in signatures if _needs_digits(s))
        self._plain_signatures = tuple(s for s in signatures if not _needs_digits(s))
        self._any_digits = _prefilter(self._digit_signatures)
        self._any_plain = _prefilter(self._plain_signatures)
        self._cache: dict[tuple[str, str], tuple[str, tuple[Signature, ...]]] = {}
        self._by_shape: dict[tuple[str, str], tuple[str, tuple[Signature, ...]]] = {}
        self._continuation_cache: dict[tuple[int, str], tuple[Signature, ...]] = {}
        self._progress = progress
        #: the counted (light) records of the batch being fed, not yet in the result
        self._light_counts: dict[bytes, int] = {}

    def feed_lines(
        self, lines: Iterable[bytes], stats: ParseStats | None = None, since: float | None = None
    ) -> LogAnalysis:
        """Physical lines (with their end-of-line) in time order; see :meth:`feed_batches`."""
        return self.feed_batches(_stripped_batches(lines), stats, since)

    def feed_batches(
        self,
        batches: Iterable[list[bytes]],
        stats: ParseStats | None = None,
        since: float | None = None,
    ) -> LogAnalysis:
        """Lists of physical lines without end-of-line, in time order: the fast path, same
        result as feeding records.

        DEBUG and INFO text records that carry no marker are only counted, without building
        a record object (they are most of a log); everything else goes through
        :meth:`feed`. A counted record that turns out to have continuation lines is rebuilt
        and fed properly.
        """
        stats = stats if stats is not None else self.result.parse
        result = self.result
        light_header = _LIGHT_HEADER.match
        quick_header, full_header = _HEADER_NO_SPACE.match, _HEADER.match
        heavy = _HEAVY
        # b"logger - LEVEL" of the counted records, in the order they first appeared
        light_counts: Counter[bytes] = Counter()
        self._light_counts = light_counts  # a start marker reads the DEBUG records so far
        since_floor = None if since is None else float(math.floor(since))
        cutoff = (
            None
            if since is None
            else time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(since_floor)).encode()
        )
        pending: LogRecord | None = None
        # the line of the last counted record while no other record followed it
        light: bytes | None = None
        first_light: bytes | None = None
        max_bytes = MAX_MESSAGE_BYTES
        markers = _MARKER_BYTES
        skipping = False
        count = 0
        light_count = 0
        next_progress = 0x10000
        progress = self._progress
        for batch in batches:
            done = count
            if progress is not None and done:
                progress(done)  # once per batch: a line of progress on a terminal
            count += len(batch)
            # Most lines are DEBUG/INFO records without a marker: match the whole batch in C,
            # then count each run of such lines at once (map and Counter.update loop in C);
            # only the other lines (and every line of a window read, for its cutoff) are
            # looked at one by one below.
            matches = list(map(light_header, batch))
            size = len(batch)
            any_huge = size and max(map(len, batch)) > max_bytes
            at = 0
            while at < size:
                try:
                    stop = matches.index(None, at)
                except ValueError:
                    stop = size
                if stop > at and cutoff is None:  # a run of counted records
                    if pending is not None:
                        self.feed(pending)
                        pending = None
                    skipping = False
                    _count_elements(light_counts, map(_key_of, matches[at:stop]))
                    if first_light is None:
                        first_light = batch[at]
                    light = batch[stop - 1]
                    if any_huge:
                        for match in matches[at:stop]:
                            line = match.string
                            if len(line) > max_bytes and len(line) - match.end() > max_bytes:
                                stats.huge_lines += 1
                    if progress is not None:
                        light_count += stop - at
                        if light_count >= next_progress:
                            next_progress += 0x10000
                            progress(done + stop)
                    at = stop
                    if at == size:
                        break
                for index in range(at, stop + 1 if cutoff is None else size):
                    if cutoff is None and index == size:
                        break
                    line = batch[index]
                    match = matches[index]
                    if match is not None:
                        key = match[2]
                    else:
                        match = quick_header(line) or full_header(line)
                        if match is not None:
                            kind = match.lastindex
                            if kind == heavy or line.startswith(markers, match.end()):
                                if pending is not None:
                                    self.feed(pending)
                                light = None
                                skipping = cutoff is not None and match[1] < cutoff
                                pending = None if skipping else _text_record(match, stats)
                                continue
                            key = line[match.start(3) : match.end(kind)]
                    if match is not None:  # a DEBUG or INFO record without a marker: count it
                        if pending is not None:
                            self.feed(pending)
                            pending = None
                        if cutoff is not None and match[1] < cutoff:
                            light = None
                            skipping = True
                            continue
                        skipping = False
                        light_counts[key] += 1
                        if first_light is None:
                            first_light = line
                        light = line
                        if len(line) > max_bytes and len(line) - match.end() > max_bytes:
                            stats.huge_lines += 1
                        if progress is not None:
                            light_count += 1
                            if light_count >= next_progress:
                                next_progress += 0x10000
                                progress(done + index + 1)
                        continue
                    if line[:1] == b"{":
                        record = parse_json(line, stats)
                        if record is not None:
                            if pending is not None:
                                self.feed(pending)
                            light = None
                            skipping = (
                                since_floor is not None
                                and record.time is not None
                                and record.time < since_floor
                            )
                            pending = None if skipping else record
                            continue
                    if skipping:
                        continue
                    if b"\x00" in line:
                        stats.binary_lines += 1
                        continue
                    if light is not None:  # a counted record has continuation lines after all
                        found = _header(light)
                        light_counts[_light_key(found)] -= 1
                        if len(light) - found.end() > max_bytes:  # decoding counts it again
                            stats.huge_lines -= 1
                        pending = _text_record(found, stats)
                        light = None
                    if pending is None:
                        stats.orphan_lines += 1
                        continue
                    stats.continuation_lines += 1
                    pending.add_continuation(decode(line, stats))
                at = stop + 1 if cutoff is None else size
        if pending is not None:
            self.feed(pending)
        stats.lines += count
        self._light_counts = {}
        by_level = result.records_by_level
        logger_hits: dict[bytes, int] = {}
        for key, hits in light_counts.items():
            name, _, level_raw = key.rpartition(b" - ")
            by_level[LEVEL_STR[level_raw]] += hits
            logger_hits[name] = logger_hits.get(name, 0) + hits
        result.records += sum(logger_hits.values())
        loggers = result.loggers
        for name, hits in logger_hits.items():
            key = name.decode(errors="replace")
            if hits and (key in loggers or len(loggers) < MAX_LOGGERS):
                loggers[key] += hits
        last_light = light if light is not None else None
        for found, pick in ((first_light, min), (last_light, max)):
            if found is None:
                continue
            header = _header(found)
            when = stamp_time(header[1], header[2])
            if when is None:
                continue
            attr = "first_time" if pick is min else "last_time"
            current = getattr(result, attr)
            setattr(result, attr, when if current is None else pick(current, when))
        return result

    def feed_all(self, records: Iterable[LogRecord]) -> LogAnalysis:
        progress = self._progress
        feed = self.feed
        for count, record in enumerate(records, 1):
            feed(record)
            if progress is not None and not count & 0x3FFF:
                progress(count)
        return self.result

    def feed(self, record: LogRecord) -> None:
        result = self.result
        when = record.time
        if when is None:
            when = result.last_time
        else:
            result.last_time = when
            if result.first_time is None:
                result.first_time = when
        level = record.level
        result.records += 1
        result.records_by_level[level] += 1
        extra_lines = record.continuation_count
        if extra_lines:
            result.continuation_by_level[level] += extra_lines
        logger = record.logger
        loggers = result.loggers
        if logger in loggers:
            loggers[logger] += 1
        elif len(loggers) < MAX_LOGGERS:
            loggers[logger] = 1
        message = record.message
        if message.startswith(_MARKERS):
            if message.startswith(START_MARKERS):
                self._start(when)
            elif message.startswith(READY_MARKERS):
                result.ready_markers += 1
                if result.first_ready is None:
                    result.first_ready = when
                if result.ready_since_last_start is None:
                    result.ready_since_last_start = when
            elif message.startswith(LEVEL_MARKER):
                word = message[len(LEVEL_MARKER) :].split(",", 1)[0].strip().upper()
                result.logged_level = _LEVEL_WORDS.get(word, word[:20])
                result.logged_level_at = when
            else:
                result.user_content.see(when, message)
        rank = LEVEL_RANK[level]
        if extra_lines:
            exc = record.traceback_type()
            if exc:
                result.tracebacks[exc] += 1
        elif record.exception_type:
            result.tracebacks[record.exception_type] += 1
        if rank < _WARNING and not extra_lines:
            return
        if rank >= _ERROR:
            result.errors_per_minute.see(when, "")
            if message.startswith(FATAL_MARKERS) and result.last_start is not None:
                result.fatal_since_last_start.see(when, message)
        self._match(record, when, rank)

    def _start(self, when: float | None) -> None:
        result = self.result
        result.starts.append(when or 0.0)
        if len(result.starts) > 10_000:  # keep memory flat; counts stay right via the total
            del result.starts[:5000]
        result.last_start = when
        result.debug_before_last_start = result.records_by_level["DEBUG"] + sum(
            hits for key, hits in self._light_counts.items() if key.endswith(b" - DEBUG")
        )
        result.ready_since_last_start = None
        result.fatal_since_last_start = Occurrences()
        if when is None:
            return
        recent = self._recent_starts
        recent.append(when)
        while recent and recent[0] < when - result.crash_window_s:
            recent.popleft()
        if len(recent) > result.max_starts_in_crash_window:
            result.max_starts_in_crash_window = len(recent)
            result.max_starts_window_end = when

    def _signatures_in(self, text: str, rank: int) -> tuple[Signature, ...]:
        if not self._any.search(text):
            return ()
        return tuple(s for s in self.signatures if rank >= s.min_rank and s.pattern.search(text))

    def _shape_of(self, level: str, message: str, rank: int) -> tuple[str, tuple[Signature, ...]]:
        """Template and signatures of a message not seen before; the template and the
        digit-free signatures come from the first copy with the same digit-zeroed key."""
        shape_key = (level, message.translate(_DIGITS_TO_ZERO))
        shape = self._by_shape.get(shape_key)
        if shape is None:
            plain: tuple[Signature, ...] = ()
            if self._any_plain.search(message):
                plain = tuple(
                    s
                    for s in self._plain_signatures
                    if rank >= s.min_rank and s.pattern.search(message)
                )
            shape = (template_of(message), plain)
            if len(self._by_shape) >= _CACHE_LIMIT:
                self._by_shape.clear()
            self._by_shape[shape_key] = shape
        template, matched = shape
        if self._any_digits.search(message):
            matched = tuple(
                s
                for s in self.signatures
                if s in matched
                or (
                    s in self._digit_signatures and rank >= s.min_rank and s.pattern.search(message)
                )
            )
        return template, matched

    def _match(self, record: LogRecord, when: float | None, rank: int) -> None:
        result = self.result
        message = record.message
        key = (record.level, message)
        cached = self._cache.get(key)
        if cached is None:
            cached = self._shape_of(record.level, message, rank)
            if len(self._cache) >= _CACHE_LIMIT:
                self._cache.clear()
            self._cache[key] = cached
        template, matched = cached
        if record.continuation_count:
            text = "\n".join(record.continuation or ())
            # Tracebacks repeat (one per reconnect): match each distinct one once.
            found = self._continuation_cache.get((rank, text))
            if found is None:
                found = self._signatures_in(text, rank)
                if len(self._continuation_cache) >= _CONTINUATION_CACHE_LIMIT:
                    self._continuation_cache.clear()
                self._continuation_cache[(rank, text)] = found
            matched = matched + tuple(s for s in found if s not in matched)
        for signature in matched:
            hits = result.signatures.get(signature.key)
            if hits is None:
                hits = result.signatures[signature.key] = Occurrences()
            hits.see(when, message)
            if signature.causes:
                result.signature_causes[signature.key] = signature.cause_of(record.logger, message)
        if rank < _WARNING:
            return
        stats = result.templates.get((record.level, template))
        if stats is None:
            if len(result.templates) >= MAX_TEMPLATES:
                result.other_template_records += 1
                return
            stats = result.templates[(record.level, template)] = TemplateStats(
                level=record.level, template=template, logger=record.logger
            )
        stats.see(when, message)


def analyze(
    records: Iterable[LogRecord],
    crash_window_s: float = 600.0,
    progress: Callable[[int], None] | None = None,
) -> LogAnalysis:
    return Analyzer(crash_window_s=crash_window_s, progress=progress).feed_all(records)
