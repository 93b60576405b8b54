"""JSON documents read one top-level item at a time.

A chat history of 200 MB is a list of small messages: ``json.loads`` on it holds the bytes, the
text and every object at once (several times the file's size). Reading it item by item holds
one message at a time, so memory stays bounded by the largest item, and the same pass says
where a damaged document stops being valid: the complete items before that point are what a
repair can keep.

Only the top level is streamed (a list's elements, an object's members); each item is decoded
by the C decoder of :mod:`json`.
"""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, BinaryIO

from acore_doctor.progress import report as report_progress

CHUNK = 1024 * 1024
#: An item larger than this is not held in memory to be checked ("too large", not corrupt).
MAX_ITEM_CHARS = 64 * 1024 * 1024
_SPACE = re.compile(r"[ \t\n\r]*")
_DECODER = json.JSONDecoder()


class TooLarge(Exception):
    """One item is larger than the limit: the document was not checked, not found corrupt."""


class Invalid(Exception):
    """The document stops being valid JSON here."""


@dataclass
class Scan:
    container: str | None = None  # "list" | "object" | None for a lone scalar
    items: int = 0  # complete top-level items read
    error: str | None = None  # None: the whole document is valid JSON
    too_large: bool = False  # an item was over the limit: validity unknown

    @property
    def ok(self) -> bool:
        return self.error is None and not self.too_large


class _Reader:
    def __init__(self, handle: BinaryIO, chunk: int, max_item: int) -> None:
        self.handle = handle
        self.chunk = chunk
        self.max_item = max_item
        self.decoder = codecs.getincrementaldecoder("utf-8")()
        self.buf = ""
        self.pos = 0
        self.eof = False
        self.consumed = 0  # characters dropped from the front of buf

    def fill(self, at_least: int = 0) -> None:
        block = self.handle.read(max(self.chunk, at_least))
        if not block:
            self.eof = True
        try:
            text = self.decoder.decode(block, final=not block)
        except UnicodeDecodeError as exc:
            raise Invalid(f"not valid UTF-8 near byte {exc.start}") from exc
        if self.pos:
            self.consumed += self.pos
            self.buf = self.buf[self.pos :]
            self.pos = 0
        if not self.buf and text.startswith("\ufeff") and not self.consumed:
            text = text[1:]
        self.buf += text

    def peek(self) -> str:
        while True:
            self.pos = _SPACE.match(self.buf, self.pos).end()  # type: ignore[union-attr]
            if self.pos < len(self.buf) or self.eof:
                return self.buf[self.pos : self.pos + 1]
            self.fill()

    def value(self) -> Any:
        while True:
            self.peek()
            try:
                value, end = _DECODER.raw_decode(self.buf, self.pos)
            except json.JSONDecodeError as exc:
                # Cut off by the end of the buffer, or really broken? Only more text tells.
                cut = exc.msg.startswith("Unterminated string") or len(self.buf) - exc.pos < 64
                if self.eof or not cut:
                    raise Invalid(f"{exc.msg} (character {self.consumed + exc.pos})") from exc
                pending = len(self.buf) - self.pos
                if pending > self.max_item:
                    raise TooLarge(f"one item is over {self.max_item:,} characters") from exc
                self.fill(pending)  # doubling: a long item is re-parsed a few times, not n
                continue
            except RecursionError as exc:
                raise Invalid("nested too deeply to parse") from exc
            if end == len(self.buf) and not self.eof:
                self.fill()  # a number may go on in the next block
                continue
            self.pos = end
            return value

    def expect(self, char: str, what: str) -> None:
        if self.peek() != char:
            found = self.peek() or "the end of the file"
            raise Invalid(
                f"expected {what}, found {found!r} at character {self.consumed + self.pos}"
            )
        self.pos += 1


def _items(
    reader: _Reader, result: Scan, on_item: Callable[[str | None, Any], None] | None
) -> None:
    """The elements of a list or the members of an object, each handed on when complete."""
    members = result.container == "object"
    close = "}" if members else "]"
    reader.pos += 1
    if reader.peek() == close:
        reader.pos += 1
        return
    while True:
        key = None
        if members:
            if reader.peek() != '"':
                reader.expect('"', "a member name")
            key = reader.value()
            reader.expect(":", "':'")
        value = reader.value()
        result.items += 1
        if on_item:
            on_item(key, value)
        if reader.peek() != ",":
            reader.expect(close, f"',' or '{close}'")
            return
        reader.pos += 1


def scan(
    handle: BinaryIO,
    on_item: Callable[[str | None, Any], None] | None = None,
    chunk: int = CHUNK,
    max_item: int = MAX_ITEM_CHARS,
) -> Scan:
    """Read a JSON document from ``handle`` item by item; ``on_item(key, value)`` gets each
    complete top-level item (key None for list elements) before the next is read."""
    reader = _Reader(handle, chunk, max_item)
    result = Scan()
    try:
        first = reader.peek()
        if not first:
            raise Invalid("empty file (0 bytes of JSON): an interrupted write")
        if first in "[{":
            result.container = "list" if first == "[" else "object"
            _items(reader, result, on_item)
        else:
            value = reader.value()
            result.items = 1
            if on_item:
                on_item(None, value)
        if reader.peek():
            raise Invalid(
                f"extra data after the document at character {reader.consumed + reader.pos}"
            )
    except Invalid as exc:
        result.error = str(exc)
    except TooLarge as exc:
        result.too_large = True
        result.error = str(exc)
    return result


