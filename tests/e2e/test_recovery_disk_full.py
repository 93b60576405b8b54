"""Disk full and read-only filesystems in ``backup`` and ``restore``: exit 2 with the real
cause, nothing changed and nothing left behind. Real mounts (a small tmpfs, a read-only
bind mount); skipped, saying why, where this machine cannot mount."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from acore_doctor.recovery.backup import create_backup
from tests.support.builder import DeploymentBuilder
from tests.support.recovery import config_of, healthy, state_digest
from tests.support.runs import SUITE_ROOT, clean_env

Mount = Callable[..., Path]


@pytest.fixture
def mount(tmp_path: Path) -> Iterator[Mount]:
    """mount(kind, where, size=..., source=...): a tmpfs or a read-only bind mount, undone
    after the test."""
    if os.geteuid() != 0:
        pytest.skip("mounting needs root")
    done: list[Path] = []

    def make(kind: str, where: Path, size: str = "4m", source: Path | None = None) -> Path:
        where.mkdir(parents=True, exist_ok=True)
        if kind == "tmpfs":
            cmds = [["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)]]
        else:
            cmds = [
                ["mount", "--bind", str(source), str(where)],
                ["mount", "-o", "remount,bind,ro", str(where)],
            ]
        for cmd in cmds:
            proc = subprocess.run(cmd, capture_output=True, text=True)
            if proc.returncode != 0:
                if done or cmd is not cmds[0]:
                    subprocess.run(["umount", str(where)], capture_output=True)
                pytest.skip(f"cannot mount here ({' '.join(cmd)}: {proc.stderr.strip()})")
            if cmd is cmds[0]:
                done.append(where)
        return where

    yield make
    for where in reversed(done):
        subprocess.run(["umount", "-l", str(where)], capture_output=True)


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "acore_doctor.cli", *args],
        cwd=SUITE_ROOT,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )


def big_state(bot: DeploymentBuilder, megabytes: int = 6) -> None:
    """Incompressible state, so the archive is as large as the data."""
    bot.write("data/voice_cache/blob.bin", os.urandom(megabytes * 2**20))


def test_backup_onto_a_full_disk_exits_2_with_the_cause_and_leaves_nothing(
    bot: DeploymentBuilder, tmp_path: Path, mount: Mount
) -> None:
    healthy(bot)
    big_state(bot)
    target = mount("tmpfs", tmp_path / "small-disk", size="2m")
    before = state_digest(bot.root)
    proc = cli("backup", f"--bot-dir={bot.root}", f"--backup-dir={target}")
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "no space left on device: needs up to" in proc.stdout
    assert f"in {target}" in proc.stdout
    assert "Traceback" not in proc.stdout + proc.stderr
    assert [p.name for p in target.iterdir()] == [], "partial files left on the full disk"
    assert state_digest(bot.root) == before


def test_backup_onto_a_read_only_filesystem_exits_2_with_the_cause(
    bot: DeploymentBuilder, tmp_path: Path, mount: Mount
) -> None:
    healthy(bot)
    source = tmp_path / "backups-rw"
    source.mkdir()
    target = mount("ro-bind", tmp_path / "backups-ro", source=source)
    proc = cli("backup", f"--bot-dir={bot.root}", f"--backup-dir={target}")
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "read-only file system: cannot write" in proc.stdout
    assert list(source.iterdir()) == []


def test_restore_without_room_for_its_staging_exits_2_and_changes_nothing(
    tmp_path: Path, mount: Mount
) -> None:
    disk = mount("tmpfs", tmp_path / "bot-disk", size="10m")
    bot = healthy(DeploymentBuilder(disk / "acore_bot"))
    backups = tmp_path / "backups"
    big_state(bot, megabytes=6)
    config = config_of(bot.root)
    create_backup(config.__class__(**{**config.__dict__, "backup_dir": backups}))
    before = state_digest(bot.root)
    for dry_run in ([], ["--dry-run"]):
        proc = cli("restore", f"--bot-dir={bot.root}", f"--backup-dir={backups}", *dry_run)
        assert proc.returncode == 2, proc.stdout + proc.stderr
        assert "no space left on device: needs up to" in proc.stdout
        assert "free" in proc.stdout and "Traceback" not in proc.stdout + proc.stderr
        assert state_digest(bot.root) == before
        assert not list((bot.root / ".acore-doctor").glob("restore-*"))


def test_restore_on_a_read_only_deployment_exits_2_and_changes_nothing(
    bot: DeploymentBuilder, tmp_path: Path, mount: Mount
) -> None:
    healthy(bot)
    backups = tmp_path / "backups"
    config = config_of(bot.root)
    create_backup(config.__class__(**{**config.__dict__, "backup_dir": backups}))
    shutil.rmtree(bot.root / ".acore-doctor", ignore_errors=True)
    before = state_digest(bot.root)
    readonly = mount("ro-bind", tmp_path / "ro", source=bot.root)
    proc = cli("restore", f"--bot-dir={readonly}", f"--backup-dir={backups}")
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "read-only file system: cannot write" in proc.stdout, proc.stdout
    assert state_digest(bot.root) == before
