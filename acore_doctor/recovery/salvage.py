"""Salvage the rows of a damaged SQLite database into a new file, and say what may be lost.

Two paths; neither opens the damaged file as a database:

* the page reader (:mod:`acore_doctor.recovery.pages`, always available): the schema comes
  from ``sqlite_schema`` on page 1 (else from the backup, else from schema records found
  anywhere in the file); every table's tree is walked from its root page and each leaf's
  rows go to that table; then every page no tree claimed is read, and a table leaf found
  there (an orphan: its parent or the root was destroyed) goes to the table whose columns its
  records fit (count, types, the NULL of an INTEGER PRIMARY KEY). Freelist pages are never
  read as rows (they keep deleted data). Pages that do not parse are counted, with the rowid
  range their parent gave them, for the estimate of rows lost.
* the sqlite3 CLI's ``.recover``, when the host has a build that can run it (it needs the
  ``sqlite_dbpage`` table, which e.g. Debian 12's build lacks). Its result is used only when
  it holds at least as many rows as the page reader's in every table.

The page reader always runs: its census of damaged pages is what the estimate of lost rows
rests on, whichever path produced the rows.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import sqlite3
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from acore_doctor.probes.databases import open_readonly
from acore_doctor.recovery.backup import table_counts
from acore_doctor.recovery.common import copy_file_synced
from acore_doctor.recovery.leafview import BATCH_GROUPS, LeafView
from acore_doctor.recovery.pages import (
    DAMAGED,
    IN_TREE,
    INDEX_INTERIOR,
    INDEX_LEAF,
    MAGIC,
    OVERFLOW,
    TABLE_LEAF,
    Cell,
    DamagedPage,
    Page,
    PageFile,
    TreeStats,
    Unparsable,
)

BATCH = 2000
SCHEMA_KINDS = ("table", "index", "view", "trigger")
_SQLITE_ENCODINGS = {"utf-8": "UTF-8", "utf-16-le": "UTF-16le", "utf-16-be": "UTF-16be"}
_WITHOUT_ROWID = re.compile(r"\)\s*(?:STRICT\s*,\s*)?WITHOUT\s+ROWID\b", re.IGNORECASE)


@dataclass(frozen=True)
class SchemaEntry:
    kind: str
    name: str
    table: str
    rootpage: int
    sql: str | None


@dataclass
class TableSalvage:
    """One table's share of a salvage."""

    name: str
    rows: int = 0  # rows written into the salvage database
    leaves: int = 0
    clean_leaves: int = 0
    orphan_leaves: int = 0
    rejected: int = 0  # decoded but refused by the table's constraints
    without_rowid: bool = False
    leaf_depth: int | None = None
    damaged: list[DamagedPage] = field(default_factory=list)
    #: rowids (primary-key tuples for WITHOUT ROWID tables) read from pages that did not
    #: parse cleanly, or whose values no real row of the table can hold: they never override
    #: a backup row
    unclean: set[Any] = field(default_factory=set)
    #: (low, high] rowid ranges the damaged file gives whole: leaves that parsed cleanly
    covered: list[tuple[int | None, int | None]] = field(default_factory=list)
    #: leaves that parsed but some of whose cells did not: (low, high, cells on the page)
    suspect: list[tuple[int | None, int | None, int]] = field(default_factory=list)
    #: the schema entry came from the backup (page 1 damaged): nothing of it is verified
    schema_from_backup: bool = False
    interiors: int = 0  # interior pages read, and the child pointers on them (fan-out)
    children: int = 0

    @property
    def fanout(self) -> float:
        return self.children / self.interiors if self.interiors else float(max(self.leaves, 1))

    @property
    def has_damage(self) -> bool:
        return bool(self.damaged or self.suspect or self.schema_from_backup)

    def damaged_ranges(self) -> list[tuple[int, int]]:
        """The (low, high] rowid ranges the damaged file does not give whole: what a
        destroyed or unreadable page held (a leaf's range between its neighbours'
        separators; under a lost interior page, the gaps between the leaves found). Empty
        when every page of the table read and verified."""
        if not self.has_damage:
            return []
        return gaps(self.covered)

    @property
    def average_per_leaf(self) -> float | None:
        return self.rows / self.leaves if self.leaves else None

    def lost_leaves(self) -> list[DamagedPage]:
        """Damaged pages that held rows: leaves (interior pages hold only pointers, and the
        leaves below a destroyed one are found as orphans)."""
        if self.leaf_depth is None:
            # No leaf reached through the tree: a destroyed root held the rows itself, unless
            # orphan leaves of this table turned up (then it was an interior page).
            return [] if self.orphan_leaves else list(self.damaged)
        return [d for d in self.damaged if d.depth >= self.leaf_depth]


ROWID_MIN, ROWID_MAX = -(2**63), 2**63 - 1


def gaps(covered: Iterable[tuple[int | None, int | None]]) -> list[tuple[int, int]]:
    """The (low, high] ranges of rowids no interval of ``covered`` holds."""
    spans = sorted(
        (ROWID_MIN - 1 if low is None else low, ROWID_MAX if high is None else high)
        for low, high in covered
    )
    found, cursor = [], ROWID_MIN - 1
    for low, high in spans:
        if low > cursor:
            found.append((cursor, low))
        cursor = max(cursor, high)
    if cursor < ROWID_MAX:
        found.append((cursor, ROWID_MAX))
    return found


def in_ranges(rowid: int, ranges: list[tuple[int, int]]) -> bool:
    return any(low < rowid <= high for low, high in ranges)


@dataclass
class Salvage:
    ok: bool
    method: str = ""
    tables: dict[str, int] = field(default_factory=dict)  # rows per table in the result
    problems: list[str] = field(default_factory=list)
    details: dict[str, TableSalvage] = field(default_factory=dict)
    schema_source: str = ""  # "page 1" | "backup" | "scan of all pages"
    damaged_pages: int = 0
    unattributed_pages: int = 0  # damaged pages no tree pointed at (owner unknown)
    unassigned_rows: int = 0  # orphan rows that fit no table, or more than one
    pages: int = 0
    #: damaged pages of indexes and sqlite_sequence: rebuilt, no rows lost with them
    rebuilt_pages: set[int] = field(default_factory=set)
    #: table -> the highest AUTOINCREMENT number handed out (bounds the last leaf's rowids)
    sequence: dict[str, int] = field(default_factory=dict)
    #: rows on pages no tree uses whose rowids every tree already accounts for: deleted
    #: content (freed pages, unallocated space), never written into a live table
    stale_rows: int = 0
    #: rows written into the lost_and_found table (their table cannot be told)
    lost_and_found: int = 0
    #: some tree lost an interior or root page (its leaves may be among unreadable pages)
    structure_lost: bool = False
    #: names whose schema entry came from the backup (page 1 damaged)
    backup_schema: set[str] = field(default_factory=set)
    #: pages the header says the file holds beyond its end (a truncated file), and the
    #: rows per page of what was read, to estimate what they held
    missing_pages: int = 0
    rows_per_page: float = 0.0

    @property
    def average_per_leaf(self) -> float:
        leaves = sum(t.leaves for t in self.details.values() if not t.without_rowid)
        rows = sum(t.rows for t in self.details.values() if not t.without_rowid)
        return rows / leaves if leaves else 1.0


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def integrity_ok(path: Path, quick: bool = False) -> bool:
    """``PRAGMA integrity_check`` (``quick``: ``quick_check``, which leaves out whether
    every index entry matches its row: right for a file whose indexes CREATE INDEX just
    built from its rows) says ok."""
    try:
        conn = open_readonly(path)
        try:
            pragma = "quick_check" if quick else "integrity_check"
            return conn.execute(f"PRAGMA {pragma}").fetchall() == [("ok",)]
        finally:
            conn.close()
    except sqlite3.Error:
        return False


def schema_of(path: Path) -> list[SchemaEntry]:
    """The schema of a healthy database (a backup's copy), for a file whose page 1 is gone."""
    conn = open_readonly(path)
    try:
        return [
            SchemaEntry(*row)
            for row in conn.execute("SELECT type, name, tbl_name, rootpage, sql FROM sqlite_schema")
        ]
    finally:
        conn.close()