def salvage(handle: BinaryIO, max_item: int = MAX_ITEM_CHARS) -> tuple[Any, Scan]:
    """The complete top-level items of a damaged document (a list or an object), in order:
    the messages of a chat history cut off mid-write, say. None for a broken scalar."""
    kept: list[Any] = []
    members: dict[str, Any] = {}

    def keep(key: str | None, value: Any) -> None:
        if key is None:
            kept.append(value)
        else:
            members[key] = value

    result = scan(handle, keep, max_item=max_item)
    if result.container == "list":
        return kept, result
    if result.container == "object":
        return members, result
    return None, result


# -- resynchronising salvage -------------------------------------------------------------------
#: Largest document :func:`salvage_entries` reads whole; beyond it repair keeps the prefix that
#: :func:`salvage` streams (a state file is never near this size).
RESYNC_MAX_BYTES = 64 * 1024 * 1024
#: A character that stands for a byte that was not UTF-8 (``surrogateescape``).
_BAD_BYTE = re.compile("[\udc80-\udcff]")
_STRING_OR_BRACKET = re.compile(r'["\[\]{},]')


@dataclass
class Gap:
    """Entries lost to damage at this point of a container: ``count`` is an estimate (1 when
    the damaged entry's end was found); ``key`` is the member's name when it still parsed."""

    count: int
    key: str | None = None
    reason: str = ""
    span: int = 0  # characters the damaged stretch covers


@dataclass
class Entries:
    """A container read entry by entry: each slot is ``(key, value)`` (key None in a list),
    or a :class:`Gap`. A value may itself be ``Entries`` (a collection inside a top-level
    object that was damaged inside: a profile's ``facts``, RL state's ``agents``)."""

    container: str  # "list" | "object"
    slots: list[tuple[str | None, Any] | Gap]
    closed: bool = True

    @property
    def gaps(self) -> list[Gap]:
        return [slot for slot in self.slots if isinstance(slot, Gap)]

    def damaged(self) -> bool:
        return (
            bool(self.gaps)
            or not self.closed
            or any(
                isinstance(slot[1], Entries) and slot[1].damaged()
                for slot in self.slots
                if not isinstance(slot, Gap)
            )
        )


def salvage_entries(data: bytes, partial_members: bool = True) -> Entries | None:
    """Every complete entry of a damaged list or object, before *and after* the damage.

    Bytes that are not UTF-8 are damage of the entry that holds them (that entry is dropped,
    never kept altered); after a damaged entry the reader resynchronises on the next entry
    boundary (the ``,`` that closes it at the container's depth) and goes on. With
    ``partial_members`` a top-level object's member whose value is a list or an object is
    itself read entry by entry when damaged inside (only one level: an entry inside it is
    kept whole or not at all). None when the document is not a list or an object."""
    text = data.decode("utf-8", "surrogateescape")
    if text.startswith("\ufeff"):
        text = text[1:]
    pos = _SPACE.match(text, 0).end()  # type: ignore[union-attr]
    if pos >= len(text) or text[pos] not in "[{":
        return None
    entries, _end = _read_container(text, pos, partial_members and text[pos] == "{")
    return entries


def _read_container(text: str, pos: int, partial_children: bool) -> tuple[Entries, int]:
    """The container starting at ``text[pos]`` ('[' or '{'): (its entries, where it ends)."""
    members = text[pos] == "{"
    close = "}" if members else "]"
    entries = Entries("object" if members else "list", [])
    pos += 1
    size = len(text)
    good = good_chars = 0  # for the estimate of entries lost in a damaged stretch
    shape = ""  # first character of the entries that parse ('{': a list of objects)
    pos = _skip_space(text, pos)
    if pos < size and text[pos] == close:
        return entries, pos + 1
    while True:
        pos = _skip_space(text, pos)
        if pos >= size:
            entries.closed = False
            return entries, pos
        start = pos
        if not len(entries.slots) & 0xFFF:  # a progress line, if one is shown
            report_progress(pos, size, "characters")
        key, value, end, problem = _read_entry(text, pos, members, close, partial_children)
        if problem is None:
            entries.slots.append((key, value))
            good_chars += end - start
            good += 1
            shape = shape or text[start]
        else:
            end, found_end = _resync(text, start, members, close, shape)
            entries.slots.append(Gap(1, key, problem, span=end - start))
            if not found_end:
                entries.closed = False
                _estimate(entries, good, good_chars)
                return entries, end
        pos = _skip_space(text, end)
        if pos >= size:
            entries.closed = False
            _estimate(entries, good, good_chars)
            return entries, pos
        if text[pos] == close:
            _estimate(entries, good, good_chars)
            return entries, pos + 1
        pos += 1  # the ',' (_read_entry and _skip_entry stop only at ',' or the close)


