"""Issue 19's merge policy on real damaged files: the damaged file is the truth wherever its
pages read and verify, the backup only fills the ranges of destroyed pages; deleted rows stay
deleted; freed pages never come back into live tables; honest estimates; hostile input bounded."""

from __future__ import annotations

import shutil
import sqlite3
import struct
import tracemalloc
from pathlib import Path

import pytest

from acore_doctor.recovery.pages import PageFile, Unparsable
from acore_doctor.recovery.salvage import gaps, rebuild_database
from tests.support.shapes import SHAPES, build, damage, drift, layout, table_rows, user_tables


def scenario(tmp_path: Path, shape_name: str) -> tuple[Path, Path, dict, dict]:
    """(backup, drifted live copy, rows in the backup, rows now) of one shape."""
    shape = SHAPES[shape_name]
    backup, live = tmp_path / "backup.db", tmp_path / "live.db"
    build(shape, backup)
    shutil.copy(backup, live)
    drift(shape, live)
    tables = user_tables(live)
    return backup, live, table_rows(backup, tables), table_rows(live, tables)


def judge(result_db: Path, backed_up: dict, truth: dict) -> tuple[int, int, int]:
    """(rows lost, rows invented, rows deleted since the backup that came back)."""
    got = table_rows(result_db, {t: SHAPES_CLUSTERED.get(t, False) for t in truth})
    lost = invented = resurrected = 0
    for table, rows in truth.items():
        mine = got.get(table, {})
        lost += sum(1 for key, row in rows.items() if mine.get(key) != row)
        invented += sum(1 for key in mine if key not in rows and key not in backed_up[table])
        resurrected += sum(1 for key in mine if key not in rows and key in backed_up[table])
    return lost, invented, resurrected


SHAPES_CLUSTERED = {"kv": True}


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_every_shape_rebuilds_with_a_backup_and_deleted_rows_stay_deleted(
    tmp_path: Path, shape: str
) -> None:
    """No AUTOINCREMENT (no sqlite_sequence), UTF-16, overflow, ALTER'd columns, twin tables,
    WITHOUT ROWID, a ChromaDB-shaped store: a leaf destroyed, a backup older than the rows
    deleted and added since. Nothing crashes; rows the bot deleted outside the damaged page
    stay deleted; what came from the backup is counted."""
    backup, live, backed_up, truth = scenario(tmp_path, shape)
    touched = damage(live, "leaf", layout(live, SHAPES[shape].main))
    assert touched
    rebuilt = rebuild_database(live, tmp_path / "out.db", tmp_path / "work", backup, "B", False)
    assert rebuilt.ok, rebuilt.problems
    lost, invented, resurrected = judge(tmp_path / "out.db", backed_up, truth)
    assert invented == 0
    # Deleted rows come back only inside the damaged page's range, and are counted.
    assert resurrected <= rebuilt.restored, rebuilt.summary()
    if SHAPES[shape].main != "kv":
        assert resurrected <= 40, rebuilt.summary()
    assert not list(tmp_path.glob("*.partial"))
    if lost or resurrected:
        assert not rebuilt.complete, rebuilt.summary()


def test_with_an_intact_tree_nothing_comes_from_the_backup(tmp_path: Path) -> None:
    """Page 1's header destroyed, every tree intact: the damaged file is the whole truth;
    the 300 rows deleted since the backup stay deleted and the freed pages holding them
    are not read as rows."""
    backup, live, backed_up, truth = scenario(tmp_path, "plain")
    damage(live, "header", layout(live, "notes"))
    rebuilt = rebuild_database(live, tmp_path / "out.db", tmp_path / "work", backup, "B", False)
    assert rebuilt.ok, rebuilt.problems
    assert judge(tmp_path / "out.db", backed_up, truth) == (0, 0, 0)
    assert rebuilt.restored == 0 and rebuilt.complete, rebuilt.summary()


def test_freed_pages_never_return_into_live_tables_without_a_backup(tmp_path: Path) -> None:
    """The freelist trunk destroyed: the freed leaves (the deleted rows) are found as
    orphans, but every tree is intact, so their rows are deleted content, not live rows."""
    _backup, live, backed_up, truth = scenario(tmp_path, "twins")
    where = layout(live, "left_side")
    assert where.freelist_trunk
    damage(live, "freelist_trunk", where)
    rebuilt = rebuild_database(live, tmp_path / "out.db", tmp_path / "work", use_cli=False)
    assert rebuilt.ok
    assert judge(tmp_path / "out.db", backed_up, truth) == (0, 0, 0)
    assert rebuilt.complete, rebuilt.summary()


def test_a_suspect_record_does_not_override_the_backup(tmp_path: Path) -> None:
    """A flipped serial type turns a TEXT value into a number: no real row of the table can
    hold that, so the backup's copy is kept and the row is listed."""
    db, backup = tmp_path / "live.db", tmp_path / "backup.db"
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA page_size=1024")
    conn.execute("CREATE TABLE notes(id INTEGER PRIMARY KEY, body TEXT)")
    conn.executemany("INSERT INTO notes VALUES (?, ?)", [(i, "abcdefgh") for i in range(1, 400)])
    conn.commit()
    conn.close()
    shutil.copy(db, backup)
    where = layout(db, "notes")
    page = where.key_page[200]
    data = bytearray(db.read_bytes())
    start = (page - 1) * 1024
    # One cell's record: header [3, 0, 29] (NULL rowid alias, 8-byte text); one flipped
    # serial type (29 -> 6) reads the same 8 bytes as an integer: it still parses.
    offset = data.index(bytes([3, 0, 29]) + b"abcdefgh", start, start + 1024)
    data[offset + 2] = 6
    db.write_bytes(bytes(data))
    rebuilt = rebuild_database(db, tmp_path / "out.db", tmp_path / "work", backup, "B", False)
    assert rebuilt.ok, rebuilt.problems
    assert rebuilt.changed and rebuilt.changed[0].startswith("notes rowid"), rebuilt.summary()
    assert (
        table_rows(tmp_path / "out.db", {"notes": False})["notes"]
        == table_rows(backup, {"notes": False})["notes"]
    )


