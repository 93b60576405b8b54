"""Find the bot's process: by its command line and working directory, never 'any python'."""

from __future__ import annotations

import os
from pathlib import Path

import psutil

ENTRYPOINTS = ("main.py", "launcher.py")


def _is_bot(cmdline: list[str], cwd: str | None, bot_dir: Path) -> bool:
    if not cmdline or "python" not in Path(cmdline[0]).name.lower():
        return False
    for arg in cmdline[1:]:
        if Path(arg).name not in ENTRYPOINTS:
            continue
        path = Path(arg)
        if not path.is_absolute():
            if cwd is None:
                continue
            path = Path(cwd) / path
        try:
            if path.resolve().parent == bot_dir.resolve():
                return True
        except OSError:
            continue
    return False


def find_bot_processes(bot_dir: Path) -> list[psutil.Process]:
    """Processes running the deployment's ``main.py`` or ``launcher.py`` (oldest first)."""
    found = []
    me = os.getpid()
    for proc in psutil.process_iter(["pid", "cmdline", "cwd", "create_time"]):
        info = proc.info
        if info["pid"] == me:
            continue
        try:
            if _is_bot(info.get("cmdline") or [], info.get("cwd"), bot_dir):
                found.append(proc)
        except (psutil.Error, OSError):
            continue
    return sorted(found, key=lambda p: p.info.get("create_time") or 0.0)


def find_bot_process(bot_dir: Path) -> psutil.Process | None:
    """The oldest matching process: a launcher's own children also match its cmdline."""
    found = find_bot_processes(bot_dir)
    return found[0] if found else None
