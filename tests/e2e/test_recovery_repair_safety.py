"""Repair of a damaged SQLite database under kills, full disks and read-only file systems
(issue 19, points 6 and 8): a kill at any step leaves the old state with its WAL or the new
one; a full or read-only disk is exit 2 with the real cause, nothing changed."""

from __future__ import annotations

import shutil
import sqlite3
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from acore_doctor.deployment import load_deployment
from acore_doctor.recovery.common import CRASH_ENV, CRASH_EXIT_CODE, read_jsonl
from acore_doctor.recovery.pages import PageFile
from acore_doctor.recovery.repair import apply_repair
from tests.support.builder import DeploymentBuilder, tree_digest
from tests.support.damage import destroy
from tests.support.recovery import audit_is_complete, config_of, healthy, repair_cli
from tests.support.runs import SUITE_ROOT, clean_env

DB = "data/conversations.db"
QUIET = {"say": lambda _line: None}
DRIVER = """
import sys
from pathlib import Path
from acore_doctor.deployment import load_deployment
from acore_doctor.recovery.repair import apply_repair
apply_repair(load_deployment(Path(sys.argv[1])), say=lambda _l: None, use_sqlite_cli=False)
"""
CRASH_POINTS = (
    "repair:sqlite:salvaged",
    "repair:sqlite:quarantined",
    "repair:sqlite:shm-moved",
    "repair:sqlite:wal-moved",
    "repair:sqlite:swapped",
)


def all_rows(db: Path) -> list[tuple]:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return conn.execute("SELECT id, body FROM notes ORDER BY id").fetchall()
    finally:
        conn.close()


def damaged_db_with_wal_only_rows(root: Path) -> int:
    """A WAL database whose newest 200 rows were committed only to its -wal (the bot was
    killed before a checkpoint), with one index page of the database file destroyed.
    Returns the number of rows committed."""
    db = root / DB
    db.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA page_size=1024")
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("CREATE TABLE notes(id INTEGER PRIMARY KEY, body TEXT NOT NULL)")
    conn.execute("CREATE INDEX notes_body ON notes(body)")
    conn.executemany("INSERT INTO notes VALUES (?, ?)", [(i, f"n{i}") for i in range(1, 1001)])
    conn.commit()
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.execute("PRAGMA wal_autocheckpoint=0")
    conn.executemany(
        "INSERT INTO notes VALUES (?, ?)", [(i, f"wal only {i}") for i in range(1001, 1201)]
    )
    conn.commit()
    # Copy the files while the writer still holds them: the copy is a killed bot's state.
    shutil.copy(db, db.with_name("snap.db"))
    shutil.copy(db.with_name(db.name + "-wal"), db.with_name("snap.db-wal"))
    conn.close()
    db.unlink()
    db.with_name(db.name + "-wal").unlink(missing_ok=True)
    db.with_name(db.name + "-shm").unlink(missing_ok=True)
    db.with_name("snap.db").rename(db)
    db.with_name("snap.db-wal").rename(db.with_name(db.name + "-wal"))
    # The index's root in the database file (the WAL holds newer copies of other pages).
    conn = sqlite3.connect(f"file:{db}?mode=ro&immutable=1", uri=True)
    index_root = conn.execute("SELECT rootpage FROM sqlite_schema WHERE name='notes_body'")
    page = index_root.fetchone()[0]
    conn.close()
    with PageFile(db) as pages:
        size = pages.header.page_size
    destroy(db, page, size)
    return 1200


def test_a_kill_at_every_step_of_a_database_repair_keeps_the_wal_only_rows(
    bot: DeploymentBuilder, tmp_path: Path
) -> None:
    healthy(bot)
    committed = damaged_db_with_wal_only_rows(bot.root)
    template = tmp_path / "template"
    shutil.copytree(bot.root, template, symlinks=True)

    baseline = tmp_path / "baseline"
    shutil.copytree(template, baseline, symlinks=True)
    apply_repair(load_deployment(baseline), use_sqlite_cli=False, **QUIET)
    expected = all_rows(baseline / DB)
    assert len(expected) == committed, "the repair keeps the rows only the WAL held"

    for point in CRASH_POINTS:
        root = tmp_path / point.rsplit(":", 1)[1]
        shutil.copytree(template, root, symlinks=True)
        proc = subprocess.run(
            [sys.executable, "-c", DRIVER, str(root)],
            cwd=SUITE_ROOT,
            env=clean_env(**{CRASH_ENV: point}),
            capture_output=True,
            text=True,
        )
        assert proc.returncode == CRASH_EXIT_CODE, (point, proc.stderr[-2000:])
        # The next run finishes (or rolls back and redoes) the interrupted repair.
        apply_repair(load_deployment(root), use_sqlite_cli=False, **QUIET)
        assert all_rows(root / DB) == expected, f"rows lost after a kill at {point}"
        assert not (root / (DB + "-wal")).exists() or all_rows(root / DB) == expected
        audit_is_complete(read_jsonl(config_of(root).audit_log))
        assert not list((root / "data").glob("*.partial")), point


