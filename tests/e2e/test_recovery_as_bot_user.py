"""``backup`` and ``restore`` run as the bot's own (unprivileged) user on a deployment holding
files that user cannot read: the backup says so loudly (exit 2), the restore refuses that
incomplete backup, and restoring an older one loses nothing (the unreadable files end up in
quarantine, not deleted)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from acore_doctor.recovery.backup import list_backups, manifest_entries
from acore_doctor.recovery.restore import RestoreError, restore
from tests.support.builder import DeploymentBuilder
from tests.support.recovery import config_of, healthy
from tests.support.runs import SUITE_ROOT

NOBODY = 65534
SYSTEM_PYTHON = Path("/usr/bin/python3")


def _system_python_matches() -> bool:
    if not SYSTEM_PYTHON.exists():
        return False
    probe = subprocess.run(
        [str(SYSTEM_PYTHON), "-c", "import sys; print(sys.version_info[:2])"],
        capture_output=True,
        text=True,
    )
    return probe.stdout.strip() == str(sys.version_info[:2])


pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0, reason="acting as another user needs root"),
    pytest.mark.skipif(
        not _system_python_matches(),
        reason="no /usr/bin/python3 of this Python version for the bot's user to run us with",
    ),
]


@pytest.fixture
def bot() -> Iterator[DeploymentBuilder]:
    """A deployment the unprivileged user can reach (pytest's tmp dirs are 0700 root)."""
    with tempfile.TemporaryDirectory(prefix="acore-as-bot-") as tmp:
        os.chmod(tmp, 0o755)
        builder = healthy(DeploymentBuilder(Path(tmp) / "acore_bot"))
        for dirpath, dirnames, filenames in os.walk(builder.root):
            for name in [*dirnames, *filenames, ""]:
                os.lchown(Path(dirpath) / name, NOBODY, NOBODY)
        yield builder


def as_the_bot(*args: str) -> subprocess.CompletedProcess[str]:
    paths = [str(SUITE_ROOT), sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]]
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": os.pathsep.join(paths), "HOME": "/tmp"}
    return subprocess.run(
        [str(SYSTEM_PYTHON), "-m", "acore_doctor.cli", *args],
        user=NOBODY, group=NOBODY, extra_groups=[], env=env, cwd="/",
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip


def test_unreadable_files_are_never_lost_by_backup_or_restore(bot: DeploymentBuilder) -> None:
    root = bot.root
    first = as_the_bot("backup", f"--bot-dir={root}")
    assert first.returncode == 0, first.stdout + first.stderr
    # Root leaves a file and a directory in data/ that the bot's user cannot read.
    secret = bot.write("data/chat_history/666.json", '[{"role": "user", "content": "keep me"}]')
    os.chmod(secret, 0o600)  # root's, 0600
    private = root / "data" / "private"
    private.mkdir(mode=0o700)
    (private / "notes.json").write_text('{"kept": true}')

    second = as_the_bot("backup", f"--bot-dir={root}")
    assert second.returncode == 2, second.stdout + second.stderr
    assert "data/chat_history/666.json" in second.stdout and "data/private/" in second.stdout
    assert "NOT in this backup" in second.stdout
    config = config_of(root)
    newest = list_backups(config.backup_dir)[-1]
    not_read = [e for e in _lines(newest.manifest) if e.get("type") == "not_read"]
    assert {e["path"] for e in not_read} == {"data/chat_history/666.json", "data/private/"}

    with pytest.raises(RestoreError, match="could not be read at backup time"):
        restore(config, say=lambda _line: None)  # the newest backup is incomplete
    assert secret.exists() and (private / "notes.json").exists(), "a refusal changes nothing"

    # --force: other tests' python processes, whose scripts the bot's user cannot read, could
    # be this bot as far as the running-bot check can tell.
    oldest = list_backups(config.backup_dir)[0]
    done = as_the_bot("restore", f"--bot-dir={root}", f"--at={oldest.id}", "--force")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "moved to" in done.stdout and ".quarantine" in done.stdout
    kept = {p.name: p for p in (root / "data" / ".quarantine").rglob("*")}
    assert kept["666.json"].read_text() == '[{"role": "user", "content": "keep me"}]'
    assert (kept["private"] / "notes.json").read_text() == '{"kept": true}'
    assert not list((root / ".acore-doctor").glob("restore-*")), "the restore finished"

    again = as_the_bot("restore", f"--bot-dir={root}", "--force")
    # Without --at the pre-restore snapshot is never picked: the second restore takes the
    # same incomplete backup as before (forced), not the state the first restore replaced.
    assert f"backup {newest.id}" in again.stdout, again.stdout + again.stderr


def _lines(manifest: Path) -> list[dict]:
    found = list(manifest_entries(manifest))
    with manifest.open() as handle:
        found += [json.loads(line) for line in handle if '"not_read"' in line]
    return [e for e in found if isinstance(e, dict)]
