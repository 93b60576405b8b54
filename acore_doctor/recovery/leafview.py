"""Let SQLite's own record decoder read the rows of leaf pages the page reader found.

Decoding records in Python costs about 50 us a row; SQLite decodes them at ``.dump`` speed. A
table-leaf page is a whole b-tree by itself (a one-page table), so the leaves to read are
copied into a scratch database file (page 2 onwards, renumbered: a leaf without overflow
cells points at no other page) whose page 1 is a new ``sqlite_schema`` naming one table per
leaf (``rootpage`` = where the copy sits), declared with the columns of the table it belongs
to. Attached read-only, ``SELECT rowid, ... FROM x.l<i>`` reads one leaf. A leaf SQLite finds
malformed raises, and the caller reads that one in Python instead. The scratch file holds at
most ``BATCH_GROUPS`` groups of leaves at a time, so memory and disk stay flat.

Layout written here (fileformat2 §1.3, §1.6): a 100-byte header on page 1, then table
b-tree pages: leaf cells ``payload size, rowid, record``; interior cells ``child, key``.
"""

from __future__ import annotations

import os
import struct
from pathlib import Path

from acore_doctor.recovery.pages import MAGIC, TABLE_INTERIOR, TABLE_LEAF

#: Tables (groups of leaves) per scratch file before it is read and emptied.
BATCH_GROUPS = 40
_ENCODING_CODES = {"utf-8": 1, "utf-16-le": 2, "utf-16-be": 3}


def encode_varint(value: int) -> bytes:
    value &= (1 << 64) - 1
    if value <= 0x7F:
        return bytes([value])
    if value > 0x00FFFFFFFFFFFFFF:
        out = [value & 0xFF]
        value >>= 8
        for _ in range(8):
            out.append((value & 0x7F) | 0x80)
            value >>= 7
        return bytes(reversed(out))
    out = []
    while value:
        out.append(value & 0x7F)
        value >>= 7
    return bytes(b | 0x80 for b in reversed(out[1:])) + bytes([out[0]])


def encode_record(values: list[object], encoding: str) -> bytes:
    """A record of NULLs, integers and texts (the schema table's five columns)."""
    types, body = [], []
    for value in values:
        if value is None:
            types.append(0)
        elif isinstance(value, int):
            types.append(6)
            body.append(struct.pack(">q", value))
        else:
            data = str(value).encode(encoding)
            types.append(13 + 2 * len(data))
            body.append(data)
    header = b"".join(encode_varint(t) for t in types)
    size = len(header) + 1
    if size > 0x7F:
        size = len(header) + len(encode_varint(len(header) + 2))
    return encode_varint(size) + header + b"".join(body)


def _page(kind: int, cells: list[bytes], size: int, usable: int, base: int, right: int) -> bytes:
    """A table b-tree page holding ``cells`` (they must fit)."""
    page = bytearray(size)
    header = 12 if kind == TABLE_INTERIOR else 8
    end = usable
    pointers = []
    for cell in cells:
        end -= len(cell)
        page[end : end + len(cell)] = cell
        pointers.append(end)
    page[base] = kind
    struct.pack_into(">HHHB", page, base + 1, 0, len(cells), end % 65536, 0)
    if kind == TABLE_INTERIOR:
        struct.pack_into(">I", page, base + 8, right)
    struct.pack_into(f">{len(pointers)}H", page, base + header, *pointers)
    return bytes(page)


