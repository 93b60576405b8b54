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
from acore_doctor.recovery.pages import (
    DAMAGED,
    IN_TREE,
    INDEX_INTERIOR,
    INDEX_LEAF,
    MAGIC,
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
    #: parse cleanly: they never override a backup row
    unclean: set[Any] = field(default_factory=set)

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

    @property
    def average_per_leaf(self) -> float:
        leaves = sum(t.leaves for t in self.details.values() if not t.without_rowid)
        rows = sum(t.rows for t in self.details.values() if not t.without_rowid)
        return rows / leaves if leaves else 1.0


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def integrity_ok(path: Path) -> bool:
    try:
        conn = open_readonly(path)
        try:
            return conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
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
    source: Path, target: Path, hint: list[SchemaEntry] | None, result: Salvage
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
        if not pages.header.trusted:
            result.problems.append(
                f"file header unreadable; read with page size {pages.header.page_size}"
            )
        result.problems += pages.mark_freelist()
        schema = _read_schema(pages, hint, result)
        if not [e for e in schema if e.kind == "table"]:
            result.problems.append("no schema: page 1 is unreadable and no backup holds one")
            return False
        conn = sqlite3.connect(target, isolation_level=None)
        try:
            conn.execute(f"PRAGMA page_size={pages.header.page_size}")
            conn.execute("PRAGMA journal_mode=OFF")
            conn.execute("PRAGMA synchronous=OFF")
            conn.execute("BEGIN")
            tables = _create_schema(conn, schema, result)
            writer = _Writer(conn)
            sequence: dict[str, int] = {}
            clustered: list[_Clustered] = []
            for entry in tables:
                stats = TableSalvage(entry.name)
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
                _walk_into(pages, entry, stats, writer)
            for entry in schema:
                if entry.name == "sqlite_sequence" and entry.rootpage > 0:
                    _walk_sequence(pages, entry.rootpage, sequence, result)
            writer.flush()  # rows reached through their tree win over orphans with their rowid
            _adopt_orphans(pages, writer, result, sequence, clustered)
            writer.flush()
            for stats in result.details.values():
                stats.rejected = max(0, writer.sent.get(stats.name, 0) - stats.rows)
            _restore_sequence(conn, sequence, result)
            result.sequence = sequence
            _finish_schema(conn, schema, result)
            conn.execute("COMMIT")
        finally:
            conn.close()
        attributed = {d.number for s in result.details.values() for d in s.damaged}
        attributed |= result.rebuilt_pages
        result.damaged_pages = pages.count(DAMAGED)
        result.unattributed_pages = sum(
            1
            for number in range(2, pages.page_count + 1)
            if pages.map[number] == DAMAGED and number not in attributed
        )
        return True


def _walk_into(pages: PageFile, entry: SchemaEntry, stats: TableSalvage, writer: _Writer) -> None:
    tree = TreeStats(entry.name)

    def take(_page: Page, cells: list[Cell], clean: bool) -> None:
        for cell in cells:
            if writer.add(entry.name, cell) and not clean:
                stats.unclean.add(cell.rowid)

    pages.walk_table(entry.rootpage, tree, take)
    stats.leaves += tree.leaves
    stats.clean_leaves += tree.clean_leaves
    stats.leaf_depth = tree.leaf_depth
    stats.damaged += tree.damaged


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
) -> None:
    """Table leaves no tree reached (their parent or root was destroyed) go to the table
    whose columns every record on the page fits, best; a tie is not guessed. Index pages
    no tree reached go to a WITHOUT ROWID table when all their records fit it alone."""
    candidates = list(writer.columns.items())
    memo: dict[tuple[str, tuple[type, ...]], int] = {}
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
            if min(fits) >= 0:
                scores.append((sum(fits), name))
        scores.sort(reverse=True)
        if not scores or (len(scores) > 1 and scores[0][0] == scores[1][0]):
            result.unassigned_rows += len(cells)
            continue
        table = scores[0][1]
        stats = writer.stats[table]
        stats.orphan_leaves += 1
        stats.leaves += 1
        stats.clean_leaves += clean
        for cell in cells:
            if writer.add(table, cell) and not clean:
                stats.unclean.add(cell.rowid)


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

    def take(self, records: list[list[Any]], clean: bool) -> None:
        self.stats.leaves += 1
        self.stats.clean_leaves += clean
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
        pages.walk_index(root, tree, lambda _page, records, clean: self.take(records, clean))
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
        fitting[0].take(records, clean)


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
) -> Salvage:
    """Salvage ``source`` (never written) into ``target`` (replaced if present).

    ``use_cli`` None means 'when the host's sqlite3 CLI can .recover'; False never uses it.
    ``schema_hint`` is the schema of a backup's copy, used when page 1 is unreadable.
    """
    result = Salvage(ok=False, method="page reader")
    if not _salvage_pages(source, target, schema_hint, result):
        target.unlink(missing_ok=True)
        return result
    if not integrity_ok(target):
        result.problems.append("the salvaged database fails integrity_check")
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


