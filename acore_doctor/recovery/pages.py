"""Reading a damaged SQLite file page by page, with nothing but the documented file format.

https://www.sqlite.org/fileformat2.html: a file is a sequence of pages; page 1 starts with a
100-byte header and holds the root of ``sqlite_schema``; every table is a b-tree of interior
pages (0x05: child page numbers and separating rowids) and leaf pages (0x0D: cells of
``payload size, rowid, record``); a record is a header of serial types followed by the values;
a payload too large for its page continues on a chain of overflow pages; freed pages sit on the
freelist (and keep their old, deleted content, so they are never read as rows).

No SQLite build feature is needed and the file is never opened as a database: it is read with
``pread`` one page at a time, so memory stays flat whatever the file's size (a few bytes per
page for the bookkeeping maps). Every byte read is bounds-checked; a page that does not parse
is counted, never trusted.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from acore_doctor.saferead import open_regular

Decoded = TypeVar("Decoded")

MAGIC = b"SQLite format 3\x00"
PAGE_SIZES = (4096, 1024, 2048, 8192, 16384, 32768, 65536, 512)
TABLE_INTERIOR, TABLE_LEAF, INDEX_INTERIOR, INDEX_LEAF = 0x05, 0x0D, 0x02, 0x0A
BTREE_TYPES = (TABLE_INTERIOR, TABLE_LEAF, INDEX_INTERIOR, INDEX_LEAF)
ENCODINGS = {1: "utf-8", 2: "utf-16-le", 3: "utf-16-be"}
_INT_SIZES = (0, 1, 2, 3, 4, 6, 8)
_DOUBLE = struct.Struct(">d")
#: Deeper than any real b-tree (a 281 TB database is depth 10 at 512-byte pages).
MAX_DEPTH = 40

# What the page map says of each page.
UNSEEN, IN_TREE, FREELIST, OVERFLOW, RESERVED, DAMAGED = range(6)


class Unparsable(Exception):
    """Bytes that are not what the file format says they should be."""


def varint(buf: bytes, pos: int) -> tuple[int, int]:
    """(value, next position) of the big-endian varint at ``pos`` (1-9 bytes)."""
    byte = buf[pos]
    if byte < 0x80:
        return byte, pos + 1
    value = byte & 0x7F
    for i in range(1, 8):
        byte = buf[pos + i]
        value = (value << 7) | (byte & 0x7F)
        if byte < 0x80:
            return value, pos + i + 1
    return (value << 8) | buf[pos + 8], pos + 9


def signed64(value: int) -> int:
    return value - (1 << 64) if value >= 1 << 63 else value


def decode_record(payload: bytes, encoding: str) -> list[Any]:
    """The values of one record; raises Unparsable unless the sizes add up exactly."""
    try:
        header_size, pos = payload[0], 1
        if header_size >= 0x80:
            header_size, pos = varint(payload, 0)
        if header_size < 1 or header_size > len(payload):
            raise Unparsable("record header larger than the record")
        types = []
        append = types.append
        while pos < header_size:
            serial = payload[pos]
            if serial < 0x80:  # the usual one- and two-byte serial types, without a call
                append(serial)
                pos += 1
            elif payload[pos + 1] < 0x80:
                append(((serial & 0x7F) << 7) | payload[pos + 1])
                pos += 2
            else:
                serial, pos = varint(payload, pos)
                append(serial)
        if pos != header_size:
            raise Unparsable("record header overruns")
        offset = header_size
        values: list[Any] = []
        for serial in types:
            if serial == 0:
                values.append(None)
            elif serial <= 6:
                size = _INT_SIZES[serial]
                values.append(int.from_bytes(payload[offset : offset + size], "big", signed=True))
                offset += size
            elif serial == 7:
                values.append(_DOUBLE.unpack_from(payload, offset)[0])
                offset += 8
            elif serial == 8:
                values.append(0)
            elif serial == 9:
                values.append(1)
            elif serial < 12:
                raise Unparsable(f"reserved serial type {serial}")
            elif serial & 1 == 0:
                size = (serial - 12) >> 1
                values.append(bytes(payload[offset : offset + size]))
                offset += size
            else:
                size = (serial - 13) >> 1
                values.append(payload[offset : offset + size].decode(encoding))
                offset += size
        if offset != len(payload):
            raise Unparsable("record values do not fill the payload exactly")
        return values
    except (IndexError, struct.error, UnicodeDecodeError) as exc:
        raise Unparsable(f"record: {exc}") from exc


@dataclass
class Header:
    page_size: int
    reserved: int
    page_count: int
    encoding: str
    freelist_trunk: int
    autovacuum: bool
    trusted: bool  # the 100-byte header itself was intact

    @property
    def usable(self) -> int:
        return self.page_size - self.reserved


@dataclass
class Page:
    number: int
    kind: int
    cells: list[int]  # offsets of the cells in the page
    right: int  # right-most child (interior pages)
    data: bytes
    #: rowids on a leaf reached through its tree are > low and <= high (its parent's
    #: separators; None: unbounded on that side)
    low: int | None = None
    high: int | None = None


@dataclass
class Cell:
    rowid: int
    values: list[Any]


@dataclass
class DamagedPage:
    number: int
    owner: str  # table or index name, "" when nothing points at it any more
    depth: int  # 0 = root; compare with the tree's leaf depth
    low: int | None  # rowids on it were > low and <= high (from the parent), when known
    high: int | None
    why: str


@dataclass
class TreeStats:
    """What one b-tree gave up: pages read, leaves, rows, damaged pages."""

    name: str
    leaf_depth: int | None = None
    leaves: int = 0
    clean_leaves: int = 0
    rows: int = 0
    orphan_leaves: int = 0
    damaged: list[DamagedPage] = field(default_factory=list)
    interiors: int = 0  # interior pages read
    children: int = 0  # child pointers on them


class PageFile:
    """A SQLite file read page by page (never opened as a database)."""

    def __init__(self, path: Path, wal: Path | None = None) -> None:
        self.path = path
        self.fd = _open_regular_fd(path)
        self.file_size = os.fstat(self.fd).st_size
        #: page -> offset of its newest committed copy in the -wal file (see _read_wal)
        self.overlay: dict[int, int] = {}
        self.wal_fd: int | None = None
        self.wal_pages = 0
        self.wal_problem: str | None = None
        wal_page_size = self._read_wal(wal) if wal is not None else None
        self.header = self._read_header(wal_page_size)
        if wal_page_size and wal_page_size != self.header.page_size:
            self.overlay.clear()  # a WAL of another page size belongs to another file
            self.wal_problem = "the -wal file's page size differs from the database's; ignored"
        self.pages_in_file = self.file_size // self.header.page_size
        self.page_count = max(self.header.page_count, self.pages_in_file, self.wal_pages)
        self.map = bytearray(self.page_count + 1)
        self._mark_reserved()

    def close(self) -> None:
        os.close(self.fd)
        if self.wal_fd is not None:
            os.close(self.wal_fd)

    # -- the write-ahead log ----------------------------------------------------------------------
    def _read_wal(self, wal: Path) -> int | None:
        """Index the committed frames of a ``-wal`` file (fileformat2 §4): rows the bot
        committed but SQLite had not yet copied into the database file live only there.
        Frames count only up to the last commit frame whose salts and running checksum
        hold. Returns the WAL's page size, or None when there is no usable WAL."""
        try:
            fd = _open_regular_fd(wal)
        except OSError:
            return None
        header = os.pread(fd, 32, 0)
        if len(header) < 32 or struct.unpack_from(">I", header, 0)[0] not in _WAL_MAGIC:
            os.close(fd)
            if header:
                self.wal_problem = "the -wal file has no valid header; ignored"
            return None
        magic, _version, page_size, _seq, salt1, salt2 = struct.unpack_from(">6I", header, 0)
        order = ">" if magic & 1 else "<"
        sums = _wal_checksum(header[:24], order, (0, 0))
        if sums != struct.unpack_from(">2I", header, 24) or page_size not in PAGE_SIZES:
            os.close(fd)
            self.wal_problem = "the -wal file's header checksum is wrong; ignored"
            return None
        self.wal_fd = fd
        pending: dict[int, int] = {}
        offset, frame, frames = 32, 24 + page_size, 0
        while True:
            data = os.pread(fd, frame, offset)
            if len(data) < frame:
                break
            number, commit, frame_salt1, frame_salt2 = struct.unpack_from(">4I", data, 0)
            if (frame_salt1, frame_salt2) != (salt1, salt2):
                break
            sums = _wal_checksum(data[:8], order, sums)
            sums = _wal_checksum(data[24:], order, sums)
            if sums != struct.unpack_from(">2I", data, 16):
                break
            frames += 1
            # A frame for a page far beyond both files is hostile or garbage: the database
            # can only have grown by the frames the WAL holds.
            if 0 < number <= self.file_size // page_size + frames:
                pending[number] = offset + 24
            if commit:
                self.overlay.update(pending)
                pending.clear()
                # The commit frame's database size is believed only as far as the two
                # files could hold it (a hostile WAL claims 2^31 pages).
                self.wal_pages = min(commit, self.file_size // page_size + frames)
            offset += frame
        return page_size

    def __enter__(self) -> PageFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- header ---------------------------------------------------------------------------------
    def _read_header(self, page_size_hint: int | None) -> Header:
        raw = os.pread(self.wal_fd, 100, self.overlay[1]) if 1 in self.overlay else b""
        raw = raw if raw[:16] == MAGIC else os.pread(self.fd, 100, 0)
        if len(raw) == 100 and raw[:16] == MAGIC:
            size = struct.unpack_from(">H", raw, 16)[0]
            size = 65536 if size == 1 else size
            reserved = raw[20]
            if size in PAGE_SIZES and reserved < size - 480:
                counter, count = struct.unpack_from(">II", raw, 24)
                valid_for = struct.unpack_from(">I", raw, 92)[0]
                # The size field is only valid when written by a version that keeps it
                # (valid-for matches the change counter); a damaged one claiming far more
                # pages than the file ever held is not believed either.
                if valid_for != counter or count > 2 * (self.file_size // size) + 1024:
                    count = 0
                encoding = ENCODINGS.get(struct.unpack_from(">I", raw, 56)[0], "utf-8")
                return Header(
                    page_size=size,
                    reserved=reserved,
                    page_count=count,
                    encoding=encoding,
                    freelist_trunk=struct.unpack_from(">I", raw, 32)[0],
                    autovacuum=struct.unpack_from(">I", raw, 52)[0] != 0,
                    trusted=True,
                )
        size = page_size_hint or self._guess_page_size()
        return Header(size, 0, 0, self._guess_encoding(size), 0, False, trusted=False)

    def _guess_encoding(self, size: int) -> str:
        """The text encoding when the header is gone: the schema's SQL on the first pages
        says it ("CREATE" in UTF-16 has a NUL beside every letter)."""
        head = os.pread(self.fd, 16 * size, 0)
        if b"C\x00R\x00E\x00A\x00T\x00E\x00" in head:
            return "utf-16-le"
        if b"\x00C\x00R\x00E\x00A\x00T\x00E" in head:
            return "utf-16-be"
        return "utf-8"

    def _guess_page_size(self) -> int:
        """The page size under which the most sampled pages look like b-tree pages."""
        best, best_score = PAGE_SIZES[0], -1
        for size in PAGE_SIZES:
            pages = self.file_size // size
            if pages < 1:
                continue
            step = max(1, pages // 256)
            score = 0
            for number in range(2, pages + 1, step):
                data = os.pread(self.fd, size, (number - 1) * size)
                if _plausible_btree(data, 0, size):
                    score += 1
            if score > best_score:
                best, best_score = size, score
        return best

    def _mark_reserved(self) -> None:
        """The lock-byte page and pointer-map pages hold no rows."""
        size = self.header.page_size
        lock_page = (1 << 30) // size + 1
        if lock_page <= self.page_count:
            self.map[lock_page] = RESERVED
        if self.header.autovacuum:
            every = self.header.usable // 5 + 1
            number = 2
            while number <= self.page_count:
                self.map[number] = RESERVED
                number += every

    # -- pages --------------------------------------------------------------------------------
    def read(self, number: int) -> bytes:
        size = self.header.page_size
        if self.overlay and number in self.overlay and self.wal_fd is not None:
            return os.pread(self.wal_fd, size, self.overlay[number])
        if number < 1 or number > self.pages_in_file:
            return b""
        return os.pread(self.fd, size, (number - 1) * size)

    def btree_page(self, number: int) -> Page:
        """Page ``number`` parsed as a b-tree page; raises Unparsable."""
        data = self.read(number)
        if len(data) < self.header.page_size:
            raise Unparsable("past the end of the file")
        base = 100 if number == 1 else 0
        usable = self.header.usable
        kind = data[base]
        if kind not in BTREE_TYPES:
            raise Unparsable(f"page type {kind:#x} is not a b-tree page")
        count = struct.unpack_from(">H", data, base + 3)[0]
        content = struct.unpack_from(">H", data, base + 5)[0] or 65536
        interior = kind in (TABLE_INTERIOR, INDEX_INTERIOR)
        pointers = base + (12 if interior else 8)
        end = pointers + 2 * count
        if end > usable or (count and content < end) or content > usable:
            raise Unparsable("cell pointer array does not fit")
        cells = list(struct.unpack_from(f">{count}H", data, pointers))
        if cells and (min(cells) < end or max(cells) >= usable):
            raise Unparsable("cell pointer outside the page")
        right = struct.unpack_from(">I", data, base + 8)[0] if interior else 0
        if interior and right < 2:
            raise Unparsable("right child is not a page")
        return Page(number, kind, cells, right, data)

    def interior_cell(self, page: Page, offset: int) -> tuple[int, int]:
        """(left child, rowid key) of a table interior cell."""
        try:
            child = struct.unpack_from(">I", page.data, offset)[0]
            key, _ = varint(page.data, offset + 4)
        except (IndexError, struct.error) as exc:
            raise Unparsable("interior cell runs off the page") from exc
        if child < 2:
            raise Unparsable("child page number is not a page")
        # A child past the end of the file (a truncated file) is the walk's to count.
        return child, signed64(key)

    def leaf_cell(self, page: Page, offset: int) -> Cell:
        """One table-leaf cell with its record decoded (overflow chain followed)."""
        data = page.data
        try:
            size, pos = data[offset], offset + 1
            if size >= 0x80:
                size, pos = varint(data, offset)
            rowid, pos = varint(data, pos)
        except IndexError as exc:
            raise Unparsable("cell header runs off the page") from exc
        payload = self._payload(data, pos, size, index=False)
        return Cell(signed64(rowid), decode_record(payload, self.header.encoding))

    def index_record(self, page: Page, offset: int) -> list[Any]:
        """The record of one index cell (leaf or interior: in an index b-tree both hold
        keys; for a WITHOUT ROWID table the key is the whole row)."""
        pos = offset + (4 if page.kind == INDEX_INTERIOR else 0)
        try:
            size, pos = varint(page.data, pos)
        except IndexError as exc:
            raise Unparsable("cell header runs off the page") from exc
        payload = self._payload(page.data, pos, size, index=True)
        return decode_record(payload, self.header.encoding)

    def index_records(self, page: Page) -> tuple[list[list[Any]], bool]:
        """The records of an index page that decode, and whether all of them did."""
        return decoded_cells(page, self.index_record)

    def _payload(self, data: bytes, pos: int, size: int, index: bool) -> bytes:
        """A cell's payload of ``size`` bytes starting at ``pos``: the part on the page, then
        the overflow chain."""
        usable = self.header.usable
        local = self._local_size(size, index=index)
        if pos + local > usable:
            raise Unparsable("cell payload runs off the page")
        payload = data[pos : pos + local]
        if local < size:
            if pos + local + 4 > usable:
                raise Unparsable("overflow pointer runs off the page")
            first = struct.unpack_from(">I", data, pos + local)[0]
            payload = payload + self._overflow(first, size - local)
        return payload

    def _local_size(self, size: int, index: bool = False) -> int:
        """How much of a payload of ``size`` bytes sits on its b-tree page (fileformat §1.6)."""
        usable = self.header.usable
        most = ((usable - 12) * 64 // 255) - 23 if index else usable - 35
        if size <= most:
            return size
        least = ((usable - 12) * 32 // 255) - 23
        local = least + (size - least) % (usable - 4)
        return local if local <= most else least

    def _overflow(self, first: int, remaining: int) -> bytes:
        chunks = []
        number = first
        chain: list[int] = []
        visited: set[int] = set()
        while remaining > 0:
            if not 1 < number <= self.page_count or self.read(number) == b"":
                raise Unparsable("overflow chain leaves the file")
            if number in visited:
                raise Unparsable("overflow chain loops")  # never the same content twice
            visited.add(number)
            if self.map[number] not in (UNSEEN, OVERFLOW, DAMAGED):
                raise Unparsable("overflow chain runs into another page's data")
            data = self.read(number)
            if not data.strip(b"\x00"):
                # A wiped page (a real overflow page holds its next pointer or content).
                raise Unparsable("overflow page is all zeros")
            take = min(remaining, self.header.usable - 4)
            chunks.append(data[4 : 4 + take])
            chain.append(number)
            remaining -= take
            number = struct.unpack_from(">I", data, 0)[0]
        for page in chain:
            self.map[page] = OVERFLOW
        return b"".join(chunks)

    # -- the freelist ----------------------------------------------------------------------------
    def mark_freelist(self) -> list[str]:
        """Mark freed pages (never read as rows: they hold deleted data). Returns problems."""
        problems: list[str] = []
        trunk, hops = self.header.freelist_trunk, 0
        per_trunk = self.header.usable // 4 - 2
        while trunk:
            if not 1 < trunk <= self.pages_in_file or hops > self.page_count:
                problems.append(f"freelist trunk page {trunk} is outside the file")
                break
            if self.map[trunk] == FREELIST:
                problems.append("the freelist loops")
                break
            data = self.read(trunk)
            self.map[trunk] = FREELIST
            following, count = struct.unpack_from(">II", data, 0)
            if count > per_trunk:
                problems.append(f"freelist trunk page {trunk} is damaged")
                break
            for leaf in struct.unpack_from(f">{count}I", data, 8):
                if 1 < leaf <= self.page_count and self.map[leaf] == UNSEEN:
                    self.map[leaf] = FREELIST
            trunk, hops = following, hops + 1
        return problems

    # -- walking trees ---------------------------------------------------------------------------
    def walk_table(
        self,
        root: int,
        stats: TreeStats,
        take: Callable[[Page, list[Cell], bool], None],
        decode: bool = True,
    ) -> None:
        """Every leaf reachable from ``root`` handed to ``take(page, cells, clean)``; what
        does not parse lands in ``stats.damaged`` with the rowid range its parent gave it.
        ``decode=False`` hands leaves over undecoded (``cells`` empty): the caller reads
        them (``page.low``/``page.high`` hold the range)."""
        stack: list[tuple[int, int, int | None, int | None]] = [(root, 0, None, None)]
        while stack:
            number, depth, low, high = stack.pop()
            if number < 1 or number > self.page_count or self.map[number] == IN_TREE:
                why = "pointed at twice" if 0 < number <= self.page_count else "past the end"
                stats.damaged.append(DamagedPage(number, stats.name, depth, low, high, why))
                continue
            try:
                if depth > MAX_DEPTH:
                    raise Unparsable("tree deeper than any real database")
                page = self.btree_page(number)
                if page.kind not in (TABLE_INTERIOR, TABLE_LEAF):
                    raise Unparsable(f"an index page ({page.kind:#x}) inside a table tree")
            except Unparsable as exc:
                self.map[number] = DAMAGED
                stats.damaged.append(DamagedPage(number, stats.name, depth, low, high, str(exc)))
                continue
            self.map[number] = IN_TREE
            if page.kind == TABLE_LEAF:
                if stats.leaf_depth is None or depth > stats.leaf_depth:
                    stats.leaf_depth = depth
                if not decode:
                    stats.leaves += 1
                    page.low, page.high = low, high
                    take(page, [], True)
                    continue
                cells, clean = self.leaf_cells(page)
                if any(
                    (low is not None and c.rowid <= low) or (high is not None and c.rowid > high)
                    for c in cells
                ):
                    clean = False
                stats.leaves += 1
                stats.clean_leaves += clean
                page.low, page.high = low, high
                take(page, cells, clean)
                continue
            children: list[tuple[int, int, int | None, int | None]] = []
            previous = low
            try:
                for offset in page.cells:
                    child, key = self.interior_cell(page, offset)
                    children.append((child, depth + 1, previous, key))
                    previous = key
            except Unparsable as exc:
                # The children listed so far are kept; the rest are found as orphans later.
                stats.damaged.append(
                    DamagedPage(number, stats.name, depth, low, high, f"interior: {exc}")
                )
            children.append((page.right, depth + 1, previous, high))
            stats.interiors += 1
            stats.children += len(children)
            stack.extend(reversed(children))

    def walk_index(
        self,
        root: int,
        stats: TreeStats,
        take: Callable[[Page, list[list[Any]], bool], None] | None = None,
    ) -> None:
        """Mark an index's pages as accounted for; with ``take``, hand it the records of
        every page (a WITHOUT ROWID table's rows), and whether all of them decoded."""
        stack = [(root, 0)]
        while stack:
            number, depth = stack.pop()
            if number > self.page_count:
                stats.damaged.append(
                    DamagedPage(number, stats.name, depth, None, None, "past the end")
                )
                continue
            if number < 1 or self.map[number] == IN_TREE:
                continue
            try:
                page = self.btree_page(number)
                if page.kind not in (INDEX_INTERIOR, INDEX_LEAF) or depth > MAX_DEPTH:
                    raise Unparsable("not an index page")
            except Unparsable as exc:
                self.map[number] = DAMAGED
                stats.damaged.append(DamagedPage(number, stats.name, depth, None, None, str(exc)))
                continue
            self.map[number] = IN_TREE
            stats.leaves += page.kind == INDEX_LEAF
            if take is not None:
                records, clean = self.index_records(page)
                stats.clean_leaves += clean
                take(page, records, clean)
            if page.kind == INDEX_LEAF:
                continue
            children = [page.right]
            for offset in page.cells:
                if offset + 4 <= len(page.data):
                    child = struct.unpack_from(">I", page.data, offset)[0]
                    if child > 1:
                        children.append(child)
            stats.interiors += 1
            stats.children += len(children)
            stack.extend((c, depth + 1) for c in children)

    def spills(self, page: Page) -> bool:
        """Whether any cell of a table leaf continues on overflow pages (its payload size
        is more than fits on the page), without decoding the records; raises Unparsable."""
        data, most = page.data, self.header.usable - 35
        offsets = page.cells
        if most < 16384:
            # A payload over ``most`` bytes has a size varint of two bytes whose first one is
            # at least this, or of three or more: the other cells need no closer look.
            cut = 0x80 | (most >> 7)
            offsets = [
                o
                for o in offsets
                if data[o] >= cut or (data[o] & 0x80 and o + 1 < len(data) and data[o + 1] & 0x80)
            ]
        try:
            for offset in offsets:
                size = data[offset]
                if size < 0x80:
                    continue
                second = data[offset + 1]
                size = ((size & 0x7F) << 7) | second if second < 0x80 else varint(data, offset)[0]
                if size > most:
                    return True
        except IndexError as exc:
            raise Unparsable("cell header runs off the page") from exc
        return False

    def cell_rowid(self, page: Page, offset: int) -> int:
        """The rowid of one table-leaf cell, record not decoded; raises Unparsable."""
        try:
            pos = varint(page.data, offset)[1]
            return signed64(varint(page.data, pos)[0])
        except IndexError as exc:
            raise Unparsable("cell header runs off the page") from exc

    def leaf_cells(self, page: Page) -> tuple[list[Cell], bool]:
        """The cells of a table leaf that decode, and whether all of them did."""
        return decoded_cells(page, self.leaf_cell)

    def holds_no_rows(self, number: int) -> bool:
        """A page shaped like a freelist trunk: it held no rows."""
        data = self.read(number)
        if not data.strip(b"\x00"):
            return False  # wiped: it may have been anything, a leaf included
        following, count = struct.unpack_from(">II", data, 0)
        if (
            (following or count)
            and following <= self.page_count
            and count <= self.header.usable // 4 - 2
        ):
            listed = struct.unpack_from(f">{count}I", data, 8)
            return all(1 < n <= self.page_count for n in listed)
        return False

    def unseen_pages(self) -> Iterator[int]:
        """Pages no tree, freelist or overflow chain has claimed, in file order."""
        mapping = self.map
        for number in range(2, self.page_count + 1):
            if mapping[number] == UNSEEN:
                yield number

    def count(self, state: int) -> int:
        return self.map.count(state) - (1 if self.map[0] == state else 0)


_WAL_MAGIC = (0x377F0682, 0x377F0683)


def _open_regular_fd(path: Path) -> int:
    """A read-only descriptor on a regular file; a FIFO or device is refused, never waited on
    (acore_doctor.saferead's rule; pread needs the bare descriptor)."""
    handle = open_regular(path)
    try:
        return os.dup(handle.fileno())
    finally:
        handle.close()


def _wal_checksum(data: bytes, order: str, sums: tuple[int, int]) -> tuple[int, int]:
    """The WAL's running checksum over ``data`` (fileformat2 §4.2)."""
    s0, s1 = sums
    words = struct.unpack(f"{order}{len(data) // 4}I", data)
    for i in range(0, len(words), 2):
        s0 = (s0 + words[i] + s1) & 0xFFFFFFFF
        s1 = (s1 + words[i + 1] + s0) & 0xFFFFFFFF
    return s0, s1


def _plausible_btree(data: bytes, base: int, usable: int) -> bool:
    if len(data) < base + 8 or data[base] not in BTREE_TYPES:
        return False
    count = struct.unpack_from(">H", data, base + 3)[0]
    content = struct.unpack_from(">H", data, base + 5)[0] or 65536
    pointers = base + (12 if data[base] in (TABLE_INTERIOR, INDEX_INTERIOR) else 8)
    end = pointers + 2 * count
    if end > usable or content > usable or (count and content < end):
        return False
    return all(end <= o < usable for o in struct.unpack_from(f">{count}H", data, pointers))


def decoded_cells(page: Page, decode: Callable[[Page, int], Decoded]) -> tuple[list[Decoded], bool]:
    """``decode`` of every cell of ``page`` that parses, and whether all of them did."""
    decoded, clean = [], True
    for offset in page.cells:
        try:
            decoded.append(decode(page, offset))
        except Unparsable:
            clean = False
    return decoded, clean
