"""acore-doctor restore: verified, staged, swapped in; killed at any step the deployment
ends wholly old or wholly new."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from acore_doctor.recovery.backup import create_backup, list_backups
from acore_doctor.recovery.common import CRASH_ENV, CRASH_EXIT_CODE
from acore_doctor.recovery.restore import (
    finish_interrupted_restores,
    pending_restores,
)
from tests.support.builder import DeploymentBuilder
from tests.support.recovery import (
    change_everything,
    config_of,
    db_rows,
    deployment_with_db,
    healthy,
    state_digest,
)
from tests.support.runs import SUITE_ROOT, clean_env


@pytest.fixture
def bot(bot: DeploymentBuilder) -> DeploymentBuilder:
    return healthy(bot)


def test_dry_run_changes_nothing(bot: DeploymentBuilder) -> None:
    deployment_with_db(bot)
    config = config_of(bot.root)
    create_backup(config)
    change_everything(bot)
    before = state_digest(bot.root)
    backups_before = sorted(p.name for p in config.backup_dir.iterdir())
    proc = subprocess.run(
        [sys.executable, "-m", "acore_doctor.cli", "restore", f"--bot-dir={bot.root}", "--dry-run"],
        cwd=SUITE_ROOT,
        env=clean_env(),
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "dry run: nothing changed" in proc.stdout
    assert "live has more than the backup: data/chat_history" in proc.stdout
    assert state_digest(bot.root) == before
    assert sorted(p.name for p in config.backup_dir.iterdir()) == backups_before


DRIVER = """
import sys
from pathlib import Path
from acore_doctor.deployment import load_deployment
from acore_doctor.recovery.common import recovery_config
from acore_doctor.recovery.restore import restore
restore(recovery_config(load_deployment(Path(sys.argv[1]))), say=lambda _l: None)
"""


def test_killed_at_every_step_the_deployment_is_wholly_old_or_wholly_new(
    bot: DeploymentBuilder, tmp_path: Path
) -> None:
    deployment_with_db(bot)
    config = config_of(bot.root)
    create_backup(config)
    new = state_digest(bot.root)
    change_everything(bot)
    old = state_digest(bot.root)
    template = tmp_path / "template"
    shutil.copytree(bot.root, template, symlinks=True)

    outcomes = []
    for step in range(1, 60):
        root = tmp_path / f"run-{step}"
        shutil.copytree(template, root, symlinks=True)
        proc = subprocess.run(
            [sys.executable, "-c", DRIVER, str(root)],
            cwd=SUITE_ROOT,
            env=clean_env(**{CRASH_ENV: str(step)}),
            capture_output=True,
            text=True,
        )
        if proc.returncode == 0:
            assert state_digest(root) == new
            break
        assert proc.returncode == CRASH_EXIT_CODE, proc.stderr
        run_config = config_of(root)
        pending = bool(pending_restores(run_config))
        if not pending:
            # Before the commit point nothing live was touched.
            assert state_digest(root) == old, f"step {step}: live changed before the commit"
        finish_interrupted_restores(run_config)
        after = state_digest(root)
        assert after in (old, new), f"killed at step {step}: a mix of old and new state"
        if after == new:
            pre = [b for b in list_backups(run_config.backup_dir) if b.label == "pre-restore"]
            assert len(pre) == 1, f"step {step}: the replaced state must be kept as a backup"
            rows = db_rows(root / "data/conversations.db")
            assert len(rows) == 2000
        assert not list((root / ".acore-doctor").glob("restore-*")), f"step {step}: leftovers"
        assert not list(root.glob(".env.*")), f"step {step}: a staged .env was left behind"
        outcomes.append("new" if after == new else "old")
        shutil.rmtree(root)
    else:
        pytest.fail("restore never completed without a crash point")
    assert "old" in outcomes and "new" in outcomes
    assert len(outcomes) >= 8, f"only {len(outcomes)} crash points exercised"


def test_restore_and_repair_refuse_while_the_bot_runs(bot: DeploymentBuilder) -> None:
    config = config_of(bot.root)
    create_backup(config)
    bot.write("data/chat_history/5.json", "[")
    before = state_digest(bot.root)
    stand_in = subprocess.Popen([sys.executable, "main.py"], cwd=bot.root)
    try:
        cli = [sys.executable, "-m", "acore_doctor.cli"]
        for args, code in ((["restore"], 2), (["repair", "--apply"], 3)):
            proc = subprocess.run(
                [*cli, *args, f"--bot-dir={bot.root}"],
                cwd=SUITE_ROOT,
                env=clean_env(),
                capture_output=True,
                text=True,
            )
            assert proc.returncode == code, proc.stdout + proc.stderr
            assert f"the bot is running from {bot.root} (pid {stand_in.pid}:" in proc.stdout
        assert state_digest(bot.root) == before
        forced = subprocess.run(
            [*cli, "repair", "--apply", "--force", f"--bot-dir={bot.root}"],
            cwd=SUITE_ROOT,
            env=clean_env(),
            capture_output=True,
            text=True,
        )
        # "[" is a history cut off by a non-atomic write: what followed may be lost (exit 1).
        assert forced.returncode == 1, forced.stdout + forced.stderr
        assert "1 record(s) may be lost" in forced.stdout
        assert (bot.root / "data/chat_history/5.json").read_text().strip() == "[]"
    finally:
        stand_in.kill()
        stand_in.wait()


def test_a_backup_of_a_corrupt_database_is_refused_unless_forced(bot: DeploymentBuilder) -> None:
    bot.write("data/vectors.sqlite3", b"SQLite format 3\x00" + b"\x07" * 8000)
    config = config_of(bot.root)
    create_backup(config)
    bot.write("data/chat_history/9.json", "[]")
    before = state_digest(bot.root)
    cli = [sys.executable, "-m", "acore_doctor.cli", "restore", f"--bot-dir={bot.root}"]
    refused = subprocess.run(cli, cwd=SUITE_ROOT, env=clean_env(), capture_output=True, text=True)
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert "data/vectors.sqlite3: the database was invalid when backed up" in refused.stdout
    assert "passes quick_check" not in refused.stdout
    assert state_digest(bot.root) == before
    forced = subprocess.run(
        [*cli, "--force"], cwd=SUITE_ROOT, env=clean_env(), capture_output=True, text=True
    )
    assert forced.returncode == 0, forced.stdout + forced.stderr
    assert "restored anyway: --force" in forced.stdout
    assert "passes quick_check" not in forced.stdout