# -- backup + salvage -> one database, with an honest count ------------------------------------
@dataclass
class TableOutcome:
    name: str
    in_backup: int | None  # None: no backup copy, or the table is newer than it
    salvaged: int
    in_result: int
    maybe_lost: int
    added: int = 0  # salvaged rows the backup did not have
    replaced: int = 0  # rows that differ, taken from the salvage (their page parsed cleanly)
    kept_from_backup: int = 0  # rows that differ, kept as in the backup (page did not parse)
    note: str = ""

    def describe(self) -> str:
        backup = "-" if self.in_backup is None else str(self.in_backup)
        text = (
            f"{self.name}: backup {backup}, salvaged {self.salvaged}, result {self.in_result}"
            f", maybe lost {self.maybe_lost}"
        )
        if self.replaced or self.kept_from_backup:
            text += (
                f" ({self.replaced} changed row(s) taken from the damaged file,"
                f" {self.kept_from_backup} kept as backed up)"
            )
        return text + (f"; {self.note}" if self.note else "")


@dataclass
class Rebuild:
    """What :func:`rebuild_database` produced: ``ok`` means ``target`` is a valid database."""

    ok: bool
    salvage: Salvage
    backup_id: str | None = None
    tables: list[TableOutcome] = field(default_factory=list)
    unknown_lost: int = 0  # rows that may be lost from pages nothing points at any more
    changed: list[str] = field(default_factory=list)  # "table rowid N" of rows that differ
    problems: list[str] = field(default_factory=list)

    @property
    def maybe_lost(self) -> int:
        return sum(t.maybe_lost for t in self.tables) + self.unknown_lost

    @property
    def complete(self) -> bool:
        """Nothing is known or estimated to be lost."""
        return self.ok and self.maybe_lost == 0

    def summary(self) -> str:
        base = f"base: backup {self.backup_id}" if self.backup_id else "no backup: salvage only"
        lines = [base, *describe(self.salvage), *(t.describe() for t in self.tables)]
        if self.unknown_lost:
            lines.append(f"maybe lost in pages of unknown tables: {self.unknown_lost}")
        if self.changed:
            shown = ", ".join(self.changed[:10])
            more = f" and {len(self.changed) - 10} more" if len(self.changed) > 10 else ""
            lines.append(f"rows that differ from the backup: {shown}{more}")
        return "; ".join(lines)


def rebuild_database(
    damaged: Path,
    target: Path,
    work: Path,
    backup_copy: Path | None = None,
    backup_id: str | None = None,
    use_cli: bool | None = None,
) -> Rebuild:
    """Build ``target`` from a verified backup copy (the base) plus every row salvaged from
    ``damaged`` that the backup lacks or holds differently; with no backup, from the salvage
    alone. ``damaged`` and ``backup_copy`` are only read; intermediate files go to ``work``.
    ``target`` passes integrity_check when ``ok``."""
    work.mkdir(parents=True, exist_ok=True)
    salvaged = work / "salvage.db"
    hint = schema_of(backup_copy) if backup_copy else None
    salvage = salvage_sqlite(damaged, salvaged, use_cli=use_cli, schema_hint=hint)
    rebuild = Rebuild(ok=False, salvage=salvage, backup_id=backup_id if backup_copy else None)
    try:
        if backup_copy is None:
            if not salvage.ok:
                rebuild.problems += salvage.problems
                return rebuild
            _move(salvaged, target)
            conn = sqlite3.connect(target)
            try:
                _account(conn, rebuild, None)
            finally:
                conn.close()
            rebuild.ok = True  # salvage_sqlite ran integrity_check on this very file
            return rebuild
        else:
            copy_file_synced(backup_copy, target)
            conn = sqlite3.connect(target, isolation_level=None)
            try:
                backup_counts = table_counts(conn)
                if salvage.ok:
                    _merge(conn, salvaged, rebuild)
                else:
                    rebuild.problems.append(
                        "nothing salvaged from the damaged file; the result is the backup: "
                        + "; ".join(salvage.problems[:2])
                    )
                _account(conn, rebuild, backup_counts)
            finally:
                conn.close()
        rebuild.ok = integrity_ok(target)
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


