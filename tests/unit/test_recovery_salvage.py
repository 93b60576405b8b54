"""SQLite repair on real files with real damage: page-level salvage, backup + salvage merge,
honest counts and exit codes (issue 11, "SQLite repair")."""

from __future__ import annotations

import random
import sqlite3
from dataclasses import dataclass
from pathlib import Path

import pytest

from acore_doctor.deployment import load_deployment
from acore_doctor.probes.databases import open_readonly
from acore_doctor.recovery.backup import create_backup
from acore_doctor.recovery.pages import IN_TREE, OVERFLOW, TABLE_INTERIOR, PageFile, TreeStats
from acore_doctor.recovery.repair import apply_repair, plan_repair
from acore_doctor.recovery.salvage import integrity_ok, rebuild_database, salvage_sqlite
from tests.support.builder import DeploymentBuilder
from tests.support.recovery import config_of, healthy

QUIET = {"say": lambda _line: None}
ROWS = "SELECT id, channel_id, role, content, username, user_id FROM messages ORDER BY id"
DB = "data/conversations.db"


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


# -- the page reader alone (no backup) -----------------------------------------------------------
@pytest.mark.parametrize("target", ["root", "interior", "leaf", "last leaf"])
def test_salvage_without_backup_keeps_every_row_on_intact_pages(
    tmp_path: Path, target: str
) -> None:
    db = tmp_path / "conversations.db"
    make_store(db, rows=6000, page_size=1024, big_every=97)
    rows = rows_of(db)
    tree = tree_of(db)
    assert tree.interior, "the test needs a three-level tree"
    page = {
        "root": tree.root,
        "interior": tree.interior[len(tree.interior) // 2],
        "leaf": tree.leaves[len(tree.leaves) // 3],
        "last leaf": tree.leaves[-1],
    }[target]
    destroy(db, page, tree.page_size)
    assert not integrity_ok(db), "the damage is real"

    result = salvage_sqlite(db, tmp_path / "out.db", use_cli=False)
    assert result.ok, result.problems
    got = rows_of(tmp_path / "out.db")
    expected = intact_rows(tree, {page}, rows)
    kept = {r for r in expected if got.get(r) == rows[r]}
    assert len(kept) >= 0.98 * len(expected), f"{len(kept)} of {len(expected)} intact rows"
    assert all(got[r] == rows[r] for r in got), "salvage never invents or alters rows"
    assert {r for r, v in got.items() if len(v[3]) > 9000} == {
        r for r in expected if len(rows[r][3]) > 9000
    }, "rows spilling onto overflow pages come back whole"
    assert result.tables["rewards"] == 600, "the other table is untouched"

    rebuilt = rebuild_database(db, tmp_path / "rebuilt.db", tmp_path / "work", use_cli=False)
    lost_for_real = len(rows) - len(got)
    messages = next(t for t in rebuilt.tables if t.name == "messages")
    if lost_for_real == 0:
        assert rebuilt.complete and messages.maybe_lost == 0, rebuilt.summary()
    else:
        # The estimate: a leaf's worth of rows, within a factor of two of the truth.
        assert lost_for_real / 2 <= rebuilt.maybe_lost <= lost_for_real * 2, rebuilt.summary()
        assert not rebuilt.complete


def test_deleted_rows_on_the_freelist_never_come_back(tmp_path: Path) -> None:
    db = tmp_path / "conversations.db"
    make_store(db, rows=3000)
    conn = sqlite3.connect(db)
    conn.execute("DELETE FROM messages WHERE id BETWEEN 1000 AND 2000")
    conn.commit()
    conn.close()
    rows = rows_of(db)
    tree = tree_of(db)
    destroy(db, tree.root, tree.page_size)
    result = salvage_sqlite(db, tmp_path / "out.db", use_cli=False)
    got = rows_of(tmp_path / "out.db")
    assert result.ok and set(got) == set(rows), "every live row, no deleted one"


def test_a_destroyed_schema_page_takes_the_schema_from_the_backup(tmp_path: Path) -> None:
    db = tmp_path / "conversations.db"
    make_store(db, rows=3000)
    backup = tmp_path / "backup.db"
    backup.write_bytes(db.read_bytes())
    conn = sqlite3.connect(db)
    add_messages(conn, 3000, 200)
    conn.close()
    rows = rows_of(db)
    destroy(db, 1, 4096)

    alone = salvage_sqlite(db, tmp_path / "alone.db", use_cli=False)
    assert not alone.ok and "no schema" in "; ".join(alone.problems)

    rebuilt = rebuild_database(db, tmp_path / "out.db", tmp_path / "work", backup, "B", False)
    assert rebuilt.ok and rebuilt.salvage.schema_source == "backup", rebuilt.summary()
    assert rows_of(tmp_path / "out.db") == rows
    assert rebuilt.complete, rebuilt.summary()


def test_rowid_tables_without_alias_added_columns_and_without_rowid(tmp_path: Path) -> None:
    db = tmp_path / "misc.db"
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE notes(body TEXT, n INTEGER)")
    conn.executemany("INSERT INTO notes VALUES (?, ?)", [(f"note {i}", i) for i in range(800)])
    conn.execute("ALTER TABLE notes ADD COLUMN tag TEXT DEFAULT 'none'")
    conn.executemany(
        "INSERT INTO notes VALUES (?, ?, ?)", [(f"new {i}", i, "t") for i in range(50)]
    )
    conn.execute("CREATE TABLE kv(k TEXT PRIMARY KEY, v TEXT) WITHOUT ROWID")
    conn.executemany("INSERT INTO kv VALUES (?, ?)", [(f"k{i}", "v") for i in range(100)])
    conn.commit()
    before = conn.execute("SELECT rowid, * FROM notes ORDER BY rowid").fetchall()
    conn.close()
    tree = tree_of(db, "notes")
    destroy(db, tree.root, tree.page_size)

    rebuilt = rebuild_database(db, tmp_path / "out.db", tmp_path / "work", use_cli=False)
    assert rebuilt.ok, rebuilt.problems
    conn = sqlite3.connect(tmp_path / "out.db")
    after = conn.execute("SELECT rowid, * FROM notes ORDER BY rowid").fetchall()
    conn.close()
    assert after == before, "rowids kept; short records get the added column's default"
    assert rebuilt.unsalvaged_tables == ["kv"] and not rebuilt.complete
    assert "WITHOUT ROWID" in rebuilt.summary()


# -- the whole repair: verified backup + rows written after it -------------------------------------
@pytest.fixture
def store(bot: DeploymentBuilder) -> DeploymentBuilder:
    healthy(bot)
    make_store(bot.root / DB, rows=4000, page_size=1024, big_every=151)
    return bot


@pytest.mark.parametrize("target", ["root", "interior", "leaf", "schema"])
def test_repair_keeps_every_backup_row_and_the_newer_ones(
    store: DeploymentBuilder, target: str
) -> None:
    db = store.root / DB
    create_backup(config_of(store.root))
    backed_up = rows_of(db)
    conn = sqlite3.connect(db)
    add_messages(conn, 4000, 300)
    conn.close()
    newer = {r: v for r, v in rows_of(db).items() if r not in backed_up}
    tree = tree_of(db)
    page = {
        "root": tree.root,
        "interior": tree.interior[-1],
        "leaf": tree.rowid_page[max(newer) - 40],
        "schema": 1,
    }[target]
    destroy(db, page, tree.page_size)

    report = apply_repair(load_deployment(store.root), use_sqlite_cli=False, **QUIET)
    assert not report.failed, report.outcomes
    got = rows_of(db)
    assert all(got.get(r) == v for r, v in backed_up.items()), "every backup row"
    kept_new = sum(1 for r, v in newer.items() if got.get(r) == v)
    assert kept_new >= 0.9 * len(newer), f"{kept_new} of {len(newer)} newer rows"
    outcome = report.outcomes[0]
    assert outcome["backup_id"] and outcome["tables"]["messages"]["in_backup"] == len(backed_up)
    if kept_new == len(newer):
        assert outcome["maybe_lost"] == 0 and outcome["complete"], outcome["detail"]
    else:
        assert outcome["maybe_lost"] > 0 and not outcome["complete"], outcome["detail"]
    assert plan_repair(load_deployment(store.root)) == []
    assert list((store.root / "data/.quarantine").rglob("conversations.db"))


def test_changed_rows_come_from_the_damaged_file_when_their_page_parsed(
    store: DeploymentBuilder,
) -> None:
    db = store.root / DB
    create_backup(config_of(store.root))
    conn = sqlite3.connect(db)
    conn.execute("UPDATE messages SET content = 'edited after the backup' WHERE id = 7")
    conn.commit()
    conn.close()
    tree = tree_of(db)
    destroy(db, tree.root, tree.page_size)
    report = apply_repair(load_deployment(store.root), use_sqlite_cli=False, **QUIET)
    assert rows_of(db)[7][3] == "edited after the backup"
    assert "messages rowid 7" in report.outcomes[0]["detail"], "changed rows are listed"
