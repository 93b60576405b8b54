"""SQLite repair on real files with real damage: page-level salvage, backup + salvage merge,
honest counts and exit codes (issue 11, "SQLite repair")."""

from __future__ import annotations

import json
import sqlite3
import tracemalloc
from pathlib import Path

import pytest

from acore_doctor.deployment import load_deployment
from acore_doctor.probes.state_files import (
    READ_WHOLE_MAX,
    scan_state_files,
    state_kinds,
    stream_state_file,
)
from acore_doctor.recovery.backup import create_backup
from acore_doctor.recovery.repair import apply_repair, plan_repair
from acore_doctor.recovery.salvage import integrity_ok, rebuild_database, salvage_sqlite
from tests.support.builder import DeploymentBuilder
from tests.support.damage import (
    add_messages,
    destroy,
    intact_rows,
    make_store,
    rows_of,
    tree_of,
)
from tests.support.recovery import config_of, healthy

QUIET = {"say": lambda _line: None}
DB = "data/conversations.db"


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
    # No schema anywhere: every row is kept in lost_and_found, as SQLite's .recover does.
    assert alone.ok and "no schema" in "; ".join(alone.problems)
    assert alone.lost_and_found >= len(rows) and alone.tables == {"lost_and_found": 3501}

    rebuilt = rebuild_database(db, tmp_path / "out.db", tmp_path / "work", backup, "B", False)
    assert rebuilt.ok and rebuilt.salvage.schema_source == "backup", rebuilt.summary()
    assert rows_of(tmp_path / "out.db") == rows
    assert rebuilt.complete, rebuilt.summary()


def test_rowid_tables_without_alias_added_columns_and_without_rowid_tables(tmp_path: Path) -> None:
    db = tmp_path / "misc.db"
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE notes(body TEXT, n INTEGER)")
    conn.executemany("INSERT INTO notes VALUES (?, ?)", [(f"note {i}", i) for i in range(800)])
    conn.execute("ALTER TABLE notes ADD COLUMN tag TEXT DEFAULT 'none'")
    conn.executemany(
        "INSERT INTO notes VALUES (?, ?, ?)", [(f"new {i}", i, "t") for i in range(50)]
    )
    # A WITHOUT ROWID table is an index b-tree, primary key first (here not the first column).
    conn.execute("CREATE TABLE kv(v TEXT, k TEXT, n INTEGER, PRIMARY KEY(k)) WITHOUT ROWID")
    conn.executemany(
        "INSERT INTO kv VALUES (?, ?, ?)", [(f"v{i}" * 20, f"k{i:05}", i) for i in range(1500)]
    )
    conn.commit()
    before = conn.execute("SELECT rowid, * FROM notes ORDER BY rowid").fetchall()
    kv = conn.execute("SELECT * FROM kv ORDER BY k").fetchall()
    root = conn.execute("SELECT rootpage FROM sqlite_schema WHERE name = 'kv'").fetchone()[0]
    conn.close()
    tree = tree_of(db, "notes")
    destroy(db, tree.root, tree.page_size)

    rebuilt = rebuild_database(db, tmp_path / "out.db", tmp_path / "work", use_cli=False)
    assert rebuilt.ok, rebuilt.problems
    conn = sqlite3.connect(tmp_path / "out.db")
    after = conn.execute("SELECT rowid, * FROM notes ORDER BY rowid").fetchall()
    assert conn.execute("SELECT * FROM kv ORDER BY k").fetchall() == kv
    conn.close()
    assert after == before, "rowids kept; short records get the added column's default"
    assert rebuilt.complete, rebuilt.summary()

    destroy(db, root, tree.page_size)  # the WITHOUT ROWID table's root: its children remain
    rebuilt = rebuild_database(db, tmp_path / "out2.db", tmp_path / "work", use_cli=False)
    conn = sqlite3.connect(tmp_path / "out2.db")
    got = conn.execute("SELECT * FROM kv ORDER BY k").fetchall()
    conn.close()
    assert set(got) <= set(kv) and len(got) >= 0.9 * len(kv), f"{len(got)} of {len(kv)}"
    kv_outcome = next(t for t in rebuilt.tables if t.name == "kv")
    # The root of an index b-tree holds rows too: they may be lost, and the estimate says so.
    assert (kv_outcome.maybe_lost > 0) == (len(got) < len(kv)), rebuilt.summary()


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
    assert report.outcomes[0]["complete"], report.outcomes[0]["detail"]


# -- JSON state files -------------------------------------------------------------------------------
CHAT = "data/chat_history/1431878519016915044.json"


