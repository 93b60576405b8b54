"""Database shapes and kinds of damage for the salvage tests (issue 19's matrix).

A shape builds a database (the state a backup holds), then ``drift`` changes it the way the
bot would after the backup (rows deleted, added, changed): the ground truth a repair is
judged against. ``damage`` overwrites real pages of the drifted file, found by walking it
with the page reader before the damage, and returns which pages it touched.
"""

from __future__ import annotations

import random
import sqlite3
import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from acore_doctor.recovery.pages import (
    IN_TREE,
    OVERFLOW,
    TABLE_INTERIOR,
    TABLE_LEAF,
    PageFile,
    TreeStats,
)

Rows = dict[str, dict[object, tuple]]


@dataclass
class Shape:
    name: str
    create: Callable[[sqlite3.Connection, random.Random], None]
    drift: Callable[[sqlite3.Connection, random.Random], None]
    main: str  # the table the damage aims at
    page_size: int = 1024
    encoding: str = "UTF-8"


def _words(rng: random.Random, n: int) -> str:
    return " ".join(f"w{rng.randrange(10_000)}" for _ in range(n))


# -- the shapes --------------------------------------------------------------------------------
def _store(conn: sqlite3.Connection, rng: random.Random) -> None:
    conn.execute(
        "CREATE TABLE messages(id INTEGER PRIMARY KEY AUTOINCREMENT, channel_id INTEGER NOT NULL,"
        " role TEXT NOT NULL, content TEXT NOT NULL, username TEXT, user_id INTEGER)"
    )
    conn.execute("CREATE INDEX idx_channel ON messages(channel_id)")
    conn.execute("CREATE TABLE rewards(message_id INTEGER, reward REAL, note TEXT)")
    conn.executemany(
        "INSERT INTO messages(channel_id, role, content, username, user_id) VALUES (?,?,?,?,?)",
        [(i % 7, "user", _words(rng, 6), f"u{i % 5}", i % 5) for i in range(2500)],
    )
    conn.executemany(
        "INSERT INTO rewards VALUES (?,?,?)", [(i, i / 10, f"r{i}") for i in range(300)]
    )


def _store_drift(conn: sqlite3.Connection, rng: random.Random) -> None:
    conn.execute("DELETE FROM messages WHERE id BETWEEN 400 AND 700")  # "forget my messages"
    conn.execute("DELETE FROM messages WHERE id % 37 = 0")
    conn.execute("UPDATE messages SET content = 'edited ' || id WHERE id % 53 = 0")
    conn.executemany(
        "INSERT INTO messages(channel_id, role, content, username, user_id) VALUES (?,?,?,?,?)",
        [(i % 7, "assistant", _words(rng, 6), "bot", 0) for i in range(300)],
    )


def _plain(conn: sqlite3.Connection, rng: random.Random) -> None:
    conn.execute("CREATE TABLE notes(id INTEGER PRIMARY KEY, body TEXT NOT NULL, score REAL)")
    conn.executemany(
        "INSERT INTO notes VALUES (?,?,?)",
        [(i, _words(rng, 8), rng.random()) for i in range(1, 2001)],
    )


def _plain_drift(conn: sqlite3.Connection, rng: random.Random) -> None:
    conn.execute("DELETE FROM notes WHERE id BETWEEN 300 AND 600 OR id % 29 = 0")
    conn.executemany(
        "INSERT INTO notes VALUES (?,?,?)",
        [(i, _words(rng, 8), rng.random()) for i in range(2001, 2301)],
    )


def _utf16(conn: sqlite3.Connection, rng: random.Random) -> None:
    conn.execute("CREATE TABLE people(id INTEGER PRIMARY KEY, name TEXT, city TEXT)")
    conn.executemany(
        "INSERT INTO people VALUES (?,?,?)",
        [(i, f"name é {i} " + _words(rng, 3), "Zürich") for i in range(1, 1501)],
    )


def _utf16_drift(conn: sqlite3.Connection, rng: random.Random) -> None:
    conn.execute("DELETE FROM people WHERE id BETWEEN 200 AND 400")
    conn.executemany(
        "INSERT INTO people VALUES (?,?,?)", [(i, f"neu {i}", "Bern") for i in range(1501, 1701)]
    )


