"""acore-doctor backup on throw-away deployments: what goes in, how it is described, and that
a database written to during the backup comes out consistent."""

from __future__ import annotations

import hashlib
import json
import os
import tarfile
import time
from datetime import timedelta
from pathlib import Path

from acore_doctor.recovery.backup import (
    create_backup,
    list_backups,
    manifest_entries,
    prune_backups,
)
from acore_doctor.recovery.common import (
    read_jsonl,
    stamp,
    utc_now,
)
from tests.support.builder import DeploymentBuilder
from tests.support.recovery import config_of, deployment_with_db


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


def test_a_secret_in_the_label_is_redacted_in_the_manifest_and_audit_log(
    bot: DeploymentBuilder,
) -> None:
    from acore_doctor.deployment import load_deployment
    from acore_doctor.recovery.backup import list_backups
    from acore_doctor.redact import set_run_redactor

    secret = "hunter2-label-secret-value"
    shaped = "ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"
    bot.set_env(DISCORD_TOKEN=secret)
    set_run_redactor(load_deployment(bot.root).redactor())
    try:
        config = config_of(bot.root)
        backup = create_backup(config, label=f"before upgrade {secret} {shaped}")
    finally:
        set_run_redactor(None)
    written = backup.manifest.read_bytes() + config.audit_log.read_bytes()
    assert b"before upgrade" in written
    assert secret.encode() not in written
    assert shaped.encode() not in written
    assert secret not in backup.label
    assert all(secret not in b.label for b in list_backups(config.backup_dir))


def test_a_full_disk_and_a_read_only_filesystem_are_named_with_the_room_needed(
    tmp_path: Path,
) -> None:
    import errno

    from acore_doctor.recovery.common import space_problem

    full = space_problem(OSError(errno.ENOSPC, "No space left on device"), tmp_path, 150 * 2**20)
    assert full is not None
    assert full.startswith(f"no space left on device: needs up to 150 MB in {tmp_path}, ")
    assert full.endswith(" MB free")
    readonly = space_problem(OSError(errno.EROFS, "Read-only file system"), tmp_path)
    assert readonly == f"read-only file system: cannot write {tmp_path}"
    assert space_problem(OSError(errno.EACCES, "Permission denied"), tmp_path) is None
