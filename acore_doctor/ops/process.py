"""The bot's process as psutil sees it, found by :mod:`acore_doctor.probes.bot_process`."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import psutil

from acore_doctor.probes.bot_process import BotProcess, find_bot_processes


def find_bot_process(bot_dir: Path) -> psutil.Process | None:
    """The oldest process running the deployment's main.py or launcher.py, or None."""
    return oldest_live(find_bot_processes(bot_dir))


def oldest_live(bots: Iterable[BotProcess]) -> psutil.Process | None:
    """The first of ``bots`` (oldest first) that still runs, or None."""
    for bot in bots:
        try:
            return psutil.Process(bot.pid)
        except psutil.Error:
            continue
    return None