def encoding_of(path: Path) -> str | None:
    """The text encoding of a healthy database, in Python's spelling."""
    conn = open_readonly(path)
    try:
        name = conn.execute("PRAGMA encoding").fetchone()[0].lower()
    finally:
        conn.close()
    return {"utf-8": "utf-8", "utf-16le": "utf-16-le", "utf-16be": "utf-16-be"}.get(name)


# -- column profiles (what a record of a table looks like) --------------------------------------
@dataclass
class _Column:
    name: str
    affinity: str  # INTEGER | TEXT | BLOB | REAL | NUMERIC
    notnull: bool
    rowid_alias: bool
    insertable: bool


def _affinity(declared: str) -> str:
    """SQLite's affinity rules (datatype3.html §3.1)."""
    upper = declared.upper()
    if "INT" in upper:
        return "INTEGER"
    if any(word in upper for word in ("CHAR", "CLOB", "TEXT")):
        return "TEXT"
    if not upper or "BLOB" in upper:
        return "BLOB"
    if any(word in upper for word in ("REAL", "FLOA", "DOUB")):
        return "REAL"
    return "NUMERIC"


def _columns(conn: sqlite3.Connection, table: str) -> list[_Column]:
    """The columns stored in a record, in record order."""
    info = conn.execute(f"PRAGMA table_xinfo({_quote(table)})").fetchall()
    keys = [row for row in info if row[5]]
    columns = []
    for _cid, name, declared, notnull, _default, pk, hidden in info:
        if hidden == 2:  # a virtual generated column is computed, not stored
            continue
        alias = bool(pk) and len(keys) == 1 and (declared or "").upper() == "INTEGER"
        columns.append(_Column(name, _affinity(declared or ""), bool(notnull), alias, hidden == 0))
    return columns


def _fits(columns: list[_Column], values: list[Any]) -> int:
    """How well a record fits a table: -1 not at all, else a score (higher is better)."""
    if not values or len(values) > len(columns):
        return -1
    score = 0 if len(values) == len(columns) else -1  # fewer: columns added later
    for column, value in zip(columns, values, strict=False):
        if column.rowid_alias:
            if value is not None:
                return -1
            score += 3
            continue
        if value is None:
            if column.notnull:
                return -1
            continue
        kind = column.affinity
        if kind == "INTEGER" or kind == "REAL" or kind == "NUMERIC":
            good = isinstance(value, int | float)
        elif kind == "TEXT":
            good = isinstance(value, str)
        else:
            good = True
        score += 1 if good else -1
    return score


_NUMERIC_TEXT = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")


def impossible(columns: list[_Column], values: list[Any]) -> bool:
    """Values no real row of the table can hold: SQLite converts a number stored into a
    TEXT column to text, and a numeric-looking text stored into an INTEGER, REAL or NUMERIC
    column to a number (datatype3.html §3). A record holding one anyway was altered."""
    for column, value in zip(columns, values, strict=False):
        kind = column.affinity
        if kind == "TEXT" and isinstance(value, int | float) and not column.rowid_alias:
            return True
        if (
            kind in ("INTEGER", "REAL", "NUMERIC")
            and isinstance(value, str)
            and len(value) <= 15
            and _NUMERIC_TEXT.fullmatch(value)
        ):
            return True
    return False


def _fits_cached(
    table: str,
    columns: list[_Column],
    values: list[Any],
    memo: dict[tuple[str, tuple[type, ...]], int],
) -> int:
    """_fits depends only on each value's type (None included): remember it per signature."""
    key = (table, tuple(map(type, values)))
    score = memo.get(key)
    if score is None:
        score = memo[key] = _fits(columns, values)
    return score