def _insertable(conn: sqlite3.Connection, schema: str, table: str) -> list[str]:
    info = conn.execute(f"PRAGMA {schema}.table_xinfo({_quote(table)})").fetchall()
    return [row[1] for row in info if row[6] == 0]


def _merge(conn: sqlite3.Connection, salvaged: Path, rebuild: Rebuild) -> None:
    salvage = rebuild.salvage
    conn.execute("ATTACH DATABASE ? AS s", (f"file:{salvaged}?mode=ro",))
    conn.execute("BEGIN")
    try:
        mine = {
            r[0]: r[1]
            for r in conn.execute("SELECT name, sql FROM main.sqlite_schema WHERE type='table'")
        }
        theirs = conn.execute(
            "SELECT type, name, tbl_name, sql FROM s.sqlite_schema WHERE sql IS NOT NULL"
        ).fetchall()
        for kind, name, _table, sql in theirs:
            if kind == "table" and name not in mine and not name.startswith("sqlite_"):
                conn.execute(sql)  # a table created after the backup
                for other_kind, _n, owner, other_sql in theirs:
                    if other_kind == "index" and owner == name:
                        conn.execute(other_sql)
        for name, stats in salvage.details.items():
            if name.startswith("sqlite_"):
                continue
            if stats.without_rowid:
                _merge_clustered(conn, name, stats, rebuild)
            else:
                _merge_table(conn, name, stats, rebuild)
        for row in conn.execute("SELECT name, seq FROM s.sqlite_sequence").fetchall():
            updated = conn.execute(
                "UPDATE main.sqlite_sequence SET seq = max(seq, ?) WHERE name = ?",
                (row[1], row[0]),
            ).rowcount
            if not updated:
                conn.execute("INSERT INTO main.sqlite_sequence(name, seq) VALUES (?, ?)", row)
        conn.execute("COMMIT")
    except sqlite3.Error:
        conn.execute("ROLLBACK")
        raise
    finally:
        conn.execute("DETACH DATABASE s")


def _merge_table(
    conn: sqlite3.Connection, name: str, stats: TableSalvage, rebuild: Rebuild
) -> None:
    ours = _insertable(conn, "main", name)
    theirs = set(_insertable(conn, "s", name))
    for column, declared in conn.execute(
        "SELECT name, type FROM pragma_table_xinfo(?, 's') WHERE hidden = 0", (name,)
    ).fetchall():
        if column not in ours:
            # Added after the backup (ALTER TABLE ... ADD COLUMN): the newer rows hold it.
            conn.execute(f"ALTER TABLE main.{_quote(name)} ADD COLUMN {_quote(column)} {declared}")
            ours.append(column)
    columns = [c for c in ours if c in theirs]
    quoted = ", ".join(_quote(c) for c in columns)
    table = _quote(name)
    select = f"SELECT rowid{', ' + quoted if quoted else ''} FROM s.{table}"
    into = f"main.{table}(rowid{', ' + quoted if quoted else ''})"
    before = conn.total_changes
    conn.execute(
        f"INSERT OR IGNORE INTO {into} {select} WHERE rowid NOT IN (SELECT rowid FROM main.{table})"
    )
    added = conn.total_changes - before
    same = " AND ".join(f"m.{_quote(c)} IS t.{_quote(c)}" for c in columns) or "1"
    differing = [
        r[0]
        for r in conn.execute(
            f"SELECT t.rowid FROM s.{table} AS t JOIN main.{table} AS m ON m.rowid = t.rowid "
            f"WHERE NOT ({same})"
        )
    ]
    take = [rowid for rowid in differing if rowid not in stats.unclean]
    conn.execute("CREATE TEMP TABLE IF NOT EXISTS acore_pick(id INTEGER PRIMARY KEY)")
    conn.execute("DELETE FROM temp.acore_pick")
    conn.executemany("INSERT INTO temp.acore_pick(id) VALUES (?)", ((r,) for r in take))
    conn.execute(
        f"INSERT OR REPLACE INTO {into} {select} WHERE rowid IN (SELECT id FROM temp.acore_pick)"
    )
    rebuild.changed += [f"{name} rowid {rowid}" for rowid in differing]
    outcome = TableOutcome(name, None, stats.rows, 0, 0, added, len(take))
    outcome.kept_from_backup = len(differing) - len(take)
    rebuild.tables.append(outcome)


