"""Long tools draw a progress line with the share done and the time left on a real terminal
(a pty), and write none at all to a pipe. ``ACORE_DOCTOR_PROGRESS_AFTER=0`` draws from the
start, so the test does not have to make work that lasts two seconds."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest

from acore_doctor.progress import SHOW_AFTER_ENV
from acore_doctor.recovery.backup import create_backup
from tests.support.builder import DeploymentBuilder
from tests.support.loggen import realistic_mix
from tests.support.recovery import config_of, healthy
from tests.support.runs import SUITE_ROOT, clean_env

CLI = [sys.executable, "-m", "acore_doctor.cli"]


def on_a_terminal(args: list[str], timeout: float = 120) -> tuple[int, str]:
    """Run the CLI with stdin, stdout and stderr on a new pty; everything it drew."""
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [*CLI, *args],
        stdin=slave, stdout=slave, stderr=slave, cwd=SUITE_ROOT,
        env=clean_env(**{SHOW_AFTER_ENV: "0", "COLUMNS": "200"}),
    )  # fmt: skip
    os.close(slave)
    chunks = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.2)
        if ready:
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not data:
                break
            chunks.append(data)
        elif proc.poll() is not None:
            break
    os.close(master)
    code = proc.wait(timeout=30)
    return code, b"".join(chunks).decode("utf-8", "replace")


def on_a_pipe(args: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, *args],
        cwd=SUITE_ROOT,
        env=clean_env(**{SHOW_AFTER_ENV: "0"}),
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def bot(bot: DeploymentBuilder) -> DeploymentBuilder:
    healthy(bot)
    for i in range(200):
        bot.write_json(
            f"data/chat_history/{1000 + i}.json",
            [{"role": "user", "content": f"message {n} " + "x" * 200} for n in range(50)],
        )
    return bot


def drawn(output: str, verb: str) -> list[str]:
    """The progress lines drawn for ``verb`` (each starts with a carriage return)."""
    return [part.strip() for part in output.split("\r") if part.strip().startswith(f"{verb}:")]


def test_backup_and_restore_dry_run_show_share_and_eta_on_a_terminal(
    bot: DeploymentBuilder,
) -> None:
    code, output = on_a_terminal(["backup", f"--bot-dir={bot.root}"])
    assert code == 0, output
    lines = drawn(output, "backing up")
    assert lines and all("%, ETA " in line for line in lines), output
    assert "MiB/s" in lines[-1]
    code, output = on_a_terminal(["restore", f"--bot-dir={bot.root}", "--dry-run"])
    assert code == 0, output
    staged = drawn(output, "verifying and staging")
    assert staged and "%, ETA " in staged[-1], output
    assert "dry run: nothing changed" in output
    code, output = on_a_terminal(["restore", f"--bot-dir={bot.root}", "--force"])
    assert code == 0, output
    for phase in ("verifying and staging", "saving the live state", "checking the replaced state"):
        lines = drawn(output, phase)
        assert lines and "%" in lines[-1] and "ETA" in lines[-1], (phase, output)


def test_nothing_but_results_off_a_terminal(bot: DeploymentBuilder) -> None:
    for args in (["backup"], ["restore", "--dry-run"]):
        proc = on_a_pipe([*args, f"--bot-dir={bot.root}"])
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert "\r" not in proc.stdout + proc.stderr and "ETA" not in proc.stdout + proc.stderr


def test_repair_apply_shows_its_line_on_a_terminal(bot: DeploymentBuilder) -> None:
    create_backup(config_of(bot.root))
    bot.write("data/chat_history/1000.json", b'[{"role": "user", "content": "cut')
    code, output = on_a_terminal(["repair", f"--bot-dir={bot.root}", "--apply"])
    assert code in (0, 1), output
    assert drawn(output, "repair 1 of 1"), output


def test_profile_duration_counts_down_on_a_terminal(bot: DeploymentBuilder) -> None:
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        code, output = on_a_terminal(
            [
                "profile",
                f"--bot-dir={bot.root}",
                f"--pid={sleeper.pid}",
                "--duration=2",
                "--interval=0.5",
                f"--report-dir={bot.root.parent / 'reports'}",
            ]
        )
    finally:
        sleeper.kill()
        sleeper.wait()
    assert code in (0, 1), output
    lines = drawn(output, "sampling")
    assert lines and "% (" in lines[-1] and " s), ETA " in lines[-1], output


def test_logs_over_a_big_file_show_share_and_eta(bot: DeploymentBuilder, tmp_path: Path) -> None:
    log = tmp_path / "bot.log"
    with log.open("wb") as handle:
        for line in realistic_mix(60_000, start=time.time() - 86400, storm=0):
            handle.write(line if line.endswith(b"\n") else line + b"\n")
    code, output = on_a_terminal(["logs", f"--bot-dir={bot.root}", "--all", f"--file={log}"])
    assert code in (0, 1, 2), output
    lines = drawn(output, "reading")
    assert lines and "lines (estimate)), ETA" in lines[-1], output
