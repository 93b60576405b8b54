"""Is the bot running, and since when? A minimal process probe for the log checks.

It looks for a Python process whose command line runs ``main.py`` (legacy path) or
``launcher.py`` (runtime path) from the deployment's directory. The local-diagnostics
area owns the full entrypoint detection (systemd unit, ExecStart); this covers what the log
checks need: whether a bot process is up, which entrypoint, and its start time.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import psutil

ENTRYPOINTS = {"main.py": "legacy", "launcher.py": "runtime"}


@dataclass(frozen=True)
class BotProcess:
    pid: int
    entrypoint: str  # "main.py" | "launcher.py"
    path: str  # "legacy" | "runtime"
    started: float  # epoch


def _script_in(cmdline: list[str], cwd: str | None, bot_dir: Path) -> str | None:
    for arg in cmdline[1:4]:
        name = os.path.basename(arg)
        if name not in ENTRYPOINTS:
            continue
        script = Path(arg) if os.path.isabs(arg) else Path(cwd or "/") / arg
        try:
            if script.resolve().parent == bot_dir.resolve():
                return name
        except OSError:
            continue
    return None


def find_bot_processes(bot_dir: Path) -> list[BotProcess]:
    """Bot processes running from ``bot_dir``, oldest first. Never raises."""
    found = []
    for proc in psutil.process_iter(["pid", "cmdline", "create_time"]):
        try:
            cmdline = proc.info.get("cmdline") or []
            if not any(os.path.basename(a) in ENTRYPOINTS for a in cmdline[1:4]):
                continue
            try:
                cwd = proc.cwd()
            except (psutil.AccessDenied, psutil.ZombieProcess):
                cwd = None
            script = _script_in(cmdline, cwd, bot_dir)
            if script:
                found.append(
                    BotProcess(proc.pid, script, ENTRYPOINTS[script], proc.info["create_time"])
                )
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
    return sorted(found, key=lambda p: p.started)
