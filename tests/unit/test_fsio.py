"""The one atomic write (acore_doctor.fsio) and the one read-only SQLite opener."""

from __future__ import annotations

import os
import sqlite3
import stat
from pathlib import Path

import pytest

from acore_doctor.fsio import write_atomic, write_json_atomic
from acore_doctor.probes.databases import open_readonly, readonly_uri


def test_write_atomic_replaces_and_leaves_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "state.json"
    write_atomic(target, "old", make_parents=True)
    write_atomic(target, b"new", mode=0o640)
    assert target.read_bytes() == b"new"
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert sorted(p.name for p in target.parent.iterdir()) == ["state.json"]
    write_json_atomic(target, {"a": 1})
    assert target.read_text() == '{\n  "a": 1\n}\n'
    assert stat.S_IMODE(target.stat().st_mode) == 0o600


def test_write_atomic_failure_keeps_the_old_file(tmp_path: Path) -> None:
    target = tmp_path / "state.json"
    target.write_text("old")
    with pytest.raises(TypeError):
        write_atomic(target, 42)  # type: ignore[arg-type]
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["state.json"]


def test_write_atomic_named_partial(tmp_path: Path) -> None:
    target = tmp_path / "x.json"
    write_atomic(target, "{}", suffix=".partial")
    assert target.read_text() == "{}" and not (tmp_path / "x.json.partial").exists()


def test_readonly_opener_writes_nothing_next_to_a_wal_database(tmp_path: Path) -> None:
    db = tmp_path / "wal.db"
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("CREATE TABLE t(x)")
    conn.execute("INSERT INTO t VALUES (1)")
    conn.commit()
    conn.close()
    assert "immutable=1" in readonly_uri(db)
    reader = open_readonly(db)
    try:
        assert reader.execute("SELECT x FROM t").fetchall() == [(1,)]
    finally:
        reader.close()
    assert sorted(os.listdir(tmp_path)) == ["wal.db"]
    with pytest.raises(sqlite3.OperationalError):
        open_readonly(tmp_path / "missing.db").execute("SELECT 1")
    assert not (tmp_path / "missing.db").exists()
