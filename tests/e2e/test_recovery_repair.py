"""acore-doctor repair on broken throw-away deployments: every record ends up back in place
or in quarantine, originals preserved, the audit log complete — also after a kill."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from acore_doctor.deployment import load_deployment
from acore_doctor.recovery.backup import create_backup
from acore_doctor.recovery.common import CRASH_ENV, CRASH_EXIT_CODE, read_jsonl
from acore_doctor.recovery.repair import (
    apply_repair,
    plan_repair,
)
from tests.support.builder import DeploymentBuilder, tree_digest
from tests.support.recovery import (
    audit_is_complete,
    config_of,
    db_rows,
    healthy,
    make_db,
    quarantined,
    sha,
)
from tests.support.runs import SUITE_ROOT, clean_env

CHAT = "data/chat_history/1431878519016915044.json"
QUIET = {"say": lambda _line: None}


@pytest.fixture
def bot(bot: DeploymentBuilder) -> DeploymentBuilder:
    return healthy(bot)


def test_dry_run_changes_nothing_and_lists_every_problem(bot: DeploymentBuilder) -> None:
    bot.write(CHAT, '[{"role": "user", "content": "hal')
    bot.write("data/rl/rl_policies.json.tmp", '{"version": 1, "ag')
    bot.remove("data/temp")
    make_db(bot.root / "data" / "conversations.db")
    with (bot.root / "data" / "conversations.db").open("r+b") as handle:
        handle.write(os.urandom(100))
    before = tree_digest(bot.root)
    proc = subprocess.run(
        [sys.executable, "-m", "acore_doctor.cli", "repair", f"--bot-dir={bot.root}"],
        cwd=SUITE_ROOT,
        env=clean_env(),
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    for expected in (
        "data/temp: create",
        "rl_policies.json.tmp: move",
        f"{CHAT}: move",
        "conversations.db: rebuild",
        "dry run: nothing changed",
    ):
        assert expected in proc.stdout
    assert tree_digest(bot.root) == before


@pytest.mark.parametrize("use_cli", [None, False], ids=["auto", "page-reader"])
def test_truncated_database_is_salvaged_and_the_original_kept(
    bot: DeploymentBuilder, use_cli: bool | None
) -> None:
    db = bot.root / "data" / "conversations.db"
    original_rows = make_db(db, rows=5000)
    size = db.stat().st_size
    with db.open("r+b") as handle:
        handle.truncate(size // 2)
    truncated = db.read_bytes()

    actions = plan_repair(load_deployment(bot.root))
    assert [a.kind for a in actions] == ["salvage-sqlite"]
    report = apply_repair(load_deployment(bot.root), use_sqlite_cli=use_cli, **QUIET)
    assert not report.failed, report.outcomes

    salvaged = db_rows(db)
    assert len(salvaged) >= len(original_rows) * 0.3, "a half-truncated file keeps rows"
    assert set(salvaged) <= set(original_rows), "salvage never invents rows"
    assert sha(truncated) in quarantined(bot.root), "the damaged original is kept byte for byte"
    assert plan_repair(load_deployment(bot.root)) == []
    audit_is_complete(read_jsonl(config_of(bot.root).audit_log))


DRIVER = """
import sys
from pathlib import Path
from acore_doctor.deployment import load_deployment
from acore_doctor.recovery.repair import apply_repair
apply_repair(load_deployment(Path(sys.argv[1])), say=lambda _l: None, use_sqlite_cli=False)
"""


def break_everything(bot: DeploymentBuilder) -> dict[str, bytes]:
    make_db(bot.root / "data" / "conversations.db", rows=2000)
    create_backup(config_of(bot.root))
    damage = {
        CHAT: b'[{"role": "user", "content": "cut',
        "data/chat_history/999.json": b"{{{{",
        "data/rl/bandit_states.json.tmp": b'{"version": 1',
    }
    for path, data in damage.items():
        bot.write(path, data)
    db = bot.root / "data" / "conversations.db"
    with db.open("r+b") as handle:
        handle.write(b"\x00" * 100)
    damage["data/conversations.db"] = db.read_bytes()
    bot.remove("data/temp")
    return damage


def test_killed_at_every_step_of_a_repair_nothing_is_lost(
    bot: DeploymentBuilder, tmp_path: Path
) -> None:
    damage = break_everything(bot)
    good_rows = db_rows_of_backup(bot)
    template = tmp_path / "template"
    shutil.copytree(bot.root, template, symlinks=True)
    crashes = 0
    for step in range(1, 80):
        root = tmp_path / f"run-{step}"
        shutil.copytree(template, root, symlinks=True)
        proc = subprocess.run(
            [sys.executable, "-c", DRIVER, str(root)],
            cwd=SUITE_ROOT,
            env=clean_env(**{CRASH_ENV: str(step)}),
            capture_output=True,
            text=True,
        )
        finished = proc.returncode == 0
        if not finished:
            assert proc.returncode == CRASH_EXIT_CODE, proc.stderr
            crashes += 1
            # Whatever the kill left: every damaged original is still in place or in quarantine.
            kept = quarantined(root)
            for path, data in damage.items():
                live = root / path
                assert (live.exists() and live.read_bytes() == data) or sha(data) in kept, (
                    f"step {step}: {path} lost"
                )
            apply_repair(load_deployment(root), use_sqlite_cli=False, **QUIET)
        kept = quarantined(root)
        for path, data in damage.items():
            assert sha(data) in kept, f"step {step}: original of {path} not in quarantine"
        assert plan_repair(load_deployment(root)) == [], f"step {step}: repair incomplete"
        assert db_rows(root / "data/conversations.db") == good_rows
        audit_is_complete(read_jsonl(config_of(root).audit_log))
        shutil.rmtree(root)
        if finished:
            break
    else:
        pytest.fail("repair never completed without a crash point")
    assert crashes >= 10, f"only {crashes} crash points exercised"


def db_rows_of_backup(bot: DeploymentBuilder) -> list[tuple]:
    """The rows the damaged database held (its header is gone, its pages are not)."""
    scratch = bot.root.parent / "scratch"
    scratch.mkdir()
    from acore_doctor.recovery.salvage import salvage_sqlite

    result = salvage_sqlite(bot.root / "data/conversations.db", scratch / "rows.db", use_cli=False)
    assert result.ok
    return db_rows(scratch / "rows.db")


@pytest.mark.parametrize("use_cli", [None, False], ids=["auto", "page-reader"])
def test_garbage_headed_database_gets_every_row_back(
    bot: DeploymentBuilder, use_cli: bool | None
) -> None:
    db = bot.root / "data" / "conversations.db"
    original_rows = make_db(db, rows=3000, wal=True)
    (bot.root / "data" / "conversations.db-wal").write_bytes(b"stale wal " * 10)
    with db.open("r+b") as handle:
        handle.write(b"\xde\xad\xbe\xef" * 25)
    damaged = db.read_bytes()
    apply_repair(load_deployment(bot.root), use_sqlite_cli=use_cli, **QUIET)
    assert db_rows(db) == original_rows
    kept = quarantined(bot.root)
    assert sha(damaged) in kept
    assert sha(b"stale wal " * 10) in kept, "a stale WAL goes with its database"
    assert not (bot.root / "data" / "conversations.db-wal").exists()


def test_a_failed_salvage_leaves_the_original_in_place(bot: DeploymentBuilder) -> None:
    db = bot.write("data/conversations.db", os.urandom(8192))
    before = db.read_bytes()
    report = apply_repair(load_deployment(bot.root), **QUIET)
    assert [o["outcome"] for o in report.outcomes] == ["failed"]
    assert db.read_bytes() == before
    audit_is_complete(read_jsonl(config_of(bot.root).audit_log))