# -- writing rows ----------------------------------------------------------------------------------
class _Writer:
    """Batched inserts into the salvage database, counting what each table accepted."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self.columns: dict[str, list[_Column]] = {}
        self.pending: dict[tuple[str, int], list[list[Any]]] = {}
        self.sent: dict[str, int] = {}
        self.stats: dict[str, TableSalvage] = {}
        #: table -> index of its rowid alias (-1: none) when every column is insertable
        self.fast: dict[str, int | None] = {}

    def add_table(self, name: str, stats: TableSalvage) -> None:
        columns = _columns(self.conn, name)
        self.columns[name] = columns
        self.stats[name] = stats
        self.sent[name] = 0
        alias = [i for i, c in enumerate(columns) if c.rowid_alias]
        # The common case, every stored column insertable: a slice instead of a loop.
        simple = all(c.insertable for c in columns)
        self.fast[name] = (alias[0] if alias else -1) if simple else None

    def add(self, table: str, cell: Cell) -> bool:
        columns = self.columns[table]
        values = cell.values
        if len(values) > len(columns):
            return False
        fast = self.fast[table]
        if fast is not None:
            if 0 <= fast < len(values):
                alias_value = values[fast]
                if alias_value is not None and alias_value != cell.rowid:
                    return False
                params = [cell.rowid, *values[:fast], *values[fast + 1 :]]
            else:
                params = [cell.rowid, *values]
        else:
            params = [cell.rowid]
            for column, value in zip(columns, values, strict=False):
                if column.rowid_alias:
                    if value is not None and value != cell.rowid:
                        return False
                    continue  # the rowid is the column
                if column.insertable:
                    params.append(value)
        key = (table, len(values))
        batch = self.pending.setdefault(key, [])
        batch.append(params)
        if len(batch) >= BATCH:
            self._send(key)
        return True

    def _send(self, key: tuple[str, int]) -> None:
        batch = self.pending.pop(key, [])
        if not batch:
            return
        table, width = key
        names = [
            _quote(c.name)
            for c in self.columns[table][:width]
            if c.insertable and not c.rowid_alias
        ]
        sql = (
            f"INSERT OR IGNORE INTO {_quote(table)}({', '.join(['rowid', *names])}) "
            f"VALUES ({', '.join('?' * (len(names) + 1))})"
        )
        before = self.conn.total_changes
        self.conn.executemany(sql, batch)
        accepted = self.conn.total_changes - before
        self.stats[table].rows += accepted
        self.sent[table] += len(batch)

    def flush(self) -> None:
        for key in list(self.pending):
            self._send(key)


# -- the page reader path ---------------------------------------------------------------------------
def _schema_cell(cell: Cell) -> SchemaEntry | None:
    values = cell.values
    if (
        len(values) == 5
        and values[0] in SCHEMA_KINDS
        and isinstance(values[1], str)
        and isinstance(values[2], str)
        and isinstance(values[3], int)
        and (values[4] is None or isinstance(values[4], str))
    ):
        return SchemaEntry(*values)
    return None


def _read_schema(
    pages: PageFile, hint: list[SchemaEntry] | None, result: Salvage
) -> list[SchemaEntry]:
    found: list[SchemaEntry] = []
    stats = TreeStats("sqlite_schema")

    def take(_page: Page, cells: list[Cell], _clean: bool) -> None:
        found.extend(e for e in map(_schema_cell, cells) if e is not None)

    pages.walk_table(1, stats, take)
    if stats.damaged:
        result.problems.append(
            f"schema page(s) damaged: {', '.join(str(d.number) for d in stats.damaged[:5])}"
        )
    names = {e.name for e in found}
    if hint:
        missing = [e for e in hint if e.name not in names]
        if missing and (stats.damaged or not found):
            result.backup_schema.update(e.name for e in missing)
            found += missing
            result.schema_source = "backup" if len(missing) == len(found) else "page 1 + backup"
    if not found:
        # No page 1 and no backup: schema records can still sit on other leaf pages.
        for number in pages.unseen_pages():
            try:
                page = pages.btree_page(number)
            except Unparsable:
                continue
            if page.kind == TABLE_LEAF:
                cells, _ = pages.leaf_cells(page)
                entries = [e for e in map(_schema_cell, cells) if e is not None]
                if entries and len(entries) == len(cells):
                    found += entries
        if found:
            result.schema_source = "scan of all pages"
    elif not result.schema_source:
        result.schema_source = "page 1"
    return found


def _create_schema(
    conn: sqlite3.Connection, schema: list[SchemaEntry], result: Salvage
) -> list[SchemaEntry]:
    """Tables (virtual ones first: they create their shadow tables); returns the rowid and
    WITHOUT ROWID tables to fill, indexes and the rest come after the rows."""
    tables = []
    virtual = [e for e in schema if e.kind == "table" and e.rootpage == 0 and e.sql]
    for entry in virtual:
        try:
            conn.execute(entry.sql)  # type: ignore[arg-type]
        except sqlite3.Error as exc:
            result.problems.append(f"virtual table {entry.name} not recreated: {exc}")
    existing = {r[0] for r in conn.execute("SELECT name FROM sqlite_schema WHERE type='table'")}
    for entry in schema:
        if entry.kind != "table" or entry.rootpage == 0 or not entry.sql:
            continue
        if entry.name.startswith("sqlite_"):
            continue
        if entry.name not in existing:
            try:
                conn.execute(entry.sql)
            except sqlite3.Error as exc:
                result.problems.append(f"table {entry.name} not recreated: {exc}")
                continue
        tables.append(entry)
    return tables


def _finish_schema(conn: sqlite3.Connection, schema: list[SchemaEntry], result: Salvage) -> None:
    for entry in schema:
        if entry.kind in ("index", "view", "trigger") and entry.sql:
            try:
                conn.execute(entry.sql)
            except sqlite3.Error as exc:
                result.problems.append(f"{entry.kind} {entry.name} not recreated: {exc}")


def _salvage_pages(
    source: Path,
    target: Path,
    hint: list[SchemaEntry] | None,
    result: Salvage,
    encoding_hint: str | None = None,
) -> bool:
    """The page reader's salvage of ``source`` into a new database ``target``."""
    target.unlink(missing_ok=True)
    try:
        pages = PageFile(source, wal=source.with_name(source.name + "-wal"))
    except OSError as exc:
        result.problems.append(f"unreadable: {exc.strerror or exc}")
        return False
    with pages:
        result.pages = pages.page_count
        if pages.overlay:
            result.problems.append(
                f"read {len(pages.overlay)} committed page(s) from the -wal file as well"
            )
        if pages.wal_problem:
            result.problems.append(pages.wal_problem)
        if not pages.header.trusted and encoding_hint and pages.header.encoding == "utf-8":
            pages.header.encoding = encoding_hint  # the header is gone: the backup's says
        if not pages.header.trusted:
            result.problems.append(
                f"file header unreadable; read with page size {pages.header.page_size}"
            )
        result.problems += pages.mark_freelist()
        schema = _read_schema(pages, hint, result)
        conn = sqlite3.connect(target, isolation_level=None)
        fast: _FastPath | None = None
        try:
            conn.execute(f"PRAGMA page_size={pages.header.page_size}")
            conn.execute(f"PRAGMA encoding='{_SQLITE_ENCODINGS[pages.header.encoding]}'")
            if not [e for e in schema if e.kind == "table"]:
                result.problems.append("no schema: page 1 is unreadable and no backup holds one")
                conn.execute("BEGIN")
                _all_into_lost_and_found(pages, conn, result)
                conn.execute("COMMIT")
                if not result.lost_and_found:
                    return False
                result.problems.append(
                    f"{result.lost_and_found} row(s) kept in table lost_and_found"
                )
                result.structure_lost = True
                result.damaged_pages = pages.count(DAMAGED)
                return True
            # MEMORY, not OFF: a batch of leaves SQLite rejects is rolled back.
            conn.execute("PRAGMA journal_mode=MEMORY")
            conn.execute("PRAGMA cache_size=-32768")  # 32 MiB, whatever the size
            conn.execute("PRAGMA synchronous=OFF")
            conn.execute("BEGIN")
            tables = _create_schema(conn, schema, result)
            writer = _Writer(conn)
            fast = _FastPath(pages, writer, target.with_name(target.name + ".leaves"))
            sequence: dict[str, int] = {}
            clustered: list[_Clustered] = []
            for entry in tables:
                stats = TableSalvage(entry.name)
                stats.schema_from_backup = entry.name in result.backup_schema
                result.details[entry.name] = stats
                if _WITHOUT_ROWID.search(entry.sql or ""):
                    stats.without_rowid = True
                    clustered.append(_Clustered(conn, entry.name, stats))
                    continue
                writer.add_table(entry.name, stats)
            for entry in schema:
                if entry.kind == "index" and entry.rootpage > 0:
                    index_tree = TreeStats(entry.name)
                    pages.walk_index(entry.rootpage, index_tree)
                    result.rebuilt_pages.update(d.number for d in index_tree.damaged)
            roots = {e.name: e.rootpage for e in tables}
            for table in clustered:
                table.walk(pages, roots[table.name])
            for entry in tables:
                stats = result.details[entry.name]
                if stats.without_rowid:
                    continue
                _walk_into(pages, entry, stats, writer, fast)
            for entry in schema:
                if entry.name == "sqlite_sequence" and entry.rootpage > 0:
                    _walk_sequence(pages, entry.rootpage, sequence, result)
            fast.flush()
            writer.flush()  # rows reached through their tree win over orphans with their rowid
            _adopt_orphans(pages, writer, result, sequence, clustered, fast)
            fast.flush()
            writer.flush()
            for stats in result.details.values():
                stats.rejected = max(0, writer.sent.get(stats.name, 0) - stats.rows)
            _restore_sequence(conn, sequence, result)
            result.sequence = sequence
            _finish_schema(conn, schema, result)
            conn.execute("COMMIT")
        finally:
            conn.close()
            if fast is not None:
                fast.close()
        if pages.header.trusted and not pages.overlay:
            result.missing_pages = max(0, pages.header.page_count - pages.pages_in_file)
        used = pages.count(IN_TREE) + pages.count(OVERFLOW)
        rows = sum(t.rows for t in result.details.values())
        result.rows_per_page = rows / used if used else 0.0
        attributed = {d.number for s in result.details.values() for d in s.damaged}
        attributed |= result.rebuilt_pages
        result.damaged_pages = pages.count(DAMAGED)
        # A lost root leaves no separators to place what was under it: then an unreadable
        # page nothing points at may have been one of its leaves.
        result.structure_lost = result.schema_source != "page 1" or any(
            d.depth == 0 for t in result.details.values() for d in t.damaged
        )
        if result.structure_lost:
            # Only then can an unreadable page nothing points at have been a table's leaf;
            # a page of zeros or a freelist trunk never held rows.
            result.unattributed_pages = sum(
                1
                for number in range(2, pages.page_count + 1)
                if pages.map[number] == DAMAGED
                and number not in attributed
                and not pages.holds_no_rows(number)
            )
        return True


def _walk_into(
    pages: PageFile,
    entry: SchemaEntry,
    stats: TableSalvage,
    writer: _Writer,
    fast: _FastPath | None = None,
) -> None:
    tree = TreeStats(entry.name)
    bulk = fast is not None and fast.usable(entry.name)

    def take(page: Page, cells: list[Cell], clean: bool) -> None:
        bounds = (page.low, page.high)
        if bulk:
            assert fast is not None
            try:
                spills = pages.spills(page)
            except Unparsable:
                spills = True
            if not spills:
                fast.queue(entry.name, page, bounds)
                return
            cells, clean = _read_leaf(pages, page, bounds)
            tree.clean_leaves -= not clean
        _take_leaf(writer, entry.name, stats, page, cells, clean, bounds)

    if bulk:
        tree.clean_leaves = 0
    pages.walk_table(entry.rootpage, tree, take, decode=not bulk)
    if bulk:
        tree.clean_leaves += tree.leaves
    stats.leaves += tree.leaves
    stats.clean_leaves += tree.clean_leaves
    stats.leaf_depth = tree.leaf_depth
    stats.damaged += tree.damaged
    stats.interiors += tree.interiors
    stats.children += tree.children


