"""acore-doctor backup on throw-away deployments: what goes in, how it is described, and that
a database written to during the backup comes out consistent."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import tarfile

from acore_doctor.recovery.backup import (
    create_backup,
    list_backups,
)
from tests.support.builder import DeploymentBuilder
from tests.support.recovery import CLI, config_of, make_db
from tests.support.runs import SUITE_ROOT, clean_env

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
