"""Hostile files where the suite and the tools expect regular ones: a FIFO (opening it blocks
for ever), a symlink to /dev/zero (reading it never ends). Each gives a clear finding and the
run finishes; a backup of a tree holding them finishes too."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.support.builder import DeploymentBuilder
from tests.support.local_suite import RELAXED, make_healthy, run_checks
from tests.support.runs import SUITE_ROOT, clean_env

CHAT = "data/chat_history/1431878519016915044.json"
CARD = "prompts/characters/hal_9000.json"


def messages(run) -> str:
    return " | ".join(
        f"{c['nodeid']}: {c.get('message', '')}"
        for c in run.report["checks"]
        if c["outcome"] not in ("passed", "skipped")
    )


def test_fifo_env_is_a_finding_and_the_run_finishes(bot: DeploymentBuilder, tmp_path) -> None:
    make_healthy(bot)
    bot.env_path.unlink()
    os.mkfifo(bot.env_path)
    run = run_checks(bot.root, tmp_path / "reports", *RELAXED, timeout=240)
    assert run.code in (1, 2), run.stdout[-3000:] + run.stderr[-2000:]
    assert ".env is a FIFO, not a file" in messages(run), messages(run)


def test_fifo_card_and_dev_zero_state_are_findings(bot: DeploymentBuilder, tmp_path) -> None:
    make_healthy(bot)
    bot.remove(CARD)
    os.mkfifo(bot.root / CARD)
    bot.remove(CHAT)
    os.symlink("/dev/zero", bot.root / CHAT)
    os.symlink("/dev/zero", bot.root / "data/zero.db")
    run = run_checks(bot.root, tmp_path / "reports", *RELAXED, timeout=240)
    assert run.code in (1, 2), run.stdout[-3000:] + run.stderr[-2000:]
    found = messages(run)
    assert "hal_9000.json is a FIFO, not a file" in found, found
    assert "1431878519016915044.json is a symlink to a character device, not a file" in found, found
    assert "zero.db is a symlink to a character device, not a file" in found, found


def test_backup_of_a_tree_with_a_fifo_and_a_device_link_finishes(bot: DeploymentBuilder) -> None:
    os.mkfifo(bot.root / "data/pipe")
    os.symlink("/dev/zero", bot.root / "data/zero.json")
    proc = subprocess.run(
        [sys.executable, "-m", "acore_doctor.cli", "backup", f"--bot-dir={bot.root}"],
        cwd=SUITE_ROOT,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode in (0, 1), proc.stdout + proc.stderr
    assert "data/pipe: a FIFO, not backed up" in proc.stdout, proc.stdout
