"""Backup and restore keep the deployment as it was: owners, groups, modes and symlinks.

Run as root (as most operators run restore), on a tree owned by another user: the bot that
runs as that user must find its files exactly as before the restore."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from acore_doctor.recovery.backup import create_backup, manifest_entries
from acore_doctor.recovery.restore import restore
from tests.support.builder import DeploymentBuilder
from tests.support.recovery import (
    BOT_GID,
    BOT_UID,
    config_of,
    give_to_the_bot_user,
    healthy,
    ownership,
)

QUIET = {"say": lambda _line: None}

needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="giving files to another user needs root")


@needs_root
def test_restore_as_root_keeps_owners_modes_and_symlinks(
    bot: DeploymentBuilder, tmp_path: Path
) -> None:
    models = tmp_path / "model-disk"
    models.mkdir()
    (models / "voice.pth").write_bytes(b"weights" * 1000)
    give_to_the_bot_user(bot, models)
    before = ownership(bot.root)
    assert before[".env"] == ("file", BOT_UID, BOT_GID, "0o640")
    assert before["data/voice_models"] == ("link", BOT_UID, BOT_GID, str(models))

    config = config_of(bot.root)
    backup = create_backup(config)
    trailer = backup.trailer()
    assert trailer["links"] == 2
    assert trailer["links_outside"] == [f"data/voice_models -> {models}"]
    entries = {e["path"]: e for e in manifest_entries(backup.manifest)}
    assert entries["data/voice_models"]["type"] == "symlink"
    assert not any(p.startswith("data/voice_models/") for p in entries), "a link was followed"

    # What a careless root session does to the live tree before the restore.
    for path in (bot.env_path, bot.root / "data" / "chat_history", bot.root / "data"):
        os.chown(path, 0, 0)
        os.chmod(path, 0o700)
    (bot.root / "data" / "voice_models").unlink()
    (bot.root / "data" / "cards").unlink()
    bot.set_env(LOG_LEVEL="DEBUG")

    restore(config, **QUIET)

    assert ownership(bot.root) == before
    assert (models / "voice.pth").read_bytes() == b"weights" * 1000, "the link target changed"


@needs_root
def test_an_old_manifest_gives_each_file_the_owner_of_the_one_it_replaces(
    bot: DeploymentBuilder, tmp_path: Path
) -> None:
    """Backups written before owners were recorded: the live file's owner and mode win."""
    give_to_the_bot_user(bot, tmp_path)
    config = config_of(bot.root)
    backup = create_backup(config)
    lines = backup.manifest.read_text().splitlines()
    stripped = []
    for line in lines:
        for key in (', "uid": 1234', ', "gid": 2345'):
            line = line.replace(key, "")
        stripped.append(line)
    backup.manifest.write_text("\n".join(stripped) + "\n")
    before = ownership(bot.root)
    restore(config, **QUIET)
    after = ownership(bot.root)
    assert after[".env"] == before[".env"]
    assert after["data/chat_history"] == before["data/chat_history"]
    assert after["prompts/characters/hal_9000.json"] == before["prompts/characters/hal_9000.json"]


def test_a_fifo_and_a_device_link_in_the_tree_are_named_never_opened(
    bot: DeploymentBuilder,
) -> None:
    healthy(bot)
    os.mkfifo(bot.root / "data" / "pipe")
    os.symlink("/dev/zero", bot.root / "data" / "zero.json")
    backup = create_backup(config_of(bot.root))
    trailer = backup.trailer()
    assert trailer["not_saved"] == ["data/pipe: a FIFO, not backed up"]
    assert trailer["links_outside"] == ["data/zero.json -> /dev/zero"]
    entries = {e["path"]: e for e in manifest_entries(backup.manifest)}
    assert entries["data/zero.json"] == {
        "type": "symlink",
        "path": "data/zero.json",
        "target": "/dev/zero",
        "outside": True,
        "uid": os.getuid(),
        "gid": os.getgid(),
    }
    assert "data/pipe" not in entries


def test_a_fifo_env_is_named_not_backed_up(bot: DeploymentBuilder) -> None:
    healthy(bot)
    bot.env_path.unlink()
    os.mkfifo(bot.env_path)
    trailer = create_backup(config_of(bot.root)).trailer()
    assert trailer["not_saved"] == [".env: a FIFO, not backed up"]
