"""A bundled sample acore_bot deployment with a few realistic faults, for `acore-doctor demo`."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import psutil

DEPLOYMENT = Path(__file__).with_name("deployment")


def start_standin_bot(
    bot_dir: Path, seconds: float = 600.0, python: str | None = None
) -> subprocess.Popen[bytes]:
    """Start the demo's stand-in ``main.py`` from ``bot_dir`` so process checks find a bot.

    It writes nothing and exits with its parent or after ``seconds``; stop it with
    :func:`stop_standin_bot`. Returns once its command line shows ``main.py``. ``python``
    is the interpreter to run it with (default: this one), so tests can give it a venv's.
    """
    proc = subprocess.Popen(
        [python or sys.executable, "main.py"],
        cwd=bot_dir,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1", "ACORE_DEMO_BOT_SECONDS": str(seconds)},
    )
    deadline = time.monotonic() + 5.0
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            if "main.py" in psutil.Process(proc.pid).cmdline():
                break
        except (psutil.NoSuchProcess, psutil.ZombieProcess):
            break
        time.sleep(0.01)
    return proc


def stop_standin_bot(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
