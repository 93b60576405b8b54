"""A crash at every rename of a restore or a JSON repair (the hook
``acore_doctor.recovery.common.before_rename`` raises at the Nth one), then the next run:
the deployment ends wholly old or wholly new, and no file of the old state is lost (each is
live, in quarantine, or byte-for-byte in a backup). In-process but slow: e2e tier."""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from acore_doctor.deployment import load_deployment
from acore_doctor.recovery import common
from acore_doctor.recovery.backup import create_backup, list_backups, manifest_entries
from acore_doctor.recovery.repair import apply_repair
from acore_doctor.recovery.restore import finish_interrupted_restores, restore
from tests.support.builder import DeploymentBuilder
from tests.support.recovery import (
    change_everything,
    config_of,
    deployment_with_db,
    healthy,
    quarantined,
    sha,
    state_digest,
)

QUIET: Callable[[str], None] = lambda _line: None  # noqa: E731


class Crash(BaseException):
    """A kill: nothing in the tool catches it."""


@pytest.fixture
def crash_at() -> Iterator[Callable[[int], dict[str, int]]]:
    def arm(n: int) -> dict[str, int]:
        calls = {"n": 0}

        def hook(source: Path, target: Path) -> None:
            calls["n"] += 1
            if calls["n"] == n:
                raise Crash(f"rename {n}: {source} -> {target}")

        common.before_rename = hook
        return calls

    yield arm
    common.before_rename = None


def file_hashes(root: Path) -> set[str]:
    return {
        hashlib.sha256(p.read_bytes()).hexdigest()
        for p in root.rglob("*")
        if p.is_file() and not p.is_symlink()
    }


def backed_up_hashes(root: Path) -> set[str]:
    found = set()
    for backup in list_backups(config_of(root).backup_dir):
        found |= {e["sha256"] for e in manifest_entries(backup.manifest) if e.get("sha256")}
    return found


def old_state_files(root: Path) -> dict[str, str]:
    files = {".env": sha((root / ".env").read_bytes())}
    for top in ("data", "prompts"):
        for path in (root / top).rglob("*"):
            if path.is_file() and not path.is_symlink():
                files[path.relative_to(root).as_posix()] = sha(path.read_bytes())
    return files


def test_restore_crashed_at_every_rename_ends_old_or_new_and_loses_nothing(
    bot: DeploymentBuilder, tmp_path: Path, crash_at: Callable[[int], dict[str, int]]
) -> None:
    healthy(bot)
    deployment_with_db(bot)
    create_backup(config_of(bot.root))
    new = state_digest(bot.root)
    change_everything(bot)
    bot.write("data/conversations.db-wal", b"\x00" * 32)  # a side file: in no backup
    old = state_digest(bot.root)
    template = tmp_path / "template"
    shutil.copytree(bot.root, template, symlinks=True)
    before = old_state_files(template)

    crashed = 0
    for n in range(1, 200):
        root = tmp_path / f"run-{n}"
        shutil.copytree(template, root, symlinks=True)
        calls = crash_at(n)
        try:
            restore(config_of(root), say=QUIET)
        except Crash:
            crashed += 1
        else:
            assert state_digest(root) == new, "a restore that was not interrupted"
            assert calls["n"] == n - 1
            break
        finally:
            common.before_rename = None
        finish_interrupted_restores(config_of(root))  # what the next run does first
        after = state_digest(root)
        assert after in (old, new), f"crash at rename {n}: a mix of old and new state"
        kept = file_hashes(root) | backed_up_hashes(root)
        lost = [name for name, digest in before.items() if digest not in kept]
        assert not lost, f"crash at rename {n}: lost {lost}"
        assert not list((root / ".acore-doctor").glob("restore-*")), f"rename {n}: leftovers"
        shutil.rmtree(root)
    else:
        pytest.fail("the restore never finished")
    assert crashed >= 6, f"only {crashed} renames: the hook is not on the restore's path"


def test_json_repair_crashed_at_every_rename_then_rerun_keeps_every_message(
    bot: DeploymentBuilder, tmp_path: Path, crash_at: Callable[[int], dict[str, int]]
) -> None:
    healthy(bot)
    chat = "data/chat_history/1431878519016915044.json"
    history = [{"role": "user", "content": f"message {i}"} for i in range(30)]
    bot.write_json(chat, history[:20])
    create_backup(config_of(bot.root))
    data = json.dumps(history).encode()
    at = data.index(b"message 7")
    damaged = data[:at] + b"\xff" + data[at + 1 :]
    bot.write(chat, damaged)
    bot.write("data/rl/rl_policies.json.tmp", b'{"version": 1')
    template = tmp_path / "template"
    shutil.copytree(bot.root, template, symlinks=True)

    for n in range(1, 20):
        root = tmp_path / f"run-{n}"
        shutil.copytree(template, root, symlinks=True)
        crash_at(n)
        try:
            apply_repair(load_deployment(root), say=QUIET)
        except Crash:
            pass
        else:
            break
        finally:
            common.before_rename = None
        live = (root / chat).read_bytes()
        assert live in (damaged, (json.dumps(history) + "\n").encode()), f"rename {n}: a mix"
        report = apply_repair(load_deployment(root), say=QUIET)  # the next run
        assert not report.failed
        assert json.loads((root / chat).read_bytes()) == history, f"rename {n}"
        assert sha(damaged) in quarantined(root), f"rename {n}: the damaged original is gone"
        shutil.rmtree(root)
    else:
        pytest.fail("the repair never finished")
    assert n >= 3, "the hook is not on the repair's path"