def test_a_cut_off_chat_history_keeps_its_complete_messages(bot: DeploymentBuilder) -> None:
    healthy(bot)
    messages = [{"role": "user", "content": f"message {i}"} for i in range(5)]
    whole = json.dumps(messages)
    bot.write(CHAT, whole[: whole.index("message 3") + 4])  # cut inside the fourth message
    bot.write("data/gestalt_memory/dagoth_ur/123.json", '{"short_term": [1, 2], "state": {"a"')
    report = apply_repair(load_deployment(bot.root), **QUIET)
    assert json.loads((bot.root / CHAT).read_text()) == messages[:3]
    memory = json.loads((bot.root / "data/gestalt_memory/dagoth_ur/123.json").read_text())
    assert memory["short_term"] == [1, 2] and memory["state"] == {}
    chat = next(o for o in report.outcomes if o["what"].endswith(CHAT.rsplit("/", 1)[1]))
    assert chat["kept_entries"] == 3 and "kept 3 complete entries" in chat["detail"]


def test_a_large_valid_history_is_streamed_not_loaded_and_not_corrupt(
    bot: DeploymentBuilder,
) -> None:
    healthy(bot)
    path = bot.root / "data/chat_history/77.json"
    message = {"role": "user", "content": "z" * 900}
    count = (READ_WHOLE_MAX * 3 // 2) // len(json.dumps(message))
    with path.open("w") as out:
        out.write("[")
        out.write(",".join(json.dumps(message) for _ in range(count)))
        out.write("]")
    size = path.stat().st_size
    assert size > READ_WHOLE_MAX
    deployment = load_deployment(bot.root)
    kinds = state_kinds(deployment, None)
    tracemalloc.start()
    try:
        report = scan_state_files(kinds, bot.root / "data")
        planned = plan_repair(deployment)
        _now, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert not report.corrupt and not report.bad_shape and not report.unchecked
    assert not [a for a in planned if a.path == path]
    assert peak < size / 3, f"peak {peak / 2**20:.1f} MiB for a {size / 2**20:.1f} MiB file"

    with path.open("r+b") as handle:  # now break it near the end: still found corrupt
        handle.truncate(size - 500)
    report = scan_state_files(kinds, bot.root / "data")
    assert [p for p, _ in report.corrupt] == [str(path)]
    streamed = stream_state_file(str(path), kinds[1])
    assert streamed.error and streamed.items == count - 1


def test_rows_committed_only_to_the_wal_come_back(tmp_path: Path) -> None:
    """The bot crashed: its newest rows are committed in the -wal file, not yet in the
    database file. The page reader reads the WAL's committed frames too."""
    live = tmp_path / "live.db"
    make_store(live, rows=2000)
    conn = sqlite3.connect(live)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA wal_autocheckpoint=0")
    add_messages(conn, 2000, 500)
    rows = rows_of_connection(conn)
    tree = tree_of(live)  # the file alone (opening the crashed copy would replay its WAL)
    crashed = tmp_path / "conversations.db"
    crashed.write_bytes(live.read_bytes())  # a copy taken as a kill -9 would leave it
    Path(f"{crashed}-wal").write_bytes(Path(f"{live}-wal").read_bytes())
    conn.close()
    destroy(crashed, tree.root, tree.page_size)

    result = salvage_sqlite(crashed, tmp_path / "out.db", use_cli=False)
    assert result.ok, result.problems
    assert rows_of(tmp_path / "out.db") == rows
    assert any("-wal" in p for p in result.problems), "says it read the WAL"


def rows_of_connection(conn: sqlite3.Connection) -> dict[int, tuple]:
    return {
        r[0]: r
        for r in conn.execute(
            "SELECT id, channel_id, role, content, username, user_id FROM messages ORDER BY id"
        )
    }


def test_a_column_added_after_the_backup_is_kept(tmp_path: Path) -> None:
    db = tmp_path / "conversations.db"
    make_store(db, rows=1500)
    backup = tmp_path / "backup.db"
    backup.write_bytes(db.read_bytes())
    conn = sqlite3.connect(db)
    conn.execute("ALTER TABLE messages ADD COLUMN mood TEXT")
    conn.execute("UPDATE messages SET mood = 'calm' WHERE id > 1400")
    add_messages(conn, 1500, 100)
    conn.execute("UPDATE messages SET mood = 'new' WHERE id > 1500")
    conn.commit()
    expected = conn.execute("SELECT id, mood FROM messages ORDER BY id").fetchall()
    conn.close()
    tree = tree_of(db)
    destroy(db, tree.root, tree.page_size)
    rebuilt = rebuild_database(db, tmp_path / "out.db", tmp_path / "work", backup, "B", False)
    assert rebuilt.ok, rebuilt.problems
    conn = sqlite3.connect(tmp_path / "out.db")
    assert conn.execute("SELECT id, mood FROM messages ORDER BY id").fetchall() == expected
    conn.close()