def _overflow(conn: sqlite3.Connection, rng: random.Random) -> None:
    conn.execute("CREATE TABLE docs(id INTEGER PRIMARY KEY, title TEXT, body TEXT)")
    conn.executemany(
        "INSERT INTO docs VALUES (?,?,?)",
        [(i, f"doc {i}", _words(rng, 600 if i % 5 == 0 else 10)) for i in range(1, 801)],
    )


def _overflow_drift(conn: sqlite3.Connection, rng: random.Random) -> None:
    conn.execute("DELETE FROM docs WHERE id BETWEEN 100 AND 200")
    conn.executemany(
        "INSERT INTO docs VALUES (?,?,?)",
        [(i, f"doc {i}", _words(rng, 600 if i % 5 == 0 else 10)) for i in range(801, 901)],
    )


def _altered(conn: sqlite3.Connection, rng: random.Random) -> None:
    conn.execute("CREATE TABLE events(kind TEXT, at INTEGER)")
    conn.executemany("INSERT INTO events VALUES (?,?)", [(f"k{i % 9}", i) for i in range(1500)])
    conn.execute("ALTER TABLE events ADD COLUMN extra TEXT DEFAULT 'none'")
    conn.executemany(
        "INSERT INTO events VALUES (?,?,?)", [(f"k{i % 9}", i, f"x{i}") for i in range(1500, 2000)]
    )


def _altered_drift(conn: sqlite3.Connection, rng: random.Random) -> None:
    conn.execute("DELETE FROM events WHERE rowid BETWEEN 100 AND 350")
    conn.executemany(
        "INSERT INTO events VALUES (?,?,?)", [(f"n{i % 3}", i, None) for i in range(2000, 2300)]
    )


def _twins(conn: sqlite3.Connection, rng: random.Random) -> None:
    for table in ("left_side", "right_side"):
        conn.execute(f"CREATE TABLE {table}(n INTEGER, label TEXT)")
        conn.executemany(
            f"INSERT INTO {table} VALUES (?,?)",
            [(i, f"{table} {i} " + _words(rng, 3)) for i in range(1200)],
        )


def _twins_drift(conn: sqlite3.Connection, rng: random.Random) -> None:
    conn.execute("DELETE FROM left_side WHERE rowid BETWEEN 500 AND 700")
    conn.execute("DELETE FROM right_side WHERE rowid % 11 = 0")


def _clustered(conn: sqlite3.Connection, rng: random.Random) -> None:
    conn.execute("CREATE TABLE kv(k TEXT PRIMARY KEY, v TEXT NOT NULL) WITHOUT ROWID")
    conn.executemany(
        "INSERT INTO kv VALUES (?,?)", [(f"key{i:05d}", _words(rng, 5)) for i in range(1500)]
    )


def _clustered_drift(conn: sqlite3.Connection, rng: random.Random) -> None:
    conn.execute("DELETE FROM kv WHERE k BETWEEN 'key00300' AND 'key00500'")
    conn.executemany(
        "INSERT INTO kv VALUES (?,?)", [(f"key{i:05d}", "new") for i in range(1500, 1700)]
    )


def _chroma(conn: sqlite3.Connection, rng: random.Random) -> None:
    """The tables of a ChromaDB store (the RAG database), without its FTS table."""
    conn.execute(
        "CREATE TABLE collections(id TEXT PRIMARY KEY, name TEXT NOT NULL, dimension INTEGER,"
        " UNIQUE(name))"
    )
    conn.execute(
        "CREATE TABLE embeddings(id INTEGER PRIMARY KEY, segment_id TEXT NOT NULL,"
        " embedding_id TEXT NOT NULL, seq_id BLOB NOT NULL,"
        " created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,"
        " UNIQUE(segment_id, embedding_id))"
    )
    conn.execute(
        "CREATE TABLE embedding_metadata(id INTEGER REFERENCES embeddings(id), key TEXT NOT NULL,"
        " string_value TEXT, int_value INTEGER, float_value REAL, bool_value INTEGER,"
        " PRIMARY KEY(id, key))"
    )
    conn.execute("INSERT INTO collections VALUES ('c1', 'docs', 384)")
    conn.executemany(
        "INSERT INTO embeddings(id, segment_id, embedding_id, seq_id, created_at)"
        " VALUES (?,?,?,?,?)",
        [
            (i, "seg1", f"doc-{i}", i.to_bytes(8, "big"), "2026-01-01 00:00:00")
            for i in range(1, 1201)
        ],
    )
    conn.executemany(
        "INSERT INTO embedding_metadata VALUES (?,?,?,?,?,?)",
        [(i, "chroma:document", _words(rng, 12), None, None, None) for i in range(1, 1201)],
    )