def test_a_looping_overflow_chain_is_damage_not_repeated_content(tmp_path: Path) -> None:
    db = tmp_path / "loop.db"
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA page_size=1024")
    conn.execute("CREATE TABLE docs(id INTEGER PRIMARY KEY, body TEXT)")
    conn.execute("INSERT INTO docs VALUES (1, ?)", ("z" * 20_000,))
    conn.commit()
    conn.close()
    where = layout(db, "docs")
    first = where.overflow[0]
    data = bytearray(db.read_bytes())
    struct.pack_into(">I", data, (first - 1) * 1024, first)  # the chain points at itself
    db.write_bytes(bytes(data))
    with PageFile(db) as pages:
        page = pages.btree_page(where.root)
        with pytest.raises(Unparsable, match="loops|leaves"):
            pages.leaf_cell(page, page.cells[0])
    rebuilt = rebuild_database(db, tmp_path / "out.db", tmp_path / "work", use_cli=False)
    assert rebuilt.ok and not rebuilt.complete and rebuilt.maybe_lost >= 1, rebuilt.summary()


def test_a_hostile_wal_claiming_2_31_pages_is_bounded(tmp_path: Path) -> None:
    db = tmp_path / "store.db"
    build(SHAPES["plain"], db)
    wal = tmp_path / "store.db-wal"
    page_size = 1024
    header = bytearray(struct.pack(">IIIIII", 0x377F0682, 3007000, page_size, 0, 11, 22))
    from acore_doctor.recovery.pages import _wal_checksum

    sums = _wal_checksum(bytes(header), "<", (0, 0))
    header += struct.pack(">II", *sums)
    frame = bytearray(struct.pack(">IIII", 2**31 - 1, 2**31, 11, 22))
    body = bytes(page_size)
    sums = _wal_checksum(bytes(frame[:8]), "<", sums)
    sums = _wal_checksum(body, "<", sums)
    frame += struct.pack(">II", *sums) + body
    wal.write_bytes(bytes(header) + bytes(frame))
    tracemalloc.start()
    try:
        with PageFile(db, wal=wal) as pages:
            assert pages.page_count <= db.stat().st_size // page_size + 1024
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 20_000_000, f"{peak} bytes for a {db.stat().st_size} byte file"


def test_garbage_cells_under_an_intact_header_are_counted(tmp_path: Path) -> None:
    """A leaf whose header and pointer array survive but whose cells are garbage: the
    estimate counts its cells (issue: 29-563 rows lost with exit 0)."""
    _backup, live, backed_up, truth = scenario(tmp_path, "plain")
    where = layout(live, "notes")
    damage(live, "cells", where)
    rebuilt = rebuild_database(live, tmp_path / "out.db", tmp_path / "work", use_cli=False)
    lost, _invented, _back = judge(tmp_path / "out.db", backed_up, truth)
    assert lost > 0 and not rebuilt.complete
    assert abs(rebuilt.maybe_lost - lost) <= max(1, lost // 10), rebuilt.summary()


@pytest.mark.parametrize("kind", ["leaf", "cells", "interior"])
def test_single_page_estimate_within_ten_percent(tmp_path: Path, kind: str) -> None:
    _backup, live, backed_up, truth = scenario(tmp_path, "store")
    damage(live, kind, layout(live, "messages"))
    rebuilt = rebuild_database(live, tmp_path / "out.db", tmp_path / "work", use_cli=False)
    lost, invented, _back = judge(tmp_path / "out.db", backed_up, truth)
    assert invented == 0
    assert abs(rebuilt.maybe_lost - lost) <= max(2, lost // 10), (lost, rebuilt.summary())
    assert rebuilt.complete == (lost == 0)


def test_a_file_of_zeros_is_not_millions_of_rows(tmp_path: Path) -> None:
    zeros = tmp_path / "zeros.db"
    with zeros.open("wb") as handle:
        handle.truncate(64 * 1024 * 1024)
    rebuilt = rebuild_database(zeros, tmp_path / "out.db", tmp_path / "work", use_cli=False)
    assert not rebuilt.ok and rebuilt.maybe_lost == 0


def test_gaps() -> None:
    assert gaps([(None, None)]) == []
    assert gaps([(None, 10), (20, None)]) == [(10, 20)]
    assert gaps([(5, 10), (10, 30)])[1:] == [(30, 2**63 - 1)]


def test_a_group_sqlite_cannot_read_falls_back_to_the_page_reader(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Leaves with overflow cells handed to SQLite's decoder by mistake (their overflow
    pages are not in the scratch file): SQLite says malformed, the batch is rolled back and
    read by the page reader; every row is there once."""
    db = tmp_path / "docs.db"
    build(SHAPES["overflow"], db)
    monkeypatch.setattr(PageFile, "spills", lambda _self, _page: False)
    rebuilt = rebuild_database(db, tmp_path / "out.db", tmp_path / "work", use_cli=False)
    assert rebuilt.ok and rebuilt.complete, rebuilt.summary()
    tables = user_tables(db)
    assert table_rows(tmp_path / "out.db", tables) == table_rows(db, tables)
