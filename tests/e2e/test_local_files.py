"""Files, permissions, state files and the read-only contract of the local checks."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from acore_doctor.demo import make_bot_venv, start_standin_bot, stop_standin_bot
from acore_doctor.probes.files import PROBE_PREFIX
from tests.support.builder import DeploymentBuilder, tree_digest
from tests.support.local_suite import RELAXED, make_conversations_db, run_checks


def test_suite_leaves_the_deployment_byte_identical(bot: DeploymentBuilder, tmp_path: Path) -> None:
    make_conversations_db(bot.root / "data" / "conversations.db")
    wal = sqlite3.connect(bot.root / "data" / "bot.db")
    wal.execute("PRAGMA journal_mode=wal")
    wal.execute("CREATE TABLE notes(id INTEGER PRIMARY KEY, body TEXT)")
    wal.commit()
    wal.close()
    make_bot_venv(bot.root / ".venv")
    (bot.root / "prompts/characters/broken.json").write_text("{")
    before = tree_digest(bot.root)
    standin = start_standin_bot(bot.root, python=str(bot.root / ".venv/bin/python"))
    try:
        # files=(): the whole suite, health and recovery checks
        run = run_checks(bot.root, tmp_path / "reports", *RELAXED, "--deep", files=())
    finally:
        stop_standin_bot(standin)
    assert run.code in (1, 2), run.stdout[-2000:]
    assert run.finding("test_bot_dirs_writable")["outcome"] == "passed"
    assert tree_digest(bot.root) == before
    assert not list(bot.root.rglob(f"{PROBE_PREFIX}*"))


def test_bot_user_comes_from_the_process(bot: DeploymentBuilder, tmp_path: Path) -> None:
    standin = start_standin_bot(bot.root)
    try:
        run = run_checks(bot.root, tmp_path / "r", *RELAXED, files=("health_tests/test_files.py",))
    finally:
        stop_standin_bot(standin)
    details = run.finding("test_bot_dirs_writable")["details"]
    assert f"process {standin.pid}" in details
