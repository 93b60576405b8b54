"""SQLite repair on real files with real damage: page-level salvage, backup + salvage merge,
honest counts and exit codes (issue 11, "SQLite repair")."""

from __future__ import annotations

import random
import shutil
import sqlite3
from pathlib import Path

import pytest

from acore_doctor.recovery.backup import create_backup
from acore_doctor.recovery.common import read_jsonl
from acore_doctor.recovery.salvage import cli_can_recover, describe, salvage_sqlite
from tests.support.builder import DeploymentBuilder
from tests.support.damage import (
    add_messages,
    destroy,
    make_store,
    rows_of,
    tree_of,
)
from tests.support.recovery import config_of, healthy, repair_cli

DB = "data/conversations.db"


# -- exit codes, through the CLI ------------------------------------------------------------------


def test_issue_scenario_backup_then_100_rows_then_2k_at_4096_keeps_everything(
    bot: DeploymentBuilder,
) -> None:
    healthy(bot)
    db = bot.root / DB
    make_store(db, rows=5000)
    create_backup(config_of(bot.root))
    conn = sqlite3.connect(db)
    add_messages(conn, 5000, 100)
    conn.close()
    everything = rows_of(db)
    with db.open("r+b") as handle:
        handle.seek(4096)
        handle.write(random.Random(11).randbytes(2048))
    proc = repair_cli(bot.root)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert rows_of(db) == everything
    assert "nothing known lost" in proc.stdout


def test_exit_1_when_rows_may_be_lost_and_2_when_nothing_valid_comes_out(
    bot: DeploymentBuilder,
) -> None:
    healthy(bot)
    db = bot.root / DB
    make_store(db, rows=3000)
    tree = tree_of(db)
    destroy(db, tree.leaves[5], tree.page_size)
    proc = repair_cli(bot.root)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "may be lost" in proc.stdout
    record = [r for r in read_jsonl(config_of(bot.root).audit_log) if r.get("outcome") == "done"]
    assert record and record[-1]["maybe_lost"] > 0

    garbage = bot.write("data/other.db", random.Random(3).randbytes(16384))
    before = garbage.read_bytes()
    proc = repair_cli(bot.root)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert garbage.read_bytes() == before, "the original stays in place, untouched"


@pytest.mark.asyncio
async def test_auto_recovery_does_not_call_a_lossy_repair_recovered(
    bot: DeploymentBuilder,
) -> None:
    from acore_doctor.recovery import AutoRecovery

    healthy(bot)
    db = bot.root / DB
    make_store(db, rows=3000)
    tree = tree_of(db)
    destroy(db, tree.leaves[3], tree.page_size)

    async def no_sleep(_seconds: float) -> None:
        return None

    recovery = AutoRecovery(bot.root, sleep=no_sleep, environ={})
    result = await recovery.attempt_recovery(
        sqlite3.DatabaseError("database disk image is malformed")
    )
    assert result.outcome != "recovered", result.detail
    assert "may be lost" in result.detail


def test_the_path_that_ran_is_named(tmp_path: Path) -> None:
    """.recover is used when the host's sqlite3 can run it, and the result says which path
    ran; either way every row on intact pages comes back."""
    db = tmp_path / "conversations.db"
    make_store(db, rows=2000)
    rows = rows_of(db)
    tree = tree_of(db)
    destroy(db, tree.root, tree.page_size)
    result = salvage_sqlite(db, tmp_path / "out.db", use_cli=None)
    assert result.ok and rows_of(tmp_path / "out.db") == rows
    cli = shutil.which("sqlite3")
    if cli and cli_can_recover(cli):
        assert result.method in ("sqlite3 .recover", "page reader")
    else:
        assert result.method == "page reader"
        assert any(".recover" in p or "sqlite3 CLI" in p for p in result.problems)
    assert f"path: {result.method}" in next(describe(result))


def test_the_recover_remediation_reports_possible_losses(bot: DeploymentBuilder) -> None:
    """`recover --apply` runs the same repair: its result carries the estimate, and recover
    exits at least 1 on it (commands/recover.py)."""
    from acore_doctor.deployment import load_deployment
    from acore_doctor.recovery.remediations import match

    healthy(bot)
    db = bot.root / DB
    make_store(db, rows=3000)
    tree = tree_of(db)
    destroy(db, tree.leaves[4], tree.page_size)
    [(remediation, _checks)], _ = match(
        ["health_tests/test_databases.py::test_databases_undamaged"]
    )
    done = remediation.apply(load_deployment(bot.root), config_of(bot.root), lambda _l: None)
    assert getattr(done, "maybe_lost", 0) > 0 and "may be lost" in done


def test_rows_deleted_since_the_backup_stay_deleted_through_the_cli(
    bot: DeploymentBuilder,
) -> None:
    """Issue 19: 'forget my messages' reverted by a repair. With a backup, rows deleted since
    it outside the damaged page stay deleted; what came back from the backup is said."""
    healthy(bot)
    db = bot.root / DB
    make_store(db, rows=5000)
    create_backup(config_of(bot.root))
    conn = sqlite3.connect(db)
    conn.execute("DELETE FROM messages WHERE id BETWEEN 1000 AND 1400")  # forget my messages
    conn.commit()
    conn.close()
    everything = rows_of(db)
    tree = tree_of(db)
    far_leaf = next(p for r, p in sorted(tree.rowid_page.items()) if r > 4000)
    destroy(db, far_leaf, tree.page_size)
    proc = repair_cli(bot.root)
    got = rows_of(db)
    assert not any(1000 <= r <= 1400 for r in got), "deleted rows came back"
    assert got == everything, "the destroyed leaf's rows come back from the backup"
    # They were in the backup, inside the damaged range: said, and not exit 0.
    assert proc.returncode == 1 and "restored from backup" in proc.stdout, proc.stdout
