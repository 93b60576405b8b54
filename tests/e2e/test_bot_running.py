"""Every writing tool refuses while the bot runs, however it was started. Each case starts a
real stand-in bot process (the demo's main.py: it sleeps and writes nothing) the way
operators start the real one, from the deployment's directory."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psutil
import pytest

from acore_doctor.probes.bot_process import find_bot_processes, writers_blocked_by
from acore_doctor.recovery.backup import create_backup
from tests.support.builder import DeploymentBuilder
from tests.support.recovery import config_of, healthy
from tests.support.runs import SUITE_ROOT, clean_env

CLI = [sys.executable, "-m", "acore_doctor.cli"]


@contextmanager
def started(argv: list[str], cwd: Path) -> Iterator[subprocess.Popen]:
    proc = subprocess.Popen(argv, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        yield proc
    finally:
        children = psutil.Process(proc.pid).children(recursive=True)
        for child in children:
            child.kill()
        proc.kill()
        proc.wait()
        psutil.wait_procs(children, timeout=10)  # gone, not just signalled


def wait_for(bot_dir: Path, timeout: float = 10.0) -> list[str]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = writers_blocked_by(bot_dir)
        if found:
            return found
        time.sleep(0.1)
    return []


def fake_uv(bin_dir: Path) -> Path:
    """A launcher that, like 'uv run main.py', starts the project's python as its child."""
    bin_dir.mkdir(parents=True, exist_ok=True)
    uv = bin_dir / "uv"
    uv.write_text(f'#!/bin/sh\n[ "$1" = run ] && shift\n"{sys.executable}" "$@"\n')
    uv.chmod(0o755)
    return uv


def venv_python(bot: DeploymentBuilder) -> Path:
    """The bot's venv interpreter as operators call it: .venv/bin/python (a symlink)."""
    python = bot.root / ".venv" / "bin" / "python"
    python.parent.mkdir(parents=True)
    python.symlink_to(sys.executable)
    return python


STYLES = ["python main.py", "python -m main", "python3 launcher.py", "venv python", "uv run",
          "systemd (absolute paths, cwd /)"]  # fmt: skip


@pytest.mark.parametrize("style", STYLES)
def test_each_way_of_starting_the_bot_is_seen(
    bot: DeploymentBuilder, tmp_path: Path, style: str
) -> None:
    shutil.copy(bot.root / "main.py", bot.root / "launcher.py")
    argv, cwd = {
        "python main.py": ([sys.executable, "main.py"], bot.root),
        "python -m main": ([sys.executable, "-m", "main"], bot.root),
        "python3 launcher.py": ([sys.executable, "launcher.py"], bot.root),
        "uv run": ([str(fake_uv(tmp_path / "bin")), "run", "main.py"], bot.root),
    }.get(style, (None, None))
    if style == "venv python":
        argv, cwd = [str(Path(".venv/bin/python")), "main.py"], bot.root
        venv_python(bot)
    if style.startswith("systemd"):
        argv, cwd = [str(venv_python(bot)), str(bot.root / "main.py")], Path("/")
    assert argv is not None
    with started(argv, cwd) as proc:
        found = wait_for(bot.root)
        assert found, f"{style}: nothing found"
        pids = {proc.pid, *(c.pid for c in psutil.Process(proc.pid).children(recursive=True))}
        assert any(line.startswith(f"pid {pid}:") for pid in pids for line in found), found
    assert writers_blocked_by(bot.root) == []


def test_a_bot_in_a_tmux_session_is_seen(bot: DeploymentBuilder) -> None:
    if shutil.which("tmux") is None:
        pytest.skip("tmux is not installed")
    session = f"acore-doctor-test-{os.getpid()}"
    env = {**os.environ, "TMUX_TMPDIR": str(bot.root.parent)}
    subprocess.run(
        ["tmux", "new-session", "-d", "-s", session, "-c", str(bot.root),
         f"{sys.executable} main.py"],
        env=env, check=True, timeout=10,
    )  # fmt: skip
    try:
        found = wait_for(bot.root)
        assert found and "main.py" in found[0], found
        [bot_process] = find_bot_processes(bot.root)
        assert bot_process.cwd == str(bot.root)
    finally:
        subprocess.run(["tmux", "kill-server"], env=env, timeout=10, check=False)


def test_a_bot_in_a_screen_session_is_seen(bot: DeploymentBuilder) -> None:
    if shutil.which("screen") is None:
        pytest.skip("screen is not installed")
    session = f"acore-doctor-test-{os.getpid()}"
    # A short directory of its own: screen's socket path must fit a unix socket's 108 bytes,
    # which tmp_path under pytest-xdist (…/popen-gw0/…) does not.
    screen_dir = Path(tempfile.mkdtemp(prefix="scr-"))
    screen_dir.chmod(0o700)
    env = {**os.environ, "SCREENDIR": str(screen_dir)}
    subprocess.run(
        ["screen", "-dmS", session, sys.executable, "main.py"],
        cwd=bot.root, env=env, check=True, timeout=10,
    )  # fmt: skip
    try:
        found = wait_for(bot.root)
        assert found and "main.py" in found[0], found
    finally:
        subprocess.run(["screen", "-S", session, "-X", "quit"], env=env, timeout=10, check=False)
        shutil.rmtree(screen_dir, ignore_errors=True)


def test_another_deployments_bot_is_not_this_one(bot: DeploymentBuilder, tmp_path: Path) -> None:
    other = DeploymentBuilder(tmp_path / "other_bot")
    with (
        started([sys.executable, "main.py"], other.root),
        started([sys.executable, str(other.root / "main.py")], tmp_path),
    ):
        assert wait_for(other.root)
        assert writers_blocked_by(bot.root) == []


@pytest.mark.parametrize(
    ("args", "code"),
    [(["restore"], 2), (["repair", "--apply"], 3), (["recover", "--apply"], 3)],
    ids=["restore", "repair", "recover"],
)
def test_writing_tools_refuse_and_force_is_loud(
    bot: DeploymentBuilder, args: list[str], code: int
) -> None:
    healthy(bot)
    create_backup(config_of(bot.root))
    bot.write("data/chat_history/5.json", "[")
    with started([sys.executable, "-m", "main"], bot.root) as stand_in:
        assert wait_for(bot.root)
        refused = subprocess.run(
            [*CLI, *args, f"--bot-dir={bot.root}"],
            cwd=SUITE_ROOT, env=clean_env(), capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        out = refused.stdout + refused.stderr
        assert refused.returncode == code, out
        assert f"the bot is running from {bot.root} (pid {stand_in.pid}:" in out
        assert (bot.root / "data/chat_history/5.json").read_text() == "["
        if args[0] != "repair":
            return
        forced = subprocess.run(
            [*CLI, *args, "--force", f"--bot-dir={bot.root}"],
            cwd=SUITE_ROOT, env=clean_env(), capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        # "[" is a history cut off mid-write: what followed may be lost, so exit 1.
        assert forced.returncode == 1, forced.stdout + forced.stderr
        assert "WARNING: --force: the bot is running" in forced.stderr
        assert f"pid {stand_in.pid}" in forced.stderr