def _take_leaf(
    writer: _Writer,
    table: str,
    stats: TableSalvage,
    page: Page,
    cells: list[Cell],
    clean: bool,
    bounds: tuple[int | None, int | None],
) -> None:
    """One leaf's rows into ``table``. A page whose cells all decode to values the table
    can hold covers its rowid range; any other is suspect: its rows never override a
    backup's, and its range is filled from the backup where it has rows."""
    columns = writer.columns[table]
    if clean and any(impossible(columns, c.values) for c in cells):
        clean = False
    if not clean:
        cells = _plausible(cells, bounds)
    for cell in cells:
        if writer.add(table, cell) and not clean:
            stats.unclean.add(cell.rowid)
    if clean:
        stats.covered.append(bounds)
    else:
        stats.suspect.append((*bounds, len(page.cells)))


def _read_leaf(
    pages: PageFile, page: Page, bounds: tuple[int | None, int | None]
) -> tuple[list[Cell], bool]:
    """A leaf's cells decoded in Python, clean only if all decode inside its range."""
    cells, clean = pages.leaf_cells(page)
    low, high = bounds
    if any(
        (low is not None and c.rowid <= low) or (high is not None and c.rowid > high) for c in cells
    ):
        clean = False
    return cells, clean


def _suspect() -> int:
    raise ValueError("a suspect row")


class _Slow(Exception):
    """A group of leaves SQLite should not read: the page reader reads them instead."""


class _FastPath:
    """Leaves whose cells do not spill, read by SQLite's decoder (:mod:`leafview`) in
    groups; a group SQLite finds malformed, or whose values fail the type checks, is read
    by the page reader instead, leaf by leaf."""

    def __init__(self, pages: PageFile, writer: _Writer, scratch: Path) -> None:
        header = pages.header
        self.pages, self.writer = pages, writer
        self.view = LeafView(scratch, header.page_size, header.reserved, header.encoding)
        self.pending: dict[str, list[tuple[int, bytes, tuple[int | None, int | None], int]]] = {}
        self.groups: list[
            tuple[str, str, list[tuple[int, tuple[int | None, int | None], int]]]
        ] = []
        self.sql: dict[str, tuple[str, str, str]] = {}
        writer.conn.create_function("acore_suspect", 0, _suspect)

    def close(self) -> None:
        self.view.close()

    def usable(self, table: str) -> bool:
        return self.writer.fast.get(table) is not None

    def queue(self, table: str, page: Page, bounds: tuple[int | None, int | None]) -> None:
        group = self.pending.setdefault(table, [])
        group.append((page.number, page.data, bounds, len(page.cells)))
        if len(group) >= self.view.group_size:
            self._close_group(table)

    def flush(self) -> None:
        for table in list(self.pending):
            self._close_group(table)
        self._read()

    def _statements(self, table: str) -> tuple[str, str, str]:
        """(columns of the reading table, the type check, the column list to copy)."""
        if table not in self.sql:
            conn = self.writer.conn
            info = conn.execute(f"PRAGMA table_xinfo({_quote(table)})").fetchall()
            columns = self.writer.columns[table]
            defs, bad, copy = [], ["0"], []  # bad: terms OR'ed in a WHERE (short-circuit)
            for (_cid, name, declared, _nn, default, _pk, _hidden), column in zip(
                info, columns, strict=False
            ):
                text = f"{_quote(name)} {declared or ''}"
                if column.rowid_alias:
                    text += " PRIMARY KEY"
                else:
                    copy.append(_quote(name))
                if default is not None:
                    text += f" DEFAULT ({default})"
                defs.append(text)
                quoted = _quote(name)
                if column.rowid_alias:
                    continue
                # A number in a TEXT column is a flipped serial type (SQLite would have stored
                # text). The numeric-looking text check of the page reader is left out here:
                # evaluated per row it costs more than the copy itself, and a flip to text
                # rarely reads as a number.
                if column.affinity == "TEXT":
                    bad.append(f"typeof({quoted}) IN ('integer', 'real')")
            self.sql[table] = (", ".join(defs), " OR ".join(bad), ", ".join(copy))
        return self.sql[table]

    def _close_group(self, table: str) -> None:
        group = self.pending.pop(table, [])
        if not group:
            return
        name = self.view.add_group([g[1] for g in group], self._statements(table)[0])
        self.groups.append((table, name, [(n, b, c) for n, _d, b, c in group]))
        if len(self.groups) >= BATCH_GROUPS:
            self._read()

    def _read(self) -> None:
        """Read the queued groups through SQLite in one transaction. A group SQLite finds
        malformed rolls the whole batch back (a corrupt page may leave the read in error),
        and the batch is read again without it; such groups, and those whose rows fail the
        checks, are read by the page reader. Counts are taken only once committed."""
        if not self.groups:
            return
        conn = self.writer.conn
        self.view.finish()
        self.writer.flush()  # rows handed over earlier go in first
        conn.execute("COMMIT")
        slow: set[int] = set()
        try:
            while True:
                try:
                    conn.execute("ATTACH DATABASE ? AS acore_leaves", (str(self.view.path),))
                except sqlite3.Error:
                    slow = set(range(len(self.groups)))
                    break
                done: list[tuple[int, int, int]] = []
                failed: int | None = None
                conn.execute("BEGIN")
                for i, (table, name, leaves) in enumerate(self.groups):
                    if i in slow:
                        continue
                    try:
                        done.append((i, *self._read_group(table, name, leaves)))
                    except _Slow:
                        slow.add(i)
                    except sqlite3.DatabaseError:
                        failed = i
                        break
                if failed is None:
                    try:
                        conn.execute("COMMIT")
                    except sqlite3.DatabaseError:
                        failed = -1
                if failed is not None:
                    if conn.in_transaction:
                        conn.execute("ROLLBACK")
                    conn.execute("DETACH DATABASE acore_leaves")
                    if failed < 0:  # which group, SQLite does not say: all slowly
                        slow = set(range(len(self.groups)))
                        break
                    slow.add(failed)
                    continue
                conn.execute("DETACH DATABASE acore_leaves")
                for i, count, inserted in done:
                    table, _name, leaves = self.groups[i]
                    self.writer.stats[table].rows += inserted
                    self.writer.sent[table] += count
                    self.writer.stats[table].covered.extend(b for _n, b, _c in leaves)
                break
            conn.execute("BEGIN")
            for i in sorted(slow):
                table, _name, leaves = self.groups[i]
                self._read_slowly(table, leaves)
            self.writer.flush()
        finally:
            self.groups.clear()
            self.view.reset()

    def _read_group(
        self, table: str, name: str, leaves: list[tuple[int, tuple[int | None, int | None], int]]
    ) -> tuple[int, int]:
        """(rows read, rows inserted) of one group; raises _Slow when it must be read by the
        page reader (its statement undone), sqlite3.DatabaseError when SQLite finds it
        malformed."""
        conn = self.writer.conn
        _defs, bad, copy = self._statements(table)
        source = f"acore_leaves.{name}"
        # count(*) reads the cell counts only; the copy below decodes every record once.
        count = conn.execute(f"SELECT count(*) FROM {source}").fetchone()[0]
        if count != sum(c for _n, _b, c in leaves):
            raise _Slow
        low = min((b[0] for _n, b, _c in leaves if b[0] is not None), default=None)
        high = max((b[1] for _n, b, _c in leaves if b[1] is not None), default=None)
        if any(b[0] is None for _n, b, _c in leaves):
            low = None
        if any(b[1] is None for _n, b, _c in leaves):
            high = None
        where, params = _rowid_range(low, high)
        columns = f"rowid{', ' + copy if copy else ''}"
        before = conn.total_changes
        try:
            # A value no real row can hold, or a row outside the group's range, fails the
            # statement (acore_suspect raises; SQLite undoes the statement).
            conn.execute(
                f"INSERT OR IGNORE INTO main.{_quote(table)}({columns}) SELECT {columns} "
                f"FROM {source} WHERE NOT ({bad} OR NOT ({where})) OR acore_suspect()",
                params,
            )
        except sqlite3.OperationalError as exc:
            if "user-defined function raised exception" in str(exc):
                raise _Slow from exc
            raise
        return count, conn.total_changes - before

    def _read_slowly(
        self, table: str, leaves: list[tuple[int, tuple[int | None, int | None], int]]
    ) -> None:
        stats = self.writer.stats[table]
        for number, bounds, _cells in leaves:
            try:
                page = self.pages.btree_page(number)
            except Unparsable:
                continue
            cells, clean = _read_leaf(self.pages, page, bounds)
            stats.clean_leaves -= not clean
            _take_leaf(self.writer, table, stats, page, cells, clean, bounds)


