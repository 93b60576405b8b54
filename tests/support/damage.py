"""Real damage to real SQLite files, and the ground truth of where each row lived (for the
salvage tests)."""

from __future__ import annotations

import random
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from acore_doctor.probes.databases import open_readonly
from acore_doctor.recovery.pages import IN_TREE, OVERFLOW, TABLE_INTERIOR, PageFile, TreeStats

ROWS = "SELECT id, channel_id, role, content, username, user_id FROM messages ORDER BY id"


def make_store(path: Path, rows: int, page_size: int = 4096, big_every: int = 0) -> None:
    """The offline-RL conversation store (deployment §3.1); every ``big_every``-th message
    is long enough to spill onto overflow pages."""
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA page_size={page_size}")
    conn.execute(
        "CREATE TABLE messages(id INTEGER PRIMARY KEY AUTOINCREMENT, channel_id INTEGER NOT NULL,"
        " role TEXT NOT NULL, content TEXT NOT NULL, username TEXT, user_id INTEGER,"
        " timestamp DATETIME DEFAULT CURRENT_TIMESTAMP)"
    )
    conn.execute("CREATE INDEX idx_channel ON messages(channel_id)")
    conn.execute("CREATE TABLE rewards(message_id INTEGER, reward REAL, note TEXT)")
    conn.commit()
    add_messages(conn, 0, rows, big_every)
    conn.executemany(
        "INSERT INTO rewards VALUES (?, ?, ?)", [(i, i / 10, f"r{i}") for i in range(rows // 10)]
    )
    conn.commit()
    conn.close()


def add_messages(conn: sqlite3.Connection, start: int, count: int, big_every: int = 0) -> None:
    conn.executemany(
        "INSERT INTO messages(channel_id, role, content, username, user_id) VALUES (?,?,?,?,?)",
        [
            (
                i % 7,
                "user" if i % 2 else "assistant",
                f"message {i} "
                + ("y" * 9000 if big_every and i % big_every == 0 else "x" * (20 + i % 40)),
                f"user{i % 5}",
                i % 5,
            )
            for i in range(start, start + count)
        ],
    )
    conn.commit()


def rows_of(path: Path) -> dict[int, tuple]:
    conn = open_readonly(path)
    try:
        return {r[0]: r for r in conn.execute(ROWS)}
    finally:
        conn.close()


@dataclass
class Tree:
    page_size: int
    root: int
    interior: list[int]  # below the root
    leaves: list[int]
    rowid_page: dict[int, int]  # rowid -> its leaf page
    overflow: dict[int, set[int]]  # rowid -> its overflow pages


def tree_of(path: Path, table: str = "messages") -> Tree:
    """Where each row of ``table`` lives in an intact file (the ground truth for damage)."""
    conn = sqlite3.connect(path)
    root = conn.execute("SELECT rootpage FROM sqlite_schema WHERE name = ?", (table,)).fetchone()[0]
    conn.close()
    tree = Tree(0, root, [], [], {}, {})
    with PageFile(path) as pages:
        tree.page_size = pages.header.page_size
        before = bytes(pages.map)

        def take(page, cells, _clean) -> None:  # noqa: ANN001
            tree.leaves.append(page.number)
            for cell in cells:
                tree.rowid_page[cell.rowid] = page.number

        pages.walk_table(root, TreeStats(table), take)
        for number in range(1, pages.page_count + 1):
            walked = pages.map[number] == IN_TREE != before[number] and number not in tree.leaves
            if walked and number != root and pages.btree_page(number).kind == TABLE_INTERIOR:
                tree.interior.append(number)
        overflow = {n for n in range(1, pages.page_count + 1) if pages.map[n] == OVERFLOW}
    if overflow:
        # Which row owns which overflow page is not needed exactly: rows whose content
        # spilled are the long ones.
        long_rows = {r for r, v in rows_of(path).items() if len(v[3]) > tree.page_size}
        tree.overflow = {r: overflow for r in long_rows}
    return tree


def destroy(path: Path, page: int, page_size: int, length: int | None = None) -> None:
    """Overwrite a page (or its first ``length`` bytes) with noise, as a bad sector would."""
    noise = random.Random(page).randbytes(length or page_size)
    with path.open("r+b") as handle:
        handle.seek((page - 1) * page_size)
        handle.write(noise)


def intact_rows(tree: Tree, damaged: set[int], rows: dict[int, tuple]) -> set[int]:
    return {
        rowid
        for rowid in rows
        if tree.rowid_page.get(rowid) not in damaged
        and not (tree.overflow.get(rowid, set()) & damaged)
    }
