"""Find the running bot by its command line: a Python process running main.py or launcher.py
(or ``-m main`` / ``-m launcher``) from the deployment's directory, not "the first python
process". However it was started: ``python main.py``, ``python -m main``, a venv's python,
``uv run`` (its python child), systemd, tmux or screen (their shell's python child).

:func:`writers_blocked_by` is the stricter question the writing tools ask ("may anything of
this bot be running?"): it adds launcher processes around the bot (``uv run main.py``), a
python running an entry script whose directory cannot be read, and an active systemd unit of
the deployment (between two restarts of a crash loop there is no process, yet the bot is on).
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psutil

from acore_doctor.redact import mask_command_line

ENTRY_SCRIPTS = {"main.py": "legacy", "launcher.py": "runtime"}
ENTRY_MODULES = {"main": "legacy", "launcher": "runtime"}
#: Tools that start the bot's python as their child and wait for it.
LAUNCHERS = frozenset({"uv", "uvx", "poetry", "pipenv", "pdm", "hatch", "rye", "pixi"})


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


def _entry_args(cmdline: list[str]) -> list[tuple[str, str]]:
    """(entry script path, entrypoint kind) named among the first arguments: ``main.py``,
    ``/srv/bot/launcher.py``, or ``-m main`` (taken as ``main.py`` in the working directory)."""
    found = []
    args = cmdline[1:8]
    for index, arg in enumerate(args):
        module = None
        if arg == "-m" and index + 1 < len(args):
            module = args[index + 1]
        elif arg.startswith("-m") and len(arg) > 2 and not arg.startswith("--"):
            module = arg[2:]
        if module in ENTRY_MODULES:
            found.append((f"{module}.py", ENTRY_MODULES[module]))
        elif os.path.basename(arg) in ENTRY_SCRIPTS:
            found.append((arg, ENTRY_SCRIPTS[os.path.basename(arg)]))
    return found


def _script_in(cmdline: list[str], cwd: str | None, bot_dir: Path) -> str | None:
    """The entry script this command line runs from ``bot_dir``, or None."""
    for arg, kind in _entry_args(cmdline):
        path = Path(arg)
        if not path.is_absolute():
            if cwd is None:
                continue
            path = Path(cwd) / path
        try:
            if path.resolve().parent == bot_dir.resolve():
                return kind
        except (OSError, RuntimeError):
            continue
    return None


def command_lines() -> Iterator[tuple[int, list[str]]]:
    """(pid, arguments) of every process whose command line can be read, this one excluded.

    On Linux one read of ``/proc/PID/cmdline`` per process, split as psutil splits it; the
    other facts are asked of psutil only for the few processes that run an entry script.
    """
    own = os.getpid()
    try:
        pids = [int(name) for name in os.listdir("/proc") if name.isdigit()]
    except OSError:
        pids = []
    if not pids:  # no procfs: psutil knows the platform's way
        for proc in psutil.process_iter(["pid", "cmdline"]):
            with contextlib.suppress(psutil.Error):
                if proc.info["pid"] != own and proc.info["cmdline"]:
                    yield proc.info["pid"], proc.info["cmdline"]
        return
    for pid in pids:
        if pid == own:
            continue
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as handle:
                raw = handle.read()
        except OSError:  # gone, or hidden (hidepid)
            continue
        if raw:  # empty for kernel threads and zombies
            yield pid, _split_cmdline(os.fsdecode(raw))


def _split_cmdline(data: str) -> list[str]:
    """As psutil does: NUL-separated, or space-separated for a process that rewrote it."""
    sep = "\x00" if data.endswith("\x00") else " "
    if data.endswith(sep):
        data = data[:-1]
    args = data.split(sep)
    if sep == "\x00" and len(args) == 1 and " " in data:
        args = data.split(" ")
    return args


def find_bot_processes(bot_dir: Path) -> list[BotProcess]:
    """Every process running the deployment's main.py or launcher.py, oldest first."""
    found: list[BotProcess] = []
    for pid, cmdline in command_lines():
        # 'uv run python main.py' is a launcher around the bot; its python child is the bot.
        if not _entry_args(cmdline) or "python" not in os.path.basename(cmdline[0]):
            continue
        try:
            proc = psutil.Process(pid)
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
                    pid=pid,
                    cmdline=tuple(cmdline),
                    exe=exe,
                    cwd=cwd,
                    username=proc.username(),
                    uid=uids.effective,
                    gids=(gids.effective,),
                    entrypoint=entrypoint,
                    create_time=proc.create_time() or time.time(),
                )
            )
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
    return sorted(found, key=lambda p: p.create_time)


def writers_blocked_by(bot_dir: Path) -> list[str]:
    """Everything that says the bot may be running from ``bot_dir``, one line each ("pid 812:
    python main.py"); empty when nothing does. For the tools that write the bot's state."""
    bots = find_bot_processes(bot_dir)
    found = [f"pid {bot.pid}: {' '.join(bot.cmdline)[:200]}" for bot in bots]
    seen = {bot.pid for bot in bots}
    for pid, cmdline in command_lines():
        try:
            if pid in seen or not _entry_args(cmdline):
                continue
            program = os.path.basename(cmdline[0])
            is_python = "python" in program
            if not is_python and program not in LAUNCHERS:
                continue
            try:
                cwd: str | None = psutil.Process(pid).cwd()
            except (psutil.AccessDenied, psutil.ZombieProcess):
                cwd = None
            if _script_in(cmdline, cwd, bot_dir) is not None:
                why = ""
            elif cwd is None and not any(os.path.isabs(a) for a, _ in _entry_args(cmdline)):
                why = " (its directory cannot be read: it may be this bot)"
            else:
                continue
            found.append(f"pid {pid}: {' '.join(cmdline)[:200]}{why}")
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess, OSError):
            continue
    found += [f"systemd unit {unit} is {state}" for unit, state in _active_units(bot_dir)]
    return found


def _active_units(bot_dir: Path) -> list[tuple[str, str]]:
    """(unit, state) of this deployment's systemd units that are active or starting."""
    from acore_doctor.probes.entrypoint import find_units

    active = []
    for unit in find_units(bot_dir):
        try:
            done = subprocess.run(
                ["systemctl", "is-active", unit.path.name],
                capture_output=True,
                text=True,
                timeout=5,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired):
            continue  # no systemd here (a container), or it does not answer
        state = done.stdout.strip()
        if state in ("active", "activating", "reloading"):
            active.append((unit.path.name, state))
    return active


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


def listening_addresses(processes: list[BotProcess], port: int) -> list[str] | None:
    """The local addresses the bot's processes listen on at TCP ``port``; None when their
    sockets cannot be read (or no process runs)."""
    if not processes:
        return None
    found: list[str] = []
    for bot in processes:
        try:
            process = psutil.Process(bot.pid)
            lister = getattr(process, "net_connections", None) or process.connections
            connections = lister(kind="tcp")
        except (psutil.AccessDenied, psutil.NoSuchProcess, psutil.ZombieProcess):
            return None
        found += [
            c.laddr.ip
            for c in connections
            if c.status == psutil.CONN_LISTEN and c.laddr and c.laddr.port == port
        ]
    return found