def _estimate(entries: Entries, good: int, good_chars: int) -> None:
    """How many entries each damaged stretch held: its length over the average entry's."""
    if not good:
        return
    average = good_chars / good
    for slot in entries.slots:
        if isinstance(slot, Gap) and slot.span:
            slot.count = max(1, round(slot.span / average))


def _read_entry(
    text: str, pos: int, members: bool, close: str, partial_children: bool
) -> tuple[str | None, Any, int, str | None]:
    """(key, value, end, problem): ``end`` is at the ',' or close after the entry."""
    key = None
    if members:
        try:
            key, pos = _DECODER.raw_decode(text, pos)
        except (json.JSONDecodeError, RecursionError):
            return None, None, pos, "member name does not parse"
        if not isinstance(key, str) or _BAD_BYTE.search(key):
            return None, None, pos, "member name is not a valid string"
        pos = _skip_space(text, pos)
        if pos >= len(text) or text[pos] != ":":
            return key, None, pos, "no ':' after the member name"
        pos = _skip_space(text, pos + 1)
    try:
        value, end = _DECODER.raw_decode(text, pos)
        problem = None
        if _BAD_BYTE.search(text, pos, end):
            problem = "bytes that are not UTF-8"
    except (json.JSONDecodeError, RecursionError) as exc:
        value, end = None, pos
        problem = getattr(exc, "msg", "nested too deeply")
    if problem is not None and partial_children and pos < len(text) and text[pos] in "[{":
        inner, end = _read_container(text, pos, False)
        value, problem = inner, None
        if not inner.closed:
            return key, value, end, None
    if problem is not None:
        return key, None, pos, problem
    after = _skip_space(text, end)
    if after < len(text) and text[after] not in (",", close):
        return key, None, pos, f"unexpected {text[after]!r} after the entry"
    return key, value, after, None


#: Candidate boundaries tried after a damaged entry before giving the rest up as lost.
MAX_RESYNC_TRIES = 100_000


def _resync(text: str, start: int, members: bool, close: str, shape: str = "") -> tuple[int, bool]:
    """Where the damaged entry at ``start`` ends (at a ',' or ``close``): where the bracket
    count says, if a complete entry follows there; else the first ',' after ``start`` that
    a complete entry follows (a quote or bracket the damage added or removed throws the
    count off). In a list, an entry must start like the entries read so far (``shape``), so
    an element of a list nested in the damaged entry is not taken for one of its own.
    (end, whether an end was found)."""
    end, _count, found = _skip_entry(text, start, close)
    if found and _entry_follows(text, end, members, close, shape):
        return end, True
    comma = start
    for _ in range(MAX_RESYNC_TRIES):
        comma = text.find(",", comma + 1)
        if comma < 0:
            break
        if _entry_follows(text, comma, members, close, shape):
            return comma, True
    # No complete entry after the damage: the container's close, if the count found one.
    if found and text[end] == close:
        return end, True
    return len(text), False


def _entry_follows(text: str, at: int, members: bool, close: str, shape: str = "") -> bool:
    """Whether ``text[at]`` is the close, or a ',' followed by one complete entry that is
    itself followed by a ',' or the close."""
    if text[at] == close:
        return True
    pos = _skip_space(text, at + 1)
    if pos >= len(text):
        return False
    if members and text[pos] != '"':
        return False
    # Unknown shape (nothing before the damage parsed): only an object or a list, which is
    # what state files hold, never a string or number from inside the damaged entry.
    if not members and text[pos] != (shape if shape in ("{", "[", '"') else text[pos]):
        return False
    if not members and not shape and text[pos] not in "[{":
        return False
    _key, _value, end, problem = _read_entry(text, pos, members, close, False)
    return problem is None and end < len(text)


def _skip_entry(text: str, start: int, close: str) -> tuple[int, int, bool]:
    """Where a damaged entry ends: the first ',' or ``close`` at the container's own depth,
    strings skipped. (end, entries skipped (estimate), whether the end was found)."""
    depth = 0
    pos = start
    size = len(text)
    while pos < size:
        match = _STRING_OR_BRACKET.search(text, pos)
        if match is None:
            break
        char, pos = match.group(), match.start()
        if char == '"':
            end = _string_end(text, pos)
            if end < 0:
                break
            pos = end
            continue
        if char in "[{":
            depth += 1
        elif char in "]}":
            if depth == 0:
                return pos, 1, True
            depth -= 1
        elif depth == 0:
            return pos, 1, True
        pos += 1
    return size, 1, False


def _string_end(text: str, quote: int) -> int:
    """Just past the string opening at ``quote``; -1 when it runs to the end."""
    pos = quote + 1
    while True:
        end = text.find('"', pos)
        if end < 0:
            return -1
        backslashes = 0
        while text[end - 1 - backslashes] == "\\":
            backslashes += 1
        if backslashes % 2 == 0:
            return end + 1
        pos = end + 1


def _skip_space(text: str, pos: int) -> int:
    return _SPACE.match(text, pos).end()  # type: ignore[union-attr]