class LeafView:
    """A scratch database whose tables are single leaf pages copied from the damaged file."""

    def __init__(self, path: Path, page_size: int, reserved: int, encoding: str) -> None:
        self.path, self.size, self.reserved, self.encoding = path, page_size, reserved, encoding
        self.usable = page_size - reserved
        self.fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o600)
        self.entries: list[tuple[str, int, str]] = []  # name, page in the scratch file, sql
        self.next_page = 2

    def close(self) -> None:
        os.close(self.fd)
        self.path.unlink(missing_ok=True)

    def __len__(self) -> int:
        return len(self.entries)

    def reset(self) -> None:
        os.ftruncate(self.fd, 0)
        self.entries.clear()
        self.next_page = 2

    @property
    def group_size(self) -> int:
        """Leaves under one interior page (each child pointer takes at most 15 bytes)."""
        return max(2, min(200, (self.usable - 12) // 15))

    def add_group(self, leaves: list[bytes], columns_sql: str) -> str:
        """Copy leaf pages in under one new interior page: one table that reads them all
        (a scan walks the children in order; the keys are never used). Returns its name."""
        first = self.next_page
        for i, data in enumerate(leaves):
            os.pwrite(self.fd, data, (first + i - 1) * self.size)
        if len(leaves) == 1:
            root = first  # a leaf is a table by itself
        else:
            root = first + len(leaves)
            children = [(first + i, i) for i in range(len(leaves))]
            self._write(root, self._interior(children, 0))
        self.next_page = root + 1
        name = f"g{root}"
        self.entries.append((name, root, f"CREATE TABLE {name}({columns_sql})"))
        return name

    def finish(self) -> None:
        """Write the schema's b-tree after the leaves and page 1 over it."""
        next_page = self.next_page
        records = [
            encode_record(["table", name, name, number, sql], self.encoding)
            for name, number, sql in self.entries
        ]
        level: list[tuple[int, int]] = []  # (page, highest rowid under it)
        cells: list[bytes] = []
        room = self.usable - 8
        rowid = 0
        for record in records:
            rowid += 1
            cell = encode_varint(len(record)) + encode_varint(rowid) + record
            if len(cell) + 2 > room and cells:
                level.append((next_page, rowid - 1))
                self._write(next_page, _page(TABLE_LEAF, cells, self.size, self.usable, 0, 0))
                next_page, cells, room = next_page + 1, [], self.usable - 8
            cells.append(cell)
            room -= len(cell) + 2
        if cells or not level:
            level.append((next_page, rowid))
            self._write(next_page, _page(TABLE_LEAF, cells, self.size, self.usable, 0, 0))
            next_page += 1
        # Interior levels until page 1 (with its 100-byte header) can point at them all.
        while True:
            fits_in_one = (self.usable - 100 - 12) // 15
            if len(level) <= fits_in_one + 1:
                break
            upper: list[tuple[int, int]] = []
            per_page = (self.usable - 12) // 15
            for start in range(0, len(level), per_page + 1):
                group = level[start : start + per_page + 1]
                page = self._interior(group, 0)
                self._write(next_page, page)
                upper.append((next_page, group[-1][1]))
                next_page += 1
            level = upper
        self._write(1, self._interior(level, 100, header=next_page - 1))

    def _interior(self, children: list[tuple[int, int]], base: int, header: int = 0) -> bytes:
        cells = [struct.pack(">I", page) + encode_varint(key) for page, key in children[:-1]]
        page = bytearray(
            _page(TABLE_INTERIOR, cells, self.size, self.usable, base, children[-1][0])
        )
        if header:
            page[:100] = self._header(header)
        return bytes(page)

    def _header(self, pages: int) -> bytes:
        header = bytearray(100)
        header[0:16] = MAGIC
        header[16:18] = (1 if self.size == 65536 else self.size).to_bytes(2, "big")
        header[18:24] = bytes([1, 1, self.reserved, 64, 32, 32])
        header[24:28] = header[92:96] = (1).to_bytes(4, "big")
        header[28:32] = pages.to_bytes(4, "big")
        header[40:44] = (1).to_bytes(4, "big")  # schema cookie
        header[44:48] = (4).to_bytes(4, "big")  # schema format
        header[56:60] = _ENCODING_CODES.get(self.encoding, 1).to_bytes(4, "big")
        header[96:100] = (3040001).to_bytes(4, "big")
        return bytes(header)

    def _write(self, number: int, data: bytes) -> None:
        os.pwrite(self.fd, data, (number - 1) * self.size)