def _plausible(cells: list[Cell], bounds: tuple[int | None, int | None]) -> list[Cell]:
    """Of a leaf that holds garbage, the cells that can be real: a leaf's cells hold rowids
    inside the range its parent gave it, in increasing order. Garbage that happens to
    decode as a record rarely does both."""
    low, high = bounds
    kept: list[Cell] = []
    for cell in cells:
        if (low is not None and cell.rowid <= low) or (high is not None and cell.rowid > high):
            continue
        if kept and cell.rowid <= kept[-1].rowid:
            continue
        kept.append(cell)
    return kept


def _walk_sequence(pages: PageFile, root: int, out: dict[str, int], result: Salvage) -> None:
    def take(_page: Page, cells: list[Cell], _clean: bool) -> None:
        for cell in cells:
            if len(cell.values) == 2 and isinstance(cell.values[0], str):
                seq = cell.values[1]
                if isinstance(seq, int):
                    out[cell.values[0]] = max(out.get(cell.values[0], 0), seq)

    tree = TreeStats("sqlite_sequence")
    pages.walk_table(root, tree, take)
    # Lost sequence numbers come back as the highest rowid of each table (AUTOINCREMENT
    # sets them from the rows inserted): no rows are lost with these pages.
    result.rebuilt_pages.update(d.number for d in tree.damaged)


def _adopt_orphans(
    pages: PageFile,
    writer: _Writer,
    result: Salvage,
    sequence: dict[str, int],
    clustered: list[_Clustered],
    fast: _FastPath | None = None,
) -> None:
    """Table leaves no tree reached (their parent or root was destroyed) go to the table
    whose columns every record on the page fits, best; a tie is not guessed. Index pages
    no tree reached go to a WITHOUT ROWID table when all their records fit it alone."""
    candidates = list(writer.columns.items())
    memo: dict[tuple[str, tuple[type, ...]], int] = {}
    # Where each table lacks rows: orphan rows go only there. Rows whose rowids a table's
    # verified leaves already account for were deleted (freed pages keep them).
    open_ranges = {name: writer.stats[name].damaged_ranges() for name, _ in candidates}
    lost = _LostAndFound(writer.conn, result)
    for number in pages.unseen_pages():
        try:
            page = pages.btree_page(number)
        except Unparsable:
            pages.map[number] = DAMAGED  # unless an overflow chain claims it later
            continue
        pages.map[number] = IN_TREE
        if page.kind in (INDEX_LEAF, INDEX_INTERIOR) and clustered:
            _adopt_index_page(pages, page, clustered, memo)
            continue
        if page.kind != TABLE_LEAF:
            continue  # an orphan interior or index page: its leaves are found on their own
        if fast is not None and _orphan_to_sqlite(pages, page, writer, fast, open_ranges, memo):
            continue
        cells, clean = pages.leaf_cells(page)
        if not cells:
            continue
        if all(_schema_cell(c) is not None for c in cells):
            continue
        if all(
            len(c.values) == 2 and isinstance(c.values[0], str) and c.values[0] in writer.columns
            for c in cells
        ):
            for cell in cells:  # an orphaned sqlite_sequence page
                if isinstance(cell.values[1], int):
                    name = cell.values[0]
                    sequence[name] = max(sequence.get(name, 0), cell.values[1])
            continue
        scores = []
        for name, columns in candidates:
            fits = [_fits_cached(name, columns, c.values, memo) for c in cells]
            inside = [c for c in cells if in_ranges(c.rowid, open_ranges[name])]
            if min(fits) >= 0 and inside:
                scores.append((sum(fits), name, inside))
        scores.sort(key=lambda found: found[0], reverse=True)
        if not scores:
            result.stale_rows += len(cells)
            continue
        if len(scores) > 1 and scores[0][0] == scores[1][0]:
            # Fits more than one table where each lacks rows (twin tables): kept, not guessed.
            lost.add(number, cells)
            continue
        _score, table, inside = scores[0]
        result.stale_rows += len(cells) - len(inside)
        stats = writer.stats[table]
        stats.orphan_leaves += 1
        stats.leaves += 1
        stats.clean_leaves += clean
        rowids = [c.rowid for c in inside]
        _take_leaf(writer, table, stats, page, inside, clean, (min(rowids) - 1, max(rowids)))


def _orphan_to_sqlite(
    pages: PageFile,
    page: Page,
    writer: _Writer,
    fast: _FastPath,
    open_ranges: dict[str, list[tuple[int, int]]],
    memo: dict[tuple[str, tuple[type, ...]], int],
) -> bool:
    """The common orphan, handed to SQLite's decoder: no cell spills, its first record
    fits one table best, and all its rowids fall in one of
    that table's damaged ranges. False: the page reader decides cell by cell."""
    try:
        if not page.cells or pages.spills(page):
            return False
        sample = [pages.leaf_cell(page, page.cells[0])]
        last = pages.cell_rowid(page, page.cells[-1])
    except Unparsable:
        return False
    if any(_schema_cell(c) is not None for c in sample) or any(
        len(c.values) == 2 and isinstance(c.values[0], str) for c in sample
    ):
        return False  # schema or sqlite_sequence records: the careful path
    # A leaf's cells are in rowid order: the first and last hold its range (SQLite's read
    # of the group checks that every row falls in it, and the types of every value).
    low, high = sample[0].rowid, last
    if low > high:
        return False
    scores = []
    for name, columns in writer.columns.items():
        fits = [_fits_cached(name, columns, c.values, memo) for c in sample]
        inside = any(a < low and high <= b for a, b in open_ranges[name])
        if min(fits) >= 0 and inside:
            scores.append((sum(fits), name))
    scores.sort(reverse=True)
    if not scores or (len(scores) > 1 and scores[0][0] == scores[1][0]):
        return False
    table = scores[0][1]
    if not fast.usable(table):
        return False
    stats = writer.stats[table]
    stats.orphan_leaves += 1
    stats.leaves += 1
    stats.clean_leaves += 1
    fast.queue(table, page, (low - 1, high))
    return True


class _LostAndFound:
    """Rows whose table cannot be told, kept as SQLite's ``.recover`` keeps them: a
    ``lost_and_found`` table of (rootpgno, pgno, nfield, id, c0, c1, ...)."""

    def __init__(self, conn: sqlite3.Connection, result: Salvage) -> None:
        self.conn, self.result, self.width = conn, result, -1

    def add(self, page: int, cells: list[Cell]) -> None:
        widest = max(len(c.values) for c in cells)
        if self.width < 0:
            self.conn.execute(
                "CREATE TABLE IF NOT EXISTS lost_and_found("
                "rootpgno INTEGER, pgno INTEGER, nfield INTEGER, id INTEGER)"
            )
            self.width = 0
        while self.width < widest:
            self.conn.execute(f"ALTER TABLE lost_and_found ADD COLUMN c{self.width}")
            self.width += 1
        for width in {len(c.values) for c in cells}:
            names = ", ".join(f"c{i}" for i in range(width))
            self.conn.executemany(
                f"INSERT INTO lost_and_found(rootpgno, pgno, nfield, id"
                f"{', ' + names if names else ''}) VALUES (NULL, ?, ?, ?{', ?' * width})",
                [(page, width, c.rowid, *c.values) for c in cells if len(c.values) == width],
            )
        self.result.lost_and_found += len(cells)


def _all_into_lost_and_found(pages: PageFile, conn: sqlite3.Connection, result: Salvage) -> None:
    """No schema anywhere (page 1 gone, no backup): every table leaf's rows are kept in
    lost_and_found, as ``.recover`` does."""
    lost = _LostAndFound(conn, result)
    for number in pages.unseen_pages():
        try:
            page = pages.btree_page(number)
        except Unparsable:
            pages.map[number] = DAMAGED
            continue
        pages.map[number] = IN_TREE
        if page.kind != TABLE_LEAF:
            continue
        cells, _clean = pages.leaf_cells(page)
        if cells:
            lost.add(number, cells)


