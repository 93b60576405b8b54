"""acore-doctor restore: verified, staged, swapped in; killed at any step the deployment
ends wholly old or wholly new."""

from __future__ import annotations

import os

import pytest

from acore_doctor.recovery.backup import create_backup, list_backups
from acore_doctor.recovery.common import parse_when, read_jsonl
from acore_doctor.recovery.restore import (
    RestoreError,
    restore,
)
from tests.support.builder import DeploymentBuilder
from tests.support.recovery import (
    change_everything,
    config_of,
    deployment_with_db,
    healthy,
    state_digest,
)


@pytest.fixture
def bot(bot: DeploymentBuilder) -> DeploymentBuilder:
    return healthy(bot)


def test_restore_brings_back_the_backup_and_keeps_the_present(bot: DeploymentBuilder) -> None:
    deployment_with_db(bot)
    config = config_of(bot.root)
    backup = create_backup(config)
    old = state_digest(bot.root)
    change_everything(bot)
    changed = state_digest(bot.root)

    result = restore(config, say=lambda _line: None)

    assert state_digest(bot.root) == old
    assert (bot.root / ".env").stat().st_mode & 0o777 == 0o600
    assert (bot.root / "data/.quarantine/20250101T000000000000Z/old.json").exists(), "carried over"
    assert (bot.root / "data/temp/tts_123.wav").exists(), "scratch carried over"
    assert result.backup.id == backup.id
    # The present state is itself a backup now: restoring it gives it back.
    pre = [b for b in list_backups(config.backup_dir) if b.label == "pre-restore"]
    assert [b.id for b in pre] == [result.pre_restore]
    restore(config, at=pre[0].created_at, say=lambda _line: None)
    assert state_digest(bot.root) == changed
    assert not list((bot.root / ".acore-doctor").glob("restore-*")), "work dirs cleaned up"
    outcomes = [(r["tool"], r["outcome"]) for r in read_jsonl(config.audit_log)]
    assert outcomes.count(("restore", "done")) == 2


def test_restore_at_takes_the_newest_backup_not_after_the_time(bot: DeploymentBuilder) -> None:
    config = config_of(bot.root)
    first = create_backup(config)
    bot.write("prompts/default.txt", "second\n")
    second = create_backup(config)
    bot.write("prompts/default.txt", "third\n")
    restore(config, at=parse_when(first.id), say=lambda _line: None)
    assert (bot.root / "prompts/default.txt").read_text() != "second\n"
    restore(config, at=second.created_at, say=lambda _line: None)
    assert (bot.root / "prompts/default.txt").read_text() == "second\n"
    with pytest.raises(RestoreError, match="no backup taken at or before"):
        restore(config, at=parse_when("2001-01-01T00:00:00Z"), say=lambda _line: None)


@pytest.mark.parametrize("damage", ["archive", "manifest-sha", "member-missing"])
def test_a_damaged_backup_is_refused_and_nothing_changes(
    bot: DeploymentBuilder, damage: str
) -> None:
    config = config_of(bot.root)
    backup = create_backup(config)
    change_everything(bot)
    before = state_digest(bot.root)
    if damage == "archive":
        with backup.archive.open("r+b") as handle:
            handle.seek(backup.archive.stat().st_size // 2)
            byte = handle.read(1)
            handle.seek(-1, os.SEEK_CUR)
            handle.write(bytes([byte[0] ^ 0xFF]))
    else:
        lines = backup.manifest.read_text().splitlines()
        index = next(i for i, line in enumerate(lines) if "rl_policies.json" in line)
        if damage == "manifest-sha":
            lines[index] = lines[index].replace('"sha256": "', '"sha256": "00')
        else:
            lines.insert(index, lines[index].replace("rl_policies.json", "lost.json"))
        backup.manifest.write_text("\n".join(lines) + "\n")
    with pytest.raises(RestoreError, match="failed verification"):
        restore(config, say=lambda _line: None)
    assert state_digest(bot.root) == before
    assert not list((bot.root / ".acore-doctor").glob("restore-*"))
    assert read_jsonl(config.audit_log)[-1]["outcome"] == "refused"


QUIET = {"say": lambda _line: None}


def test_a_backup_marking_a_database_invalid_is_refused_unless_forced(
    bot: DeploymentBuilder,
) -> None:
    bot.write("data/vectors.sqlite3", b"SQLite format 3\x00" + os.urandom(4000))
    config = config_of(bot.root)
    create_backup(config)
    bot.write("data/chat_history/9.json", "[]")
    before = state_digest(bot.root)
    with pytest.raises(RestoreError, match="database was invalid when backed up"):
        restore(config, **QUIET)
    assert state_digest(bot.root) == before, "a refusal changes nothing"
    restore(config, force=True, **QUIET)
    assert not (bot.root / "data/chat_history/9.json").exists()


def test_restoring_twice_does_not_undo_the_first(bot: DeploymentBuilder) -> None:
    deployment_with_db(bot)
    config = config_of(bot.root)
    create_backup(config)
    backed_up = state_digest(bot.root)
    change_everything(bot)
    first = restore(config, **QUIET)
    assert state_digest(bot.root) == backed_up
    second = restore(config, **QUIET)
    assert second.backup.id == first.backup.id, "the pre-restore snapshot is not 'newest'"
    assert state_digest(bot.root) == backed_up
    labels = [b.label for b in list_backups(config.backup_dir)]
    assert labels.count("pre-restore") == 2


def test_replaced_state_not_in_the_pre_restore_backup_goes_to_quarantine(
    bot: DeploymentBuilder,
) -> None:
    deployment_with_db(bot)
    config = config_of(bot.root)
    create_backup(config)
    wal = os.urandom(64)
    bot.write("data/conversations.db-wal", wal)  # never in a backup (a side file)
    restore(config, **QUIET)
    kept = [p for p in (bot.root / "data/.quarantine").rglob("conversations.db-wal")]
    assert [p.read_bytes() for p in kept] == [wal]
    assert "restore-" in kept[0].as_posix()
