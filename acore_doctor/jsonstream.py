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