class _Clustered:
    """A WITHOUT ROWID table: its rows are the records of an index b-tree, primary-key
    columns first, then the others in table order (fileformat2 §2.4)."""

    def __init__(self, conn: sqlite3.Connection, name: str, stats: TableSalvage) -> None:
        self.conn, self.name, self.stats = conn, name, stats
        stats.leaf_depth = 0  # every page of an index b-tree, interior too, holds rows
        info = conn.execute(f"PRAGMA table_xinfo({_quote(name)})").fetchall()
        stored = [row for row in info if row[6] != 2]
        keys = sorted((row for row in stored if row[5]), key=lambda row: row[5])
        ordered = keys + [row for row in stored if not row[5]]
        self.key_width = len(keys)
        self.names = [row[1] for row in ordered]
        self.insertable = [row[6] == 0 for row in ordered]
        self.profile = [
            _Column(row[1], _affinity(row[2] or ""), bool(row[3]) or bool(row[5]), False, True)
            for row in ordered
        ]

    def take(self, records: list[list[Any]], clean: bool, cells: int | None = None) -> None:
        self.stats.leaves += 1
        self.stats.clean_leaves += clean
        if not clean:
            self.stats.suspect.append((None, None, max(0, (cells or 0) - len(records))))
        by_width: dict[int, list[list[Any]]] = {}
        for record in records:
            if self.key_width <= len(record) <= len(self.names):
                by_width.setdefault(len(record), []).append(record)
                if not clean:
                    self.stats.unclean.add(tuple(record[: self.key_width]))
        for width, batch in by_width.items():
            keep = [i for i in range(width) if self.insertable[i]]
            names = ", ".join(_quote(self.names[i]) for i in keep)
            before = self.conn.total_changes
            self.conn.executemany(
                f"INSERT OR IGNORE INTO {_quote(self.name)}({names}) "
                f"VALUES ({', '.join('?' * len(keep))})",
                ([record[i] for i in keep] for record in batch),
            )
            self.stats.rows += self.conn.total_changes - before

    def walk(self, pages: PageFile, root: int) -> None:
        tree = TreeStats(self.name)
        pages.walk_index(
            root, tree, lambda page, records, clean: self.take(records, clean, len(page.cells))
        )
        self.stats.damaged += tree.damaged


def _adopt_index_page(
    pages: PageFile,
    page: Page,
    clustered: list[_Clustered],
    memo: dict[tuple[str, tuple[type, ...]], int],
) -> None:
    records, clean = pages.index_records(page)
    if not records:
        return
    fitting = [
        table
        for table in clustered
        if all(_fits_cached(table.name, table.profile, r, memo) >= 0 for r in records)
    ]
    if len(fitting) == 1:
        fitting[0].stats.orphan_leaves += 1
        fitting[0].take(records, clean, len(page.cells))


def _restore_sequence(conn: sqlite3.Connection, sequence: dict[str, int], result: Salvage) -> None:
    """AUTOINCREMENT never hands out a number twice: keep the highest one the file knew."""
    if not sequence:
        return
    try:
        for name, seq in sequence.items():
            updated = conn.execute(
                "UPDATE sqlite_sequence SET seq = max(seq, ?) WHERE name = ?", (seq, name)
            ).rowcount
            if not updated:
                conn.execute("INSERT INTO sqlite_sequence(name, seq) VALUES (?, ?)", (name, seq))
    except sqlite3.Error as exc:
        result.problems.append(f"sqlite_sequence not restored: {exc}")


