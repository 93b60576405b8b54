"""Find the running bot by its command line: a Python process running main.py or launcher.py
from the deployment's directory (not "the first python process")."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

import psutil

from acore_doctor.redact import mask_command_line

ENTRY_SCRIPTS = {"main.py": "legacy", "launcher.py": "runtime"}


@dataclass(frozen=True)
class BotProcess:
    pid: int
    cmdline: tuple[str, ...]
    exe: str | None
    cwd: str | None
    username: str | None
    uid: int | None
    gids: tuple[int, ...]
    entrypoint: str  # "legacy" | "runtime"
    create_time: float

    @property
    def command(self) -> str:
        """The command line to show: secret-named options' values masked (``--token X``)."""
        return mask_command_line(self.cmdline)

    @property
    def uptime_s(self) -> float:
        return max(0.0, time.time() - self.create_time)

    @property
    def interpreter(self) -> str | None:
        """The Python this process was started with, as named on its command line.

        ``/proc/PID/exe`` resolves a venv's ``bin/python`` symlink to the base interpreter,
        which would hide the venv; the command line keeps it.
        """
        first = self.cmdline[0] if self.cmdline else ""
        if "python" in os.path.basename(first) and "/" in first:
            path = (
                first if os.path.isabs(first) or self.cwd is None else os.path.join(self.cwd, first)
            )
            if os.path.exists(path):
                return path
        return self.exe


def _script_in(cmdline: list[str], cwd: str | None, bot_dir: Path) -> str | None:
    """The entry script this command line runs from ``bot_dir``, or None."""
    for arg in cmdline[1:6]:
        name = os.path.basename(arg)
        if name not in ENTRY_SCRIPTS:
            continue
        path = Path(arg)
        if not path.is_absolute():
            if cwd is None:
                continue
            path = Path(cwd) / path
        try:
            if path.resolve().parent == bot_dir.resolve():
                return ENTRY_SCRIPTS[name]
        except (OSError, RuntimeError):
            continue
    return None


def find_bot_processes(bot_dir: Path) -> list[BotProcess]:
    """Every process running the deployment's main.py or launcher.py, oldest first."""
    own = {os.getpid()}
    found: list[BotProcess] = []
    for proc in psutil.process_iter(["pid", "cmdline", "create_time"]):
        try:
            cmdline = proc.info["cmdline"] or []
            if proc.info["pid"] in own or not any(
                os.path.basename(a) in ENTRY_SCRIPTS for a in cmdline[1:6]
            ):
                continue
            # 'uv run python main.py' is a launcher around the bot; its python child is the bot.
            if "python" not in os.path.basename(cmdline[0]):
                continue
            try:
                cwd = proc.cwd()
            except (psutil.AccessDenied, psutil.ZombieProcess):
                cwd = None
            entrypoint = _script_in(cmdline, cwd, bot_dir)
            if entrypoint is None:
                continue
            try:
                exe = proc.exe() or None
            except (psutil.AccessDenied, psutil.ZombieProcess):
                exe = None
            uids = proc.uids()
            gids = proc.gids()
            found.append(
                BotProcess(
                    pid=proc.info["pid"],
                    cmdline=tuple(cmdline),
                    exe=exe,
                    cwd=cwd,
                    username=proc.username(),
                    uid=uids.effective,
                    gids=(gids.effective,),
                    entrypoint=entrypoint,
                    create_time=proc.info["create_time"] or time.time(),
                )
            )
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
    return sorted(found, key=lambda p: p.create_time)


@dataclass(frozen=True)
class ProcessUsage:
    pid: int
    rss_bytes: int
    cpu_percent: float
    threads: int
    open_files: int | None
    uptime_s: float

    def describe(self) -> str:
        files = "?" if self.open_files is None else str(self.open_files)
        return (
            f"pid {self.pid}: RSS {self.rss_bytes / 2**20:.1f} MiB, CPU {self.cpu_percent:.1f} %, "
            f"{self.threads} threads, {files} open files, up {format_duration(self.uptime_s)}"
        )


def process_usage(bot: BotProcess, sample_s: float = 0.1) -> ProcessUsage | None:
    """RSS, CPU, threads and open files of ``bot``; None when it is gone."""
    try:
        proc = psutil.Process(bot.pid)
        proc.cpu_percent(None)
        time.sleep(sample_s)
        cpu = proc.cpu_percent(None)
        with proc.oneshot():
            rss = proc.memory_info().rss
            threads = proc.num_threads()
            try:
                open_files: int | None = len(proc.open_files())
            except (psutil.AccessDenied, OSError):
                open_files = None
        return ProcessUsage(bot.pid, rss, cpu, threads, open_files, bot.uptime_s)
    except (psutil.NoSuchProcess, psutil.ZombieProcess, psutil.AccessDenied):
        return None


def format_duration(seconds: float) -> str:
    seconds = int(seconds)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes}m"
    return f"{minutes}m {secs}s"
