"""acore-doctor backup on throw-away deployments: what goes in, how it is described, and that
a database written to during the backup comes out consistent."""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import subprocess
import sys
import tarfile
import time
from datetime import timedelta
from pathlib import Path

from acore_doctor.deployment import load_deployment
from acore_doctor.probes.databases import open_readonly
from acore_doctor.recovery.backup import (
    create_backup,
    list_backups,
    manifest_entries,
    prune_backups,
)
from acore_doctor.recovery.common import (
    RecoveryConfig,
    json_parses,
    read_jsonl,
    recovery_config,
    stamp,
    utc_now,
)
from tests.builder import DeploymentBuilder
from tests.conftest import SUITE_ROOT, clean_env

CLI = [sys.executable, "-m", "acore_doctor.cli"]


# -- helpers other recovery tests import ------------------------------------------------------
def make_db(path: Path, rows: int = 2000, wal: bool = False) -> list[tuple]:
    """The offline-RL conversation store (deployment §3.1) with ``rows`` messages."""
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path)
    if wal:
        conn.execute("PRAGMA journal_mode=WAL")
    conn.execute(
        "CREATE TABLE messages(id INTEGER PRIMARY KEY AUTOINCREMENT, channel_id INTEGER NOT NULL,"
        " role TEXT NOT NULL, content TEXT NOT NULL, username TEXT, user_id INTEGER,"
        " timestamp DATETIME DEFAULT CURRENT_TIMESTAMP)"
    )
    conn.execute("CREATE INDEX idx_channel ON messages(channel_id)")
    conn.executemany(
        "INSERT INTO messages(channel_id, role, content, username, user_id) VALUES (?,?,?,?,?)",
        [(i % 7, "user", f"message {i} " + "x" * 40, f"user{i % 5}", i % 5) for i in range(rows)],
    )
    conn.commit()
    rows = conn.execute(ROWS).fetchall()
    conn.close()  # the last writer closing removes -wal and -shm, as when the bot stops
    return rows


ROWS = "SELECT id, channel_id, role, content, username, user_id FROM messages ORDER BY id"


def db_rows(path: Path) -> list[tuple]:
    conn = open_readonly(path)
    try:
        return conn.execute(ROWS).fetchall()
    finally:
        conn.close()


def config_of(root: Path) -> RecoveryConfig:
    return recovery_config(load_deployment(root))