def _chroma_drift(conn: sqlite3.Connection, rng: random.Random) -> None:
    conn.execute("DELETE FROM embeddings WHERE id BETWEEN 100 AND 250")
    conn.execute("DELETE FROM embedding_metadata WHERE id BETWEEN 100 AND 250")


SHAPES = {
    shape.name: shape
    for shape in (
        Shape("store", _store, _store_drift, "messages"),
        Shape("plain", _plain, _plain_drift, "notes"),
        Shape("utf16", _utf16, _utf16_drift, "people", encoding="UTF-16le"),
        Shape("overflow", _overflow, _overflow_drift, "docs"),
        Shape("altered", _altered, _altered_drift, "events"),
        Shape("twins", _twins, _twins_drift, "left_side"),
        Shape("without_rowid", _clustered, _clustered_drift, "kv"),
        Shape("chroma", _chroma, _chroma_drift, "embedding_metadata"),
    )
}


def build(shape: Shape, path: Path, seed: int = 1) -> None:
    """The state a backup holds."""
    rng = random.Random(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA page_size={shape.page_size}")
    conn.execute(f"PRAGMA encoding='{shape.encoding}'")
    shape.create(conn, rng)
    conn.commit()
    conn.close()


def drift(shape: Shape, path: Path, seed: int = 2) -> None:
    """What the bot did after the backup."""
    conn = sqlite3.connect(path)
    shape.drift(conn, random.Random(seed))
    conn.commit()
    conn.close()


def user_tables(path: Path) -> dict[str, bool]:
    """name -> WITHOUT ROWID, of every ordinary table."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        found = {}
        for name, sql in conn.execute(
            "SELECT name, sql FROM sqlite_schema WHERE type='table' AND rootpage > 0"
            " AND name NOT LIKE 'sqlite_%'"
        ):
            found[name] = "WITHOUT ROWID" in (sql or "").upper()
        return found
    finally:
        conn.close()


def table_rows(path: Path, tables: dict[str, bool] | None = None) -> Rows:
    """table -> key (rowid, or the primary key of a WITHOUT ROWID table) -> the row."""
    tables = tables if tables is not None else user_tables(path)
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        found: Rows = {}
        for name, clustered in tables.items():
            quoted = '"' + name.replace('"', '""') + '"'
            try:
                if clustered:
                    keys = [
                        r[1]
                        for r in sorted(
                            (r for r in conn.execute(f"PRAGMA table_info({quoted})") if r[5]),
                            key=lambda r: r[5],
                        )
                    ]
                    cols = [r[1] for r in conn.execute(f"PRAGMA table_info({quoted})")]
                    idx = [cols.index(k) for k in keys]
                    found[name] = {
                        tuple(row[i] for i in idx): tuple(row)
                        for row in conn.execute(f"SELECT * FROM {quoted}")
                    }
                else:
                    found[name] = {
                        row[0]: tuple(row[1:])
                        for row in conn.execute(f"SELECT rowid, * FROM {quoted}")
                    }
            except sqlite3.Error:
                found[name] = {}
        return found
    finally:
        conn.close()


# -- where things live ---------------------------------------------------------------------------
@dataclass
class Layout:
    page_size: int
    pages: int
    root: int
    interior: list[int] = field(default_factory=list)
    leaves: list[int] = field(default_factory=list)
    overflow: list[int] = field(default_factory=list)
    freelist_trunk: int = 0
    key_page: dict[object, int] = field(default_factory=dict)  # row key -> its leaf


def layout(path: Path, table: str) -> Layout:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    root, sql = conn.execute(
        "SELECT rootpage, sql FROM sqlite_schema WHERE name = ?", (table,)
    ).fetchone()
    conn.close()
    with PageFile(path) as pages:
        found = Layout(pages.header.page_size, pages.page_count, root)
        found.freelist_trunk = pages.header.freelist_trunk
        if "WITHOUT ROWID" in sql.upper():
            before = bytes(pages.map)
            pages.walk_index(root, TreeStats(table))
            for n in range(2, pages.page_count + 1):
                if pages.map[n] == IN_TREE != before[n] and n != root:
                    found.leaves.append(n)
        else:

            def take(page, cells, _clean) -> None:  # noqa: ANN001
                found.leaves.append(page.number)
                for cell in cells:
                    found.key_page[cell.rowid] = page.number

            before = bytes(pages.map)
            pages.walk_table(root, TreeStats(table), take)
            for n in range(2, pages.page_count + 1):
                walked = pages.map[n] == IN_TREE != before[n]
                inner = walked and n != root and n not in found.leaves
                if inner and pages.btree_page(n).kind == TABLE_INTERIOR:
                    found.interior.append(n)
        found.overflow = [n for n in range(1, pages.page_count + 1) if pages.map[n] == OVERFLOW]
    return found


# -- damage --------------------------------------------------------------------------------------
KINDS = (
    "root",
    "interior",
    "leaf",
    "cells",
    "overflow",
    "freelist_trunk",
    "header",
    "page1",
    "truncation",
    "zero_range",
    "flipped",
)


def _write(path: Path, offset: int, data: bytes) -> None:
    with path.open("r+b") as handle:
        handle.seek(offset)
        handle.write(data)


def damage(path: Path, kind: str, where: Layout, seed: int = 5) -> set[int] | None:
    """Damage ``path`` in place; the pages touched (page 1 counts for the header), or None
    when the file has nothing of that kind (no interior page, no overflow...)."""
    rng = random.Random(seed)
    size = where.page_size

    def noise(page: int, start: int = 0, length: int | None = None) -> None:
        _write(path, (page - 1) * size + start, rng.randbytes(length or size - start))

    middle = where.leaves[len(where.leaves) // 2] if where.leaves else None
    if kind == "root":
        noise(where.root)
        return {where.root}
    if kind == "interior":
        if not where.interior:
            return None
        page = where.interior[len(where.interior) // 2]
        noise(page)
        return {page}
    if kind == "leaf":
        if middle is None:
            return None
        noise(middle)
        return {middle}
    if kind == "cells":
        if middle is None:
            return None
        data = path.read_bytes()[(middle - 1) * size : middle * size]
        count = struct.unpack_from(">H", data, 3)[0]
        start = 8 + 2 * count + 16  # the header and pointer array survive
        noise(middle, start)
        return {middle}
    if kind == "overflow":
        if not where.overflow:
            return None
        page = where.overflow[len(where.overflow) // 2]
        noise(page)
        return {page}
    if kind == "freelist_trunk":
        if not where.freelist_trunk:
            return None
        noise(where.freelist_trunk)
        return {where.freelist_trunk}
    if kind == "header":
        _write(path, 0, rng.randbytes(100))
        return {1}
    if kind == "page1":
        noise(1)
        return {1}
    if kind == "truncation":
        keep = max(2, int(where.pages * 0.7))
        with path.open("r+b") as handle:
            handle.truncate(keep * size)
        return set(range(keep + 1, where.pages + 1))
    if kind == "zero_range":
        first = max(2, where.pages // 3)
        count = max(1, where.pages // 10)
        _write(path, (first - 1) * size, bytes(count * size))
        return set(range(first, first + count))
    if kind == "flipped":
        if middle is None:
            return None
        offset = (middle - 1) * size
        data = bytearray(path.read_bytes()[offset : offset + size])
        count = struct.unpack_from(">H", data, 3)[0]
        for _ in range(6):
            spot = rng.randrange(8 + 2 * count, size)
            data[spot] ^= 1 << rng.randrange(8)
        _write(path, offset, bytes(data))
        return {middle}
    raise ValueError(kind)


def leaf_kind(path: Path, page: int, size: int) -> int:
    return path.read_bytes()[(page - 1) * size]


__all__ = ["KINDS", "SHAPES", "TABLE_LEAF", "build", "damage", "drift", "layout", "table_rows"]
