"""recovery_tests/ run as an operator would (child process, real suite, JSON report):
each check fails on the fault it is for, passes once it is fixed, and never writes to
the deployment."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import timedelta

from acore_doctor.recovery.backup import create_backup
from acore_doctor.recovery.common import CRASH_ENV, stamp, utc_now
from tests.support.builder import DeploymentBuilder, tree_digest
from tests.support.recovery import config_of, healthy, make_db
from tests.support.runs import SUITE_ROOT, clean_env

CHECKS = "recovery_tests"


def test_enabled_without_backups_is_critical_and_the_drill_a_symptom(bot, run_suite) -> None:
    healthy(bot).set_env(STATE_BACKUP_ENABLED="true")
    result = run_suite(bot.root, CHECKS)
    assert result.code == 2, result.stdout + result.stderr
    recent = result.finding("test_backup_recent")
    assert recent["outcome"] == "failed" and "found none" in recent["message"]
    drill = result.finding("test_restore_drill")
    assert drill["outcome"] == "blocked" and drill["blocked_by"] == "backups"


def test_a_fresh_backup_passes_and_the_suite_writes_nothing(bot, run_suite) -> None:
    healthy(bot).set_env(STATE_BACKUP_ENABLED="true")
    # A WAL database nobody has open: reading it carelessly would create its -shm file.
    make_db(bot.root / "data" / "conversations.db", wal=True)
    create_backup(config_of(bot.root))
    assert not (bot.root / "data" / "conversations.db-shm").exists()
    before = tree_digest(bot.root)
    result = run_suite(bot.root, CHECKS)
    assert result.code == 0, result.stdout + result.stderr
    outcomes = {c["nodeid"].split("::")[1]: c["outcome"] for c in result.report["checks"]}
    assert outcomes["test_backup_recent"] == "passed"
    assert outcomes["test_restore_drill"] == "passed"
    assert outcomes["test_repair_dry_run_clean"] == "passed"
    assert outcomes["test_recovery_log_no_loop"] == "skipped"
    assert tree_digest(bot.root) == before, "the checks changed the deployment"


def test_drill_fails_on_a_damaged_backup_and_on_lost_records(bot, run_suite) -> None:
    healthy(bot)
    config = config_of(bot.root)
    backup = create_backup(config)
    with backup.archive.open("r+b") as handle:
        handle.seek(100)
        handle.write(b"\xff" * 8)
    result = run_suite(bot.root, f"{CHECKS}/test_backups.py::test_restore_drill")
    drill = result.finding("test_restore_drill")
    assert drill["outcome"] == "failed" and "sha256" in drill["message"]

    backup.archive.unlink()
    backup.manifest.unlink()
    create_backup(config)
    for i in range(10):
        bot.write_json(f"data/chat_history/{900 + i}.json", [{"role": "user", "content": "x"}])
    result = run_suite(bot.root, f"{CHECKS}/test_backups.py::test_restore_drill")
    drill = result.finding("test_restore_drill")
    assert drill["outcome"] == "failed"
    assert "data/chat_history" in drill["message"] and "live" in drill["message"]


def test_stale_backup_expired_backups_and_bad_settings(bot, run_suite) -> None:
    healthy(bot).set_env(
        STATE_BACKUP_ENABLED="true",
        RECOVERY_STATE_RETENTION="7",
        MAX_RECOVERY_ATTEMPTS="three",
        STATE_BACKUP_DIR="data/backups",
    )
    config = config_of(bot.root)
    for days in (40, 30):
        backup = create_backup(config)
        old = stamp(utc_now() - timedelta(days=days))
        for suffix in (".tar.gz", ".manifest.jsonl"):
            os.rename(
                config.backup_dir / f"{backup.id}{suffix}", config.backup_dir / f"{old}{suffix}"
            )
    result = run_suite(bot.root, f"{CHECKS}/test_backups.py")
    recent = result.finding("test_backup_recent")
    assert recent["outcome"] == "failed" and "h ago" in recent["message"]
    assert result.finding("test_retention_respected")["outcome"] == "failed"
    settings = result.finding("test_recovery_settings_valid")
    assert settings["outcome"] == "failed"
    assert "MAX_RECOVERY_ATTEMPTS='three'" in settings["message"]
    assert "inside data/" in settings["message"]


def test_a_recovery_loop_in_the_log_is_critical(bot, run_suite) -> None:
    healthy(bot).set_env(MAX_RECOVERY_ATTEMPTS="3", RECOVERY_COOLDOWN="300")
    log = bot.root / ".acore-doctor" / "recovery-attempts.jsonl"
    log.parent.mkdir()
    now = time.time()
    lines = [
        {
            "ts": now - 600 + i * 20,
            "strategy": "reconnect",
            "outcome": "backed_off",
            "pid": 1000 + i,
        }
        for i in range(8)
    ]
    log.write_text("".join(json.dumps(line) + "\n" for line in lines))
    result = run_suite(bot.root, f"{CHECKS}/test_auto_recovery.py")
    loop = result.finding("test_recovery_log_no_loop")
    assert result.code == 2 and loop["outcome"] == "failed"
    assert "8 'reconnect' attempts" in loop["message"]
    log.write_text("".join(json.dumps(line) + "\n" for line in lines[:3]))
    result = run_suite(bot.root, f"{CHECKS}/test_auto_recovery.py")
    assert result.finding("test_recovery_log_no_loop")["outcome"] == "passed"


def test_an_interrupted_restore_is_critical_until_resumed(bot, run_suite) -> None:
    healthy(bot)
    create_backup(config_of(bot.root))
    crashed = subprocess.run(
        [sys.executable, "-m", "acore_doctor.cli", "restore", f"--bot-dir={bot.root}"],
        cwd=SUITE_ROOT,
        env=clean_env(**{CRASH_ENV: "restore:moved-old:prompts"}),
        capture_output=True,
        text=True,
    )
    assert crashed.returncode != 0
    check = f"{CHECKS}/test_backups.py::test_no_interrupted_restore"
    assert run_suite(bot.root, check).finding("test_no_interrupted_restore")["outcome"] == "failed"
    resumed = subprocess.run(
        [sys.executable, "-m", "acore_doctor.cli", "restore", f"--bot-dir={bot.root}", "--resume"],
        cwd=SUITE_ROOT,
        env=clean_env(),
        capture_output=True,
        text=True,
    )
    assert "finished an interrupted restore" in resumed.stdout, resumed.stdout + resumed.stderr
    assert run_suite(bot.root, check).finding("test_no_interrupted_restore")["outcome"] == "passed"
    assert (bot.root / "prompts" / "default.txt").exists()


def test_recover_plans_then_applies_and_confirms(bot: DeploymentBuilder, run_suite) -> None:
    healthy(bot)
    bot.write("data/chat_history/31337.json", '[{"role": "user", "content": "tru')
    bot.write("data/rl/rl_policies.json.tmp", "{")
    os.utime(bot.root / "data/rl/rl_policies.json.tmp", (time.time() - 3600,) * 2)
    cmd = [
        sys.executable,
        "-m",
        "acore_doctor.cli",
        "recover",
        f"--bot-dir={bot.root}",
        "recovery_tests/test_repair.py",
        "health_tests/test_data.py",
    ]
    before = tree_digest(bot.root)
    plan = subprocess.run(cmd, cwd=SUITE_ROOT, env=clean_env(), capture_output=True, text=True)
    assert "repair damaged state" in plan.stdout, plan.stdout + plan.stderr
    assert "31337.json: move to quarantine" in plan.stdout
    assert "plan only: nothing changed" in plan.stdout
    assert tree_digest(bot.root) == before

    applied = subprocess.run(
        [*cmd, "--apply"], cwd=SUITE_ROOT, env=clean_env(), capture_output=True, text=True
    )
    out = applied.stdout
    assert "fixed: recovery_tests/test_repair.py::test_repair_dry_run_clean" in out, out
    assert "fixed: health_tests/test_data.py::test_state_files_parse" in out, out
    assert "still failing" not in out, out
    assert json.loads((bot.root / "data/chat_history/31337.json").read_text()) == []