def state_digest(root: Path) -> dict[str, str]:
    """Content of the deployment's state (data/ minus scratch and quarantine, prompts/, .env),
    databases by their rows so two consistent copies compare equal."""
    digest: dict[str, str] = {}
    for top in ("data", "prompts"):
        base = root / top
        for path in sorted(base.rglob("*")) if base.exists() else []:
            rel = path.relative_to(root).as_posix()
            parts = path.relative_to(base).parts
            if top == "data" and parts[0] in (".quarantine", "temp"):
                continue
            if path.is_dir():
                digest[rel] = "dir"
            elif path.suffix == ".db":
                digest[rel] = "rows:" + hashlib.sha256(repr(db_rows(path)).encode()).hexdigest()
            elif not path.name.endswith(("-wal", "-shm", "-journal")):
                digest[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
    env = root / ".env"
    digest[".env"] = hashlib.sha256(env.read_bytes()).hexdigest() if env.exists() else "missing"
    return digest


def healthy(bot: DeploymentBuilder) -> DeploymentBuilder:
    """The demo ships with damage for the health checks to find (a corrupt history file, a
    stray .tmp); recovery tests start from state with none and add their own."""
    for path in sorted((bot.root / "data").rglob("*")):
        if path.suffix == ".tmp" or (path.suffix == ".json" and not json_parses(path.read_bytes())):
            path.unlink()
    return bot


def deployment_with_db(bot: DeploymentBuilder) -> DeploymentBuilder:
    make_db(bot.root / "data" / "conversations.db")
    bot.write("data/temp/tts_123.wav", b"RIFF....WAVEfmt ")
    bot.write("data/.quarantine/20250101T000000000000Z/old.json", "{}")
    return bot


# -- tests ------------------------------------------------------------------------------------
def test_backup_holds_state_with_sizes_and_sha256(bot: DeploymentBuilder) -> None:
    deployment_with_db(bot)
    config = config_of(bot.root)
    backup = create_backup(config)

    entries = list(manifest_entries(backup.manifest))
    files = {e["path"]: e for e in entries if e["type"] == "file"}
    with tarfile.open(backup.archive) as tar:
        members = {m.name: m for m in tar.getmembers()}
        for path, entry in files.items():
            data = tar.extractfile(members[path]).read()
            assert len(data) == entry["size"], path
            assert hashlib.sha256(data).hexdigest() == entry["sha256"], path
        assert members[".env"].mode == 0o600
    assert "data/conversations.db" in files and files["data/conversations.db"]["kind"] == "sqlite"
    assert files["data/conversations.db"]["records"] == {"messages": 2000}
    assert "prompts/characters/dagoth_ur.json" in files
    assert ".env" in files
    assert not [p for p in files if p.startswith(("data/temp/", "data/.quarantine/"))]
    assert [e["path"] for e in entries] == [m for m in members], "manifest order is archive order"
    trailer = backup.trailer()
    assert trailer["archive_size"] == backup.archive.stat().st_size
    assert trailer["archive_sha256"] == hashlib.sha256(backup.archive.read_bytes()).hexdigest()
    assert trailer["counts"]["sqlite"]["data/conversations.db"] == {"messages": 2000}
    for path in (backup.archive, backup.manifest):
        assert path.stat().st_mode & 0o077 == 0, f"{path} must not be readable by others"
    assert [r["action"] for r in read_jsonl(config.audit_log)] == ["backup"]


def test_backup_notes_a_file_that_does_not_parse(bot: DeploymentBuilder) -> None:
    bot.write("data/chat_history/555.json", '[{"role": "user", "content": "hal')
    backup = create_backup(config_of(bot.root))
    entry = next(e for e in manifest_entries(backup.manifest) if e["path"].endswith("555.json"))
    assert entry["valid"] is False
    assert "data/chat_history/555.json" in backup.trailer()["invalid"]


WRITER = r"""
import sqlite3, sys, time
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("PRAGMA journal_mode=WAL")
batch = 0
deadline = time.time() + 20
while time.time() < deadline:
    conn.execute("BEGIN")
    for i in range(10):
        conn.execute("INSERT INTO messages(channel_id, role, content) VALUES (?, 'user', ?)",
                     (batch, "x" * 200))
    conn.execute("COMMIT")
    batch += 1
    if batch == 50:
        print("writing", flush=True)
"""


def test_sqlite_backup_is_consistent_while_the_bot_writes(bot: DeploymentBuilder) -> None:
    db = bot.root / "data" / "conversations.db"
    make_db(db, rows=0, wal=True)
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(db)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert writer.stdout.readline().strip() == "writing"
        backup = create_backup(config_of(bot.root))
    finally:
        writer.kill()
        writer.wait()
    out = bot.root.parent / "restored.db"
    with tarfile.open(backup.archive) as tar:
        out.write_bytes(tar.extractfile("data/conversations.db").read())
    conn = sqlite3.connect(out)
    assert conn.execute("PRAGMA quick_check").fetchall() == [("ok",)]
    batches = conn.execute(
        "SELECT channel_id, count(*) FROM messages GROUP BY channel_id"
    ).fetchall()
    conn.close()
    assert len(batches) >= 50, "the copy should hold what was committed before it began"
    assert {n for _, n in batches} == {10}, "a transaction is either wholly in the copy or not"


def _age(backup_dir: Path, backup_id: str, days: float) -> str:
    """Rename a backup as if taken ``days`` ago (its id is its timestamp)."""
    old_id = stamp(utc_now() - timedelta(days=days))
    for suffix in (".tar.gz", ".manifest.jsonl"):
        os.rename(backup_dir / f"{backup_id}{suffix}", backup_dir / f"{old_id}{suffix}")
    return old_id


def test_retention_removes_old_backups_but_never_the_newest(bot: DeploymentBuilder) -> None:
    bot.set_env(RECOVERY_STATE_RETENTION="7")
    config = config_of(bot.root)
    ids = [create_backup(config).id for _ in range(3)]
    old = _age(config.backup_dir, ids[0], 10)
    older = _age(config.backup_dir, ids[1], 30)
    removed = prune_backups(config)
    assert sorted(b.id for b in removed) == sorted([old, older])
    assert [b.id for b in list_backups(config.backup_dir)] == [ids[2]]
    # Only one left and it is ancient: it stays.
    _age(config.backup_dir, ids[2], 60)
    assert prune_backups(config) == []
    assert len(list_backups(config.backup_dir)) == 1
    assert [r["action"] for r in read_jsonl(config.audit_log)].count("prune") == 2


def test_pruning_clears_what_a_killed_backup_left_a_day_ago(bot: DeploymentBuilder) -> None:
    config = config_of(bot.root)
    keep = create_backup(config)
    stale = config.backup_dir / f"{stamp()}.tar.gz.partial"
    fresh = config.backup_dir / f"{stamp()}.manifest.jsonl.partial"
    work = config.backup_dir / ".acore-backup-x1y2"
    for path in (stale, fresh):
        path.write_bytes(b"half")
    (work / "snapshot.db").parent.mkdir()
    (work / "snapshot.db").write_bytes(b"x")
    day_ago = time.time() - 2 * 86400
    for path in (stale, work):
        os.utime(path, (day_ago, day_ago))
    prune_backups(config)
    assert not stale.exists() and not work.exists()
    assert fresh.exists(), "a partial file from today may be a backup in progress"
    assert [b.id for b in list_backups(config.backup_dir)] == [keep.id]


def test_backup_command_honours_state_backup_enabled(bot: DeploymentBuilder) -> None:
    run = [*CLI, "backup", f"--bot-dir={bot.root}", "--if-enabled"]
    proc = subprocess.run(run, cwd=SUITE_ROOT, env=clean_env(), capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "no backup taken" in proc.stdout
    assert not list_backups(bot.root / "backups")

    bot.set_env(STATE_BACKUP_ENABLED="true")
    proc = subprocess.run(run, cwd=SUITE_ROOT, env=clean_env(), capture_output=True, text=True)
    assert proc.returncode in (0, 1), proc.stdout + proc.stderr
    assert len(list_backups(bot.root / "backups")) == 1
    token = bot.env()["DISCORD_TOKEN"]
    assert token not in proc.stdout + proc.stderr
    listing = subprocess.run(
        [*CLI, "backup", f"--bot-dir={bot.root}", "--list"],
        cwd=SUITE_ROOT,
        env=clean_env(),
        capture_output=True,
        text=True,
    )
    assert "manual" in listing.stdout and "files" in listing.stdout


def test_backup_is_invisible_until_complete(bot: DeploymentBuilder) -> None:
    config = config_of(bot.root)
    config.backup_dir.mkdir()
    partial_id = stamp()
    (config.backup_dir / f"{partial_id}.tar.gz.partial").write_bytes(b"half")
    (config.backup_dir / f"{stamp()}.tar.gz").write_bytes(b"no manifest")
    assert list_backups(config.backup_dir) == []
    backup = create_backup(config)
    assert [b.id for b in list_backups(config.backup_dir)] == [backup.id]
    header = json.loads(backup.manifest.read_text().splitlines()[0])
    assert header["format"] == "acore-doctor-backup/1" and header["label"] == "manual"
    assert time.time() - backup.created_at.timestamp() < 60