# -- the sqlite3 CLI path -------------------------------------------------------------------------
@functools.cache
def cli_can_recover(cli: str) -> bool:
    """``.recover`` reads pages through the sqlite_dbpage virtual table; some builds (Debian
    12's 3.40) leave it out, and then ``.recover`` fails on every database."""
    try:
        probe = subprocess.run(
            [cli, ":memory:", "SELECT count(*) FROM sqlite_dbpage"],
            capture_output=True,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return False
    return probe.returncode == 0


def _recover_with_cli(source: Path, target: Path, cli: str) -> str | None:
    """The CLI's .recover piped into a new database; None when that worked."""
    target.unlink(missing_ok=True)
    try:
        dump = subprocess.Popen(
            [cli, "-readonly", str(source), ".recover"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        load = subprocess.run(
            [cli, str(target)],
            stdin=dump.stdout,
            capture_output=True,
            timeout=3600,
            check=False,
        )
        if dump.stdout:
            dump.stdout.close()
        dump_err = dump.stderr.read().decode(errors="replace") if dump.stderr else ""
        dump.wait(timeout=60)
    except (OSError, subprocess.SubprocessError) as exc:
        return f".recover could not run: {exc}"
    if dump.returncode != 0:
        return f".recover exited {dump.returncode}: {dump_err.strip()[:200]}"
    if load.returncode != 0:
        return f"loading .recover output failed: {load.stderr.decode(errors='replace')[:200]}"
    return None


def _counts(path: Path) -> dict[str, int]:
    try:
        conn = open_readonly(path)
        try:
            return table_counts(conn)
        finally:
            conn.close()
    except sqlite3.Error:
        return {}


def _try_cli(source: Path, target: Path, result: Salvage) -> None:
    """Swap in .recover's output when the host's CLI can make one that holds more."""
    cli = shutil.which("sqlite3")
    if not cli:
        result.problems.append("no sqlite3 CLI on this host; the page reader's result is used")
        return
    if not cli_can_recover(cli):
        result.problems.append(f"{cli} cannot .recover (built without sqlite_dbpage)")
        return
    scratch = target.with_name(target.name + ".src")
    attempt = target.with_name(target.name + ".recover")
    try:
        copy_file_synced(source, scratch)
        _give_header(scratch)
        failure = _recover_with_cli(scratch, attempt, cli)
        if failure or not integrity_ok(attempt):
            result.problems.append(failure or ".recover produced no valid database")
            return
        theirs, ours = _counts(attempt), result.tables
        if ours and all(theirs.get(name, 0) >= rows for name, rows in ours.items()):
            attempt.replace(target)
            result.method = "sqlite3 .recover"
            result.tables = theirs
            # .recover keeps rows it cannot place (freed pages included) in lost_and_found.
            result.lost_and_found = max(result.lost_and_found, theirs.get("lost_and_found", 0))
        else:
            result.problems.append(".recover found fewer rows than the page reader; not used")
    finally:
        scratch.unlink(missing_ok=True)
        attempt.unlink(missing_ok=True)


def _give_header(scratch: Path) -> None:
    """.recover needs a readable header; a copy whose magic is gone gets a plausible one."""
    with scratch.open("rb") as handle:
        if handle.read(16) == MAGIC:
            return
    with PageFile(scratch) as pages:
        size = pages.header.page_size
    header = bytearray(100)
    header[0:16] = MAGIC
    header[16:18] = (1 if size == 65536 else size).to_bytes(2, "big")
    header[18:24] = bytes([1, 1, 0, 64, 32, 32])
    header[24:28] = header[92:96] = (1).to_bytes(4, "big")  # change counter == valid-for
    header[28:32] = (scratch.stat().st_size // size).to_bytes(4, "big")
    header[40:44] = (1).to_bytes(4, "big")  # schema cookie: nonzero, so the schema is read
    header[44:48] = (4).to_bytes(4, "big")
    header[56:60] = (1).to_bytes(4, "big")  # UTF-8
    header[96:100] = (3040001).to_bytes(4, "big")
    with scratch.open("r+b") as handle:
        handle.write(header)


# -- the entry point ----------------------------------------------------------------------------
def salvage_sqlite(
    source: Path,
    target: Path,
    use_cli: bool | None = None,
    schema_hint: list[SchemaEntry] | None = None,
    encoding_hint: str | None = None,
) -> Salvage:
    """Salvage ``source`` (never written) into ``target`` (replaced if present).

    ``use_cli`` None means 'when the host's sqlite3 CLI can .recover'; False never uses it.
    ``schema_hint`` is the schema of a backup's copy, used when page 1 is unreadable.
    """
    result = Salvage(ok=False, method="page reader")
    if not _salvage_pages(source, target, schema_hint, result, encoding_hint):
        target.unlink(missing_ok=True)
        return result
    if not integrity_ok(target, quick=True):
        result.problems.append("the salvaged database fails quick_check")
        return result
    result.tables = _counts(target)
    if use_cli is not False:
        _try_cli(source, target, result)
    result.ok = True
    return result


def describe(result: Salvage) -> Iterable[str]:
    """Lines about a salvage, for the audit log and the operator."""
    yield f"path: {result.method}; schema from {result.schema_source or 'nowhere'}"
    if result.damaged_pages:
        yield (
            f"{result.damaged_pages} of {result.pages} page(s) did not parse"
            + (
                f" ({result.unattributed_pages} no longer pointed at by any tree)"
                if result.unattributed_pages
                else ""
            )
        )
    if result.unassigned_rows:
        yield f"{result.unassigned_rows} row(s) on orphan pages fit no single table"


# -- salvage + backup -> one database, with an honest count ------------------------------------
@dataclass
class TableOutcome:
    name: str
    in_backup: int | None  # None: no backup copy, or the table is newer than it
    salvaged: int
    in_result: int
    maybe_lost: int
    #: rows taken from the backup inside damaged ranges: may have been deleted or changed since
    restored: int = 0
    replaced: int = 0  # suspect rows of the damaged file replaced by the backup's copy
    note: str = ""

    def describe(self) -> str:
        backup = "-" if self.in_backup is None else str(self.in_backup)
        text = (
            f"{self.name}: backup {backup}, salvaged {self.salvaged}, result {self.in_result}"
            f", maybe lost {self.maybe_lost}"
        )
        if self.restored:
            text += (
                f", {self.restored} restored from backup (damaged range; may have been"
                " deleted or changed since)"
            )
        if self.replaced:
            text += f", {self.replaced} suspect row(s) taken as backed up"
        return text + (f"; {self.note}" if self.note else "")


@dataclass
class Rebuild:
    """What :func:`rebuild_database` produced: ``ok`` means ``target`` is a valid database."""

    ok: bool
    salvage: Salvage
    backup_id: str | None = None
    tables: list[TableOutcome] = field(default_factory=list)
    unknown_lost: int = 0  # rows that may be lost from pages nothing points at any more
    changed: list[str] = field(default_factory=list)  # "table rowid N" taken as backed up
    problems: list[str] = field(default_factory=list)

    @property
    def maybe_lost(self) -> int:
        return sum(t.maybe_lost for t in self.tables) + self.unknown_lost

    @property
    def restored(self) -> int:
        return sum(t.restored for t in self.tables)

    @property
    def complete(self) -> bool:
        """Nothing is known or estimated to be lost, nothing came back from the backup that
        may have been deleted since, and every row is in its own table."""
        return (
            self.ok
            and self.maybe_lost == 0
            and self.restored == 0
            and self.salvage.lost_and_found == 0
        )

    def summary(self) -> str:
        base = f"base: backup {self.backup_id}" if self.backup_id else "no backup: salvage only"
        lines = [base, *describe(self.salvage), *(t.describe() for t in self.tables)]
        if self.unknown_lost:
            lines.append(f"maybe lost in pages of unknown tables: {self.unknown_lost}")
        if self.salvage.lost_and_found:
            lines.append(
                f"{self.salvage.lost_and_found} row(s) whose table cannot be told are in table"
                " lost_and_found"
            )
        suspect = sum(len(t.unclean) for t in self.salvage.details.values()) - sum(
            t.replaced for t in self.tables
        )
        if suspect > 0:
            lines.append(
                f"{suspect} row(s) read from pages holding garbage kept as found"
                " (no backup copy to check them against)"
            )
        if self.salvage.stale_rows:
            lines.append(
                f"{self.salvage.stale_rows} deleted row(s) still on freed or unused pages"
                " not restored"
            )
        if self.changed:
            shown = ", ".join(self.changed[:10])
            more = f" and {len(self.changed) - 10} more" if len(self.changed) > 10 else ""
            lines.append(f"suspect rows taken as backed up: {shown}{more}")
        return "; ".join(lines)


def rebuild_database(
    damaged: Path,
    target: Path,
    work: Path,
    backup_copy: Path | None = None,
    backup_id: str | None = None,
    use_cli: bool | None = None,
) -> Rebuild:
    """Build ``target`` from every row salvaged from ``damaged`` (the truth wherever its
    pages read and verify), filling only the key ranges of destroyed or unreadable pages
    from a verified backup copy. Rows of the backup outside those ranges that the damaged
    file lacks were deleted since: they stay deleted. ``damaged`` and ``backup_copy`` are
    only read (never attached: the two may differ in text encoding); intermediate files go
    to ``work``. ``target`` passes integrity_check when ``ok``."""
    work.mkdir(parents=True, exist_ok=True)
    salvaged = work / "salvage.db"
    hint = schema_of(backup_copy) if backup_copy else None
    encoding = encoding_of(backup_copy) if backup_copy else None
    salvage = salvage_sqlite(
        damaged, salvaged, use_cli=use_cli, schema_hint=hint, encoding_hint=encoding
    )
    rebuild = Rebuild(ok=False, salvage=salvage, backup_id=backup_id if backup_copy else None)
    try:
        backup_counts = None
        if backup_copy is not None:
            conn = open_readonly(backup_copy)
            try:
                backup_counts = table_counts(conn)
            finally:
                conn.close()
        if salvage.ok:
            _move(salvaged, target)
        elif backup_copy is not None:
            # Nothing read from the damaged file: the backup is all there is, and every row
            # of it may have been deleted or changed since.
            copy_file_synced(backup_copy, target)
            rebuild.problems.append(
                "nothing salvaged from the damaged file; the result is the backup: "
                + "; ".join(salvage.problems[:2])
            )
        else:
            rebuild.problems += salvage.problems
            return rebuild
        conn = sqlite3.connect(target, isolation_level=None)
        try:
            if salvage.ok and backup_copy is not None:
                _fill_from_backup(conn, backup_copy, rebuild)
            _account(conn, rebuild, backup_counts, whole_backup=not salvage.ok)
        finally:
            conn.close()
        # The salvage alone already passed integrity_check (salvage_sqlite) and was not
        # written since; anything merged in is checked again.
        rebuild.ok = (salvage.ok and backup_copy is None) or integrity_ok(target)
        if not rebuild.ok:
            rebuild.problems.append("the rebuilt database fails integrity_check")
        return rebuild
    finally:
        salvaged.unlink(missing_ok=True)


def _move(source: Path, target: Path) -> None:
    """Rename when on one filesystem (no second copy of a large file), else copy."""
    try:
        os.replace(source, target)
    except OSError:
        copy_file_synced(source, target)


def _stored_columns(conn: sqlite3.Connection, table: str) -> list[str]:
    """Columns a row is inserted with (generated and hidden ones left out)."""
    info = conn.execute(f"PRAGMA table_xinfo({_quote(table)})").fetchall()
    return [row[1] for row in info if row[6] == 0]


def _fill_from_backup(conn: sqlite3.Connection, backup: Path, rebuild: Rebuild) -> None:
    """Rows of the backup inside the damaged ranges of each table that the salvage lacks,
    and the backup's copy of suspect rows (read from pages that did not verify). The
    backup is read through its own connection and its values inserted here: SQLite
    converts text between the two files' encodings."""
    salvage = rebuild.salvage
    source = open_readonly(backup)
    try:
        theirs = {
            r[0]: r[1] or ""
            for r in source.execute(
                "SELECT name, sql FROM sqlite_schema WHERE type='table' AND rootpage > 0"
            )
        }
        conn.execute("BEGIN")
        for name, stats in salvage.details.items():
            if name.startswith("sqlite_") or name not in theirs:
                continue
            ours = _stored_columns(conn, name)
            common = [c for c in _stored_columns(source, name) if c in ours]
            if not common:
                continue
            outcome = TableOutcome(name, None, stats.rows, 0, 0)
            rebuild.tables.append(outcome)
            if stats.without_rowid:
                _fill_clustered(conn, source, name, stats, common, outcome, rebuild)
            else:
                _fill_rowid(conn, source, name, stats, common, outcome, rebuild)
        if "sqlite_sequence" in theirs and _has_table(conn, "sqlite_sequence"):
            for seq_name, seq in source.execute("SELECT name, seq FROM sqlite_sequence"):
                if not conn.execute(
                    "UPDATE sqlite_sequence SET seq = max(seq, ?) WHERE name = ?", (seq, seq_name)
                ).rowcount:
                    conn.execute(
                        "INSERT INTO sqlite_sequence(name, seq) VALUES (?, ?)", (seq_name, seq)
                    )
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    finally:
        source.close()


def _has_table(conn: sqlite3.Connection, name: str) -> bool:
    return (
        conn.execute(
            "SELECT 1 FROM sqlite_schema WHERE type='table' AND name = ?", (name,)
        ).fetchone()
        is not None
    )


def _fill_rowid(
    conn: sqlite3.Connection,
    source: sqlite3.Connection,
    name: str,
    stats: TableSalvage,
    common: list[str],
    outcome: TableOutcome,
    rebuild: Rebuild,
) -> None:
    table = _quote(name)
    quoted = ", ".join(_quote(c) for c in common)
    insert = f"INSERT OR IGNORE INTO {table}(rowid, {quoted}) VALUES (?{', ?' * len(common)})"
    for low, high in stats.damaged_ranges():
        where, params = _rowid_range(low, high)
        rows = source.execute(f"SELECT rowid, {quoted} FROM {table} WHERE {where}", params)
        while batch := rows.fetchmany(BATCH):
            before = conn.total_changes
            conn.executemany(insert, batch)
            outcome.restored += conn.total_changes - before
    suspect = sorted(stats.unclean)
    assign = ", ".join(f"{_quote(c)} = ?" for c in common)
    read = f"SELECT {quoted} FROM {table} WHERE rowid = ?"
    for rowid in suspect:
        backed_up = source.execute(read, (rowid,)).fetchone()
        if backed_up is None or conn.execute(read, (rowid,)).fetchone() == backed_up:
            continue
        try:
            conn.execute(f"UPDATE {table} SET {assign} WHERE rowid = ?", (*backed_up, rowid))
        except sqlite3.IntegrityError:
            continue  # the backup's copy clashes with a newer row: the newer row stays
        outcome.replaced += 1
        rebuild.changed.append(f"{name} rowid {rowid}")


def _rowid_range(low: int | None, high: int | None) -> tuple[str, tuple[int, ...]]:
    """SQL for rowid > low AND rowid <= high, an open end left out (SQLite's integers stop
    at 64 bits)."""
    clauses, params = [], []
    if low is not None and low >= ROWID_MIN:
        clauses.append("rowid > ?")
        params.append(low)
    if high is not None and high < ROWID_MAX:
        clauses.append("rowid <= ?")
        params.append(high)
    return " AND ".join(clauses) or "1", tuple(params)


def _fill_clustered(
    conn: sqlite3.Connection,
    source: sqlite3.Connection,
    name: str,
    stats: TableSalvage,
    common: list[str],
    outcome: TableOutcome,
    rebuild: Rebuild,
) -> None:
    """A WITHOUT ROWID table: its key ranges are not tracked, so a damaged one takes every
    backup row it lacks, each counted as restored (may have been deleted since)."""
    if not stats.has_damage:
        return
    table = _quote(name)
    quoted = ", ".join(_quote(c) for c in common)
    rows = source.execute(f"SELECT {quoted} FROM {table}")
    insert = f"INSERT OR IGNORE INTO {table}({quoted}) VALUES ({', '.join('?' * len(common))})"
    while batch := rows.fetchmany(BATCH):
        before = conn.total_changes
        conn.executemany(insert, batch)
        outcome.restored += conn.total_changes - before
    info = conn.execute(f"PRAGMA table_info({table})").fetchall()
    keys = [r[1] for r in sorted((r for r in info if r[5]), key=lambda r: r[5])]
    if not set(keys) <= set(common):
        return
    match = " AND ".join(f"{_quote(k)} IS ?" for k in keys)
    read = f"SELECT {quoted} FROM {table} WHERE {match}"
    assign = ", ".join(f"{_quote(c)} = ?" for c in common)
    for key in sorted(stats.unclean, key=repr):
        backed_up = source.execute(read, key).fetchone()
        if backed_up is None or conn.execute(read, key).fetchone() == backed_up:
            continue
        try:
            conn.execute(f"UPDATE {table} SET {assign} WHERE {match}", (*backed_up, *key))
        except sqlite3.IntegrityError:
            continue
        outcome.replaced += 1
        rebuild.changed.append(f"{name} key {tuple(key)!r}")


def _account(
    conn: sqlite3.Connection,
    rebuild: Rebuild,
    backup_counts: dict[str, int] | None,
    whole_backup: bool = False,
) -> None:
    """Rows per table in the backup, the salvage and the result, and the estimate of rows
    lost, from every signal: each destroyed leaf counts the table's average rows per leaf,
    each leaf that parsed but holds cells that do not its own cell count, each capped by
    the width of its rowid range and less the rows the result holds in that range (the
    backup may have filled them); rows refused by the table's constraints; unreadable
    pages nothing points at, when some tree lost an interior page."""
    salvage = rebuild.salvage
    by_name = {t.name: t for t in rebuild.tables}
    average = salvage.average_per_leaf
    for name, rows in table_counts(conn).items():
        if name == "lost_and_found" and name not in salvage.details:
            continue
        stats = salvage.details.get(name)
        outcome = by_name.get(name) or TableOutcome(name, None, stats.rows if stats else 0, 0, 0)
        if name not in by_name:
            rebuild.tables.append(outcome)
        outcome.in_backup = None if backup_counts is None else backup_counts.get(name)
        outcome.in_result = rows
        if whole_backup:
            outcome.restored = rows
            outcome.note = "taken whole from the backup"
            continue
        if stats is None:
            outcome.note = "not found in the damaged file's schema"
            continue
        per_leaf = max(1, round(stats.average_per_leaf or average))
        table = _quote(name)
        ceiling = per_leaf * max(salvage.pages, 1)  # never more rows than pages could hold
        regions = []
        for page in stats.damaged:
            if stats.without_rowid:
                regions.append((None, None, per_leaf))
            elif page.low is None and page.high is None:
                if page in stats.lost_leaves():
                    regions.append((None, None, per_leaf))  # a root that was the only leaf
            else:
                # A lost interior page held the leaves below it: the fan-out says how many.
                levels = max(0, (stats.leaf_depth or page.depth) - page.depth)
                expected = min(ceiling, round(per_leaf * stats.fanout**levels))
                regions.append((page.low, page.high, expected))
        regions += stats.suspect
        for low, high, expected in regions:
            if low is None and high is None:
                outcome.maybe_lost += expected
                continue
            # The last leaf's rows end at the highest AUTOINCREMENT number handed out.
            if high is None:
                high = salvage.sequence.get(name, ROWID_MAX)
            where, params = _rowid_range(low, high)
            present = conn.execute(f"SELECT count(*) FROM {table} WHERE {where}", params)
            # A range of n rowids holds at most n rows.
            width = high - (ROWID_MIN - 1 if low is None else low)
            outcome.maybe_lost += max(0, min(expected, width) - present.fetchone()[0])
        if stats.rejected:
            outcome.note = f"{stats.rejected} salvaged row(s) refused by the table's constraints"
            outcome.maybe_lost += stats.rejected
    rebuild.unknown_lost = round(salvage.unattributed_pages * average) + salvage.unassigned_rows
    # A truncated file: the pages past its end held about as many rows per page as the rest.
    cut = round(salvage.missing_pages * salvage.rows_per_page)
    rebuild.unknown_lost += max(0, cut - sum(t.maybe_lost for t in rebuild.tables))
    rebuild.tables.sort(key=lambda t: t.name)