def _merge_clustered(
    conn: sqlite3.Connection, name: str, stats: TableSalvage, rebuild: Rebuild
) -> None:
    """A WITHOUT ROWID table, matched on its primary key instead of the rowid."""
    info = conn.execute("SELECT name, pk, hidden FROM pragma_table_xinfo(?, 'main')", (name,))
    rows = info.fetchall()
    keys = [r[0] for r in sorted((r for r in rows if r[1]), key=lambda r: r[1])]
    theirs = {r[0] for r in conn.execute("SELECT name FROM pragma_table_xinfo(?, 's')", (name,))}
    columns = [r[0] for r in rows if r[2] == 0 and r[0] in theirs]
    table, quoted = _quote(name), ", ".join(_quote(c) for c in columns)
    on = " AND ".join(f"m.{_quote(k)} IS t.{_quote(k)}" for k in keys)
    before = conn.total_changes
    conn.execute(f"INSERT OR IGNORE INTO main.{table}({quoted}) SELECT {quoted} FROM s.{table}")
    added = conn.total_changes - before
    same = " AND ".join(f"m.{_quote(c)} IS t.{_quote(c)}" for c in columns)
    key_list = ", ".join(f"t.{_quote(k)}" for k in keys)
    differing = conn.execute(
        f"SELECT {key_list} FROM s.{table} AS t JOIN main.{table} AS m ON {on} WHERE NOT ({same})"
    ).fetchall()
    take = [key for key in differing if tuple(key) not in stats.unclean]
    match = " AND ".join(f"{_quote(k)} IS ?" for k in keys)
    for key in take:
        conn.execute(
            f"INSERT OR REPLACE INTO main.{table}({quoted}) SELECT {quoted} FROM s.{table} "
            f"WHERE {match}",
            key,
        )
    rebuild.changed += [f"{name} key {tuple(key)!r}" for key in differing]
    outcome = TableOutcome(name, None, stats.rows, 0, 0, added, len(take))
    outcome.kept_from_backup = len(differing) - len(take)
    rebuild.tables.append(outcome)


def _account(
    conn: sqlite3.Connection, rebuild: Rebuild, backup_counts: dict[str, int] | None
) -> None:
    """Rows per table in the backup, the salvage and the result, and the estimate of rows
    lost: each damaged leaf page counts the table's average rows per leaf, less the rows the
    result already holds in the rowid range its parent gave it (the backup may have them)."""
    salvage = rebuild.salvage
    by_name = {t.name: t for t in rebuild.tables}
    average = salvage.average_per_leaf
    for name, rows in table_counts(conn).items():
        stats = salvage.details.get(name)
        outcome = by_name.get(name) or TableOutcome(name, None, stats.rows if stats else 0, 0, 0)
        if name not in by_name:
            rebuild.tables.append(outcome)
        outcome.in_backup = None if backup_counts is None else backup_counts.get(name)
        outcome.in_result = rows
        if stats is None:
            outcome.note = "not found in the damaged file's schema; kept as backed up"
            continue
        per_leaf = round(stats.average_per_leaf or average)
        table = _quote(name)
        for page in stats.lost_leaves():
            if stats.without_rowid or (page.low is None and page.high is None):
                outcome.maybe_lost += per_leaf
                continue
            low = -(2**63) if page.low is None else page.low
            # The last leaf's rows end at the highest AUTOINCREMENT number handed out.
            high = page.high if page.high is not None else salvage.sequence.get(name, 2**63 - 1)
            present = conn.execute(
                f"SELECT count(*) FROM {table} WHERE rowid > ? AND rowid <= ?", (low, high)
            ).fetchone()[0]
            # A range of n rowids holds at most n rows.
            outcome.maybe_lost += max(0, min(per_leaf, high - low) - present)
        if stats.rejected:
            outcome.note = f"{stats.rejected} salvaged row(s) refused by the table's constraints"
            outcome.maybe_lost += stats.rejected
    rebuild.unknown_lost = round(salvage.unattributed_pages * average) + salvage.unassigned_rows
    rebuild.tables.sort(key=lambda t: t.name)
