"""SQLite checks: read-only, never created, no false critical on a busy database, and never
holding the bot's writers for more than 100 ms."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from acore_doctor.probes.databases import DbTarget, check_database
from tests.support.local_suite import BOT_DB_TABLES, make_bot_db


def test_missing_database_is_never_created(tmp_path: Path) -> None:
    facts = check_database(DbTarget(tmp_path / "bot.db", "test", BOT_DB_TABLES))
    assert not facts.exists
    assert list(tmp_path.iterdir()) == []


def test_healthy_database_passes_quick_and_integrity_check(tmp_path: Path) -> None:
    path = make_bot_db(tmp_path / "bot.db", rows=500)
    for deep in (False, True):
        facts = check_database(DbTarget(path, "test", BOT_DB_TABLES), deep=deep)
        assert facts.damage == [] and facts.busy is None and facts.error is None
        assert facts.check == ("integrity_check" if deep else "quick_check")
        assert facts.missing_tables == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bot.db"]


def test_zero_byte_and_garbage_files_are_damage(tmp_path: Path) -> None:
    (tmp_path / "empty.db").write_bytes(b"")
    (tmp_path / "garbage.db").write_bytes(bytes(range(256)) * 40)
    assert "0 bytes" in check_database(DbTarget(tmp_path / "empty.db", "t")).damage[0]
    assert (
        "not a SQLite database" in check_database(DbTarget(tmp_path / "garbage.db", "t")).damage[0]
    )


def test_corrupted_page_is_found_by_quick_check(tmp_path: Path) -> None:
    path = make_bot_db(tmp_path / "bot.db", rows=3000)
    data = bytearray(path.read_bytes())
    page_size = int.from_bytes(data[16:18], "big")
    for page in range(3, min(12, len(data) // page_size)):  # b-tree pages after the schema
        start = page * page_size
        data[start + 8 : start + 200] = b"\xff" * 192
    path.write_bytes(bytes(data))
    facts = check_database(DbTarget(path, "t", BOT_DB_TABLES))
    assert facts.damage, facts


def test_exclusive_lock_is_busy_not_damage(tmp_path: Path) -> None:
    path = make_bot_db(tmp_path / "bot.db", rows=100)
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        facts = check_database(DbTarget(path, "t", BOT_DB_TABLES), busy_budget_s=0.3)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert facts.damage == []
    assert facts.busy and "locked" in facts.busy


def test_unopened_wal_database_gets_no_shm_file(tmp_path: Path) -> None:
    path = make_bot_db(tmp_path / "bot.db", rows=100, journal="wal")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bot.db"]
    facts = check_database(DbTarget(path, "t", BOT_DB_TABLES))
    assert facts.journal == "wal" and facts.damage == [] and facts.missing_tables == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bot.db"]


def test_large_rollback_database_is_copied_in_steps(tmp_path: Path) -> None:
    path = make_bot_db(tmp_path / "bot.db", rows=3000)
    facts = check_database(DbTarget(path, "t", BOT_DB_TABLES), one_step_limit=0)
    assert facts.journal == "rollback" and facts.damage == [] and facts.missing_tables == []
    assert facts.busy is None and facts.error is None


def test_stepped_copy_of_a_busy_database_gives_up_as_busy(tmp_path: Path) -> None:
    path = make_bot_db(tmp_path / "bot.db", rows=3000)
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        facts = check_database(
            DbTarget(path, "t", BOT_DB_TABLES), busy_budget_s=0.2, one_step_limit=0
        )
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert facts.damage == [] and facts.busy
