"""Backup and restore keep the deployment as it was: owners, groups, modes and symlinks.

Run as root (as most operators run restore), on a tree owned by another user: the bot that
runs as that user must find its files exactly as before the restore."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from acore_doctor.recovery.backup import create_backup, manifest_entries
from acore_doctor.recovery.common import remove_tree
from acore_doctor.recovery.restore import RestoreError, restore
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


def _disks(tmp_path: Path) -> list[Path]:
    """Where the linked data/ lives: the same filesystem, and another one when there is one."""
    disks = [tmp_path / "disk"]
    shm = Path("/dev/shm")
    if shm.is_dir() and os.access(shm, os.W_OK) and shm.stat().st_dev != tmp_path.stat().st_dev:
        disks.append(shm)
    return disks


@needs_root
@pytest.mark.parametrize("other_filesystem", [False, True], ids=["same-fs", "other-fs"])
def test_restore_through_a_symlinked_data_directory_keeps_the_link(
    bot: DeploymentBuilder, tmp_path: Path, other_filesystem: bool
) -> None:
    """data -> /mnt/disk/data: the restore writes into the disk, the link stays a link."""
    disks = _disks(tmp_path)
    if other_filesystem and len(disks) < 2:
        pytest.skip("no second filesystem (/dev/shm) to link data/ to")
    disk = disks[-1] / f"acore-disk-{os.getpid()}" if other_filesystem else disks[0]
    disk.mkdir(parents=True)
    try:
        give_to_the_bot_user(bot, tmp_path)
        real = disk / "data"
        if other_filesystem:
            shutil.copytree(bot.root / "data", real, symlinks=True)
            for path in [real, *real.rglob("*")]:
                os.lchown(path, BOT_UID, BOT_GID)
            os.chmod(real, 0o750)
            remove_tree(bot.root / "data")
        else:
            os.rename(bot.root / "data", real)
        os.symlink(real, bot.root / "data")
        os.lchown(bot.root / "data", BOT_UID, BOT_GID)
        link_before = os.lstat(bot.root / "data")
        real_before = os.stat(real)
        history = real / "chat_history" / "1431878519016915044.json"
        kept = history.read_bytes()
        config = config_of(bot.root)
        create_backup(config)

        history.write_text('[{"role": "user", "content": "after the backup"}]')
        os.chown(real, 0, 0)
        os.chmod(real, 0o700)
        (real / "new-after-backup.json").write_text("{}")

        restore(config, **QUIET)

        link_after = os.lstat(bot.root / "data")
        assert os.path.islink(bot.root / "data"), "the data/ symlink became a directory"
        assert os.readlink(bot.root / "data") == str(real)
        assert (link_after.st_uid, link_after.st_gid) == (link_before.st_uid, link_before.st_gid)
        real_after = os.stat(real)
        assert (real_after.st_uid, real_after.st_gid, oct(real_after.st_mode)) == (
            real_before.st_uid,
            real_before.st_gid,
            oct(real_before.st_mode),
        )
        assert history.read_bytes() == kept, "the disk's data was not restored"
        restored = os.stat(history)
        assert (restored.st_uid, restored.st_gid) == (BOT_UID, BOT_GID)
        assert not (real / "new-after-backup.json").exists()
        assert sorted(p.name for p in disk.iterdir()) == ["data"], "staging left on the disk"
    finally:
        if other_filesystem:
            remove_tree(disk)


@needs_root
def test_a_data_link_to_a_missing_disk_is_refused_and_left_alone(
    bot: DeploymentBuilder, tmp_path: Path
) -> None:
    config = config_of(bot.root)
    create_backup(config)
    real = tmp_path / "unmounted" / "data"
    os.rename(bot.root / "data", tmp_path / "elsewhere")
    os.symlink(real, bot.root / "data")
    with pytest.raises(RestoreError, match="not a directory"):
        restore(config, **QUIET)
    assert os.readlink(bot.root / "data") == str(real)
    assert not real.parent.exists(), "the restore wrote where the disk should be"
    assert not list(config.home.glob("restore-*")), "staging left behind"


@needs_root
def test_restore_through_a_symlinked_env_keeps_the_link(
    bot: DeploymentBuilder, tmp_path: Path
) -> None:
    give_to_the_bot_user(bot, tmp_path)
    etc = tmp_path / "etc"
    etc.mkdir()
    real = etc / "acore.env"
    os.rename(bot.env_path, real)
    os.symlink(real, bot.env_path)
    before = os.stat(real)
    kept = real.read_bytes()
    config = config_of(bot.root)
    create_backup(config)
    real.write_text("DISCORD_TOKEN=changed-after-the-backup\n")

    restore(config, **QUIET)

    assert os.readlink(bot.env_path) == str(real), "the .env symlink became a file"
    assert real.read_bytes() == kept
    after = os.stat(real)
    assert (after.st_uid, after.st_gid, after.st_mode) == (
        before.st_uid,
        before.st_gid,
        before.st_mode,
    )
    assert sorted(p.name for p in etc.iterdir()) == ["acore.env"], "staging left behind"