def mount_tmpfs(where: Path, size: str) -> None:
    where.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)],
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here (needs root): {proc.stderr.strip()}")


def damaged_store(root: Path, rows: int) -> None:
    db = root / DB
    db.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE notes(id INTEGER PRIMARY KEY, body TEXT NOT NULL)")
    conn.executemany("INSERT INTO notes VALUES (?, ?)", [(i, "x" * 200) for i in range(rows)])
    conn.commit()
    conn.close()
    with db.open("r+b") as handle:
        handle.write(b"\xde\xad" * 50)


@pytest.mark.parametrize("kind", ["full", "read-only"])
def test_a_full_or_read_only_disk_is_exit_2_with_the_cause_and_nothing_changed(
    bot: DeploymentBuilder, tmp_path: Path, kind: str
) -> None:
    healthy(bot)
    mount = tmp_path / "disk"
    mount_tmpfs(mount, "6m" if kind == "full" else "64m")
    try:
        root = mount / "acore_bot"
        shutil.copytree(bot.root, root, symlinks=True)
        damaged_store(root, rows=12_000)  # about 3 MB: the repair needs twice that
        if kind == "read-only":
            subprocess.run(["mount", "-o", "remount,ro", str(mount)], check=True)
        before = tree_digest(root)
        proc = repair_cli(root)
        assert proc.returncode == 2, proc.stdout + proc.stderr
        cause = "no space left on device" if kind == "full" else "read-only file system"
        assert cause in proc.stdout, proc.stdout
        assert "internal error" not in proc.stdout + proc.stderr
        if kind == "full":
            assert "MB" in proc.stdout
            # Nothing changed but our own bookkeeping (the audit log and its lock).
            after = {k: v for k, v in tree_digest(root).items() if ".acore-doctor" not in k}
            assert after == {k: v for k, v in before.items() if ".acore-doctor" not in k}
            audit_is_complete(read_jsonl(config_of(root).audit_log))
        else:
            assert tree_digest(root) == before
        assert not list(root.rglob("*.partial"))
    finally:
        subprocess.run(["umount", str(mount)], check=False)


def hostile_wal(db: Path, page_size: int) -> None:
    """A -wal whose one valid commit frame claims the database has 2^31 pages."""
    from acore_doctor.recovery.pages import _wal_checksum

    header = struct.pack(">IIIIII", 0x377F0682, 3007000, page_size, 0, 11, 22)
    sums = _wal_checksum(header, "<", (0, 0))
    header += struct.pack(">II", *sums)
    frame = struct.pack(">IIII", 2**31 - 1, 2**31, 11, 22)
    body = bytes(page_size)
    sums = _wal_checksum(frame[:8], "<", sums)
    sums = _wal_checksum(body, "<", sums)
    db.with_name(db.name + "-wal").write_bytes(header + frame + struct.pack(">II", *sums) + body)


def test_a_hostile_wal_claiming_2_31_pages_does_not_blow_up_a_repair(
    bot: DeploymentBuilder,
) -> None:
    """Under a 1 GB address-space limit: a repair that believed the WAL would allocate
    2 GB for its page map and die (exit 3); bounded, it repairs."""
    healthy(bot)
    damaged_store(bot.root, rows=3000)
    hostile_wal(bot.root / DB, 4096)
    command = " ".join(
        [sys.executable, "-m", "acore_doctor.cli", "repair", "--apply", "--no-sqlite-cli"]
        + [f"--bot-dir={bot.root}"]
    )
    proc = subprocess.run(
        ["bash", "-c", f"ulimit -v 1000000 && exec {command}"],
        cwd=SUITE_ROOT,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode in (0, 1), proc.stdout + proc.stderr
    conn = sqlite3.connect(bot.root / DB)
    assert conn.execute("SELECT count(*) FROM notes").fetchone()[0] == 3000
    conn.close()
