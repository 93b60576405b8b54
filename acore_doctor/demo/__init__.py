"""A bundled sample acore_bot deployment with a few realistic faults, for `acore-doctor demo`."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import psutil

DEPLOYMENT = Path(__file__).with_name("deployment")


def copy_sample(target: Path) -> Path:
    """A copy of the sample deployment at ``target`` with its ``.env`` private, as in a real
    one; without the bytecode an install may have compiled next to the sample's code."""
    shutil.copytree(DEPLOYMENT, target, ignore=shutil.ignore_patterns("__pycache__"))
    (target / ".env").chmod(0o600)
    return target


#: The packages the sample bot's virtual environment provides: import name ->
#: (distribution, version). Stand-ins (an importable package with its version and
#: distribution metadata), as the bot process is a stand-in: enough for the environment
#: checks to judge the sample deployment's interpreter and packages, not the user's.
STANDIN_PACKAGES: dict[str, tuple[str, str]] = {
    "discord": ("discord.py", "2.4.0"),
    "aiohttp": ("aiohttp", "3.10.10"),
    "aiofiles": ("aiofiles", "24.1.0"),
    "dotenv": ("python-dotenv", "1.0.1"),
    "PIL": ("pillow", "10.4.0"),
    "psutil": ("psutil", "6.1.0"),
}


#: Resource thresholds no host fails, and the system tools the sample's settings call for: the
#: demo judges the sample deployment, not the machine it happens to run on.
HOST_THRESHOLDS_OFF: tuple[str, ...] = (
    "--disk-critical-free-gib=0",
    "--disk-critical-percent=100",
    "--disk-warning-percent=100",
    "--memory-warning-percent=100",
    "--cpu-warning-percent=100",
)
STANDIN_TOOLS: tuple[str, ...] = ("ffmpeg", "ollama")


def make_standin_tools(directory: Path, names: tuple[str, ...] = STANDIN_TOOLS) -> Path:
    """Executables answering their version query, for the PATH-based tool checks."""
    directory.mkdir(parents=True, exist_ok=True)
    for name in names:
        tool = directory / name
        tool.write_text(f"#!/bin/sh\necho '{name} version 1.0-standin'\n")
        tool.chmod(0o755)
    return directory


def make_bot_venv(path: Path, packages: dict[str, tuple[str, str]] = STANDIN_PACKAGES) -> Path:
    """A real virtual environment at ``path`` for a sample deployment; returns its python.

    It sees neither the interpreter running acore-doctor nor the system's site-packages
    (no ``--system-site-packages``), so what it can import is exactly ``packages``.
    """
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", str(path)],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    site = next((path / "lib").glob("python3*/site-packages"))
    for module, (distribution, version) in packages.items():
        (site / module).mkdir()
        (site / module / "__init__.py").write_text(
            f'"""Stand-in {distribution} of the sample deployment."""\n__version__ = "{version}"\n'
        )
        info = site / f"{distribution.replace('-', '_').replace('.', '_')}-{version}.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(
            f"Metadata-Version: 2.1\nName: {distribution}\nVersion: {version}\n"
        )
        (info / "top_level.txt").write_text(module + "\n")
    return path / "bin" / "python"


def start_standin_bot(
    bot_dir: Path, seconds: float = 600.0, python: str | None = None, args: Sequence[str] = ()
) -> subprocess.Popen[bytes]:
    """Start the demo's stand-in ``main.py`` from ``bot_dir`` so process checks find a bot.

    It writes nothing and exits with its parent or after ``seconds``; stop it with
    :func:`stop_standin_bot`. Returns once its command line shows ``main.py``. ``python``
    is the interpreter to run it with: the deployment's own (see :func:`make_bot_venv`);
    without one, this interpreter. ``args`` follow ``main.py`` on its command line.
    """
    proc = subprocess.Popen(
        [python or sys.executable, "main.py", *args],
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
