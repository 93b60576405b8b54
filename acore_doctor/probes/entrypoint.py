"""Which acore_bot entrypoint a deployment runs: legacy ``main.py`` or runtime ``launcher.py``.

Evidence in order of trust: an override, the systemd unit (if readable), the running process's
command line, then the files present.
"""

from __future__ import annotations

import os
import shlex
from dataclasses import dataclass
from pathlib import Path

from acore_doctor.probes.bot_process import ENTRY_SCRIPTS, BotProcess
from acore_doctor.redact import mask_command_line
from acore_doctor.saferead import read_text_bounded

LEGACY, RUNTIME = "legacy", "runtime"
UNIT_DIRS = (
    Path("/etc/systemd/system"),
    Path("/usr/lib/systemd/system"),
    Path("/lib/systemd/system"),
    Path("~/.config/systemd/user").expanduser(),
)
#: A unit file this large is not one; do not read it whole.
MAX_UNIT_BYTES = 256 * 1024

_ALIASES = {
    "legacy": LEGACY,
    "main.py": LEGACY,
    "main": LEGACY,
    "runtime": RUNTIME,
    "launcher.py": RUNTIME,
    "launcher": RUNTIME,
}


@dataclass(frozen=True)
class Unit:
    path: Path
    working_directory: str | None
    exec_start: str | None
    restart: str | None
    start_limit_burst: str | None
    #: sandboxing that decides what the unit's process may write (systemd.exec(5))
    user: str | None = None
    protect_system: str | None = None
    read_only_paths: tuple[str, ...] = ()
    read_write_paths: tuple[str, ...] = ()


@dataclass(frozen=True)
class Entrypoint:
    kind: str | None  # "legacy" | "runtime" | None when nothing says
    source: str  # "option" | "systemd" | "process" | "files" | "none"
    detail: str

    @property
    def script(self) -> str | None:
        return {LEGACY: "main.py", RUNTIME: "launcher.py"}.get(self.kind or "")


def normalize_entrypoint(value: str) -> str | None:
    return _ALIASES.get(value.strip().lower())


def parse_unit(path: Path, text: str | None = None) -> Unit | None:
    """The [Service] settings we need from a unit file (``text``: its content, when already
    read); None when it cannot be read."""
    if text is None:
        text = read_unit(path)
        if text is None:
            return None
    values: dict[str, str] = {}
    paths: dict[str, list[str]] = {"ReadOnlyPaths": [], "ReadWritePaths": []}
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line[0] in "#;" or "=" not in line:
            continue
        key, _, value = line.partition("=")
        key = key.strip()
        if key in paths:  # repeatable, space-separated lists; an empty value resets the list
            paths[key] = [*paths[key], *value.split()] if value.strip() else []
        values.setdefault(key, value.strip())
    return Unit(
        path=path,
        working_directory=values.get("WorkingDirectory"),
        exec_start=values.get("ExecStart"),
        restart=values.get("Restart"),
        start_limit_burst=values.get("StartLimitBurst"),
        user=values.get("User"),
        protect_system=values.get("ProtectSystem"),
        read_only_paths=tuple(paths["ReadOnlyPaths"]),
        read_write_paths=tuple(paths["ReadWritePaths"]),
    )


def read_unit(path: Path) -> str | None:
    try:
        return read_text_bounded(path, MAX_UNIT_BYTES)
    except OSError:
        return None


def entry_of_command(command: str) -> str | None:
    """legacy/runtime from an ExecStart or command line naming main.py or launcher.py."""
    try:
        words = shlex.split(command.lstrip("@-:+!"))
    except ValueError:
        words = command.split()
    for word in words:
        kind = ENTRY_SCRIPTS.get(os.path.basename(word))
        if kind:
            return kind
    return None


def find_units(bot_dir: Path, unit_dirs: tuple[Path, ...] = UNIT_DIRS) -> list[Unit]:
    """Readable service units whose WorkingDirectory or ExecStart is this deployment."""
    target = str(bot_dir.resolve())
    units = []
    seen_dirs: set[tuple[int, int]] = set()
    for directory in unit_dirs:
        try:
            identity = directory.stat()
            candidates = sorted(directory.glob("*.service"))
        except OSError:
            continue
        # /lib is /usr/lib on merged-/usr systems: read (and report) each unit file once.
        if (identity.st_dev, identity.st_ino) in seen_dirs:
            continue
        seen_dirs.add((identity.st_dev, identity.st_ino))
        for path in candidates:
            text = read_unit(path)
            # A unit of this deployment names its directory; most units on a host do not.
            if text is None or target.rstrip("/") not in text:
                continue
            unit = parse_unit(path, text)
            if unit is None:
                continue
            workdir = (unit.working_directory or "").lstrip("-")
            mentions = target in (unit.exec_start or "")
            if workdir.rstrip("/") == target.rstrip("/") or mentions:
                units.append(unit)
    return units


def files_entrypoint(bot_dir: Path) -> Entrypoint:
    has_main = (bot_dir / "main.py").is_file()
    has_launcher = (bot_dir / "launcher.py").is_file()
    if has_main and has_launcher:
        # HEAD ships both; what the deployment has written tells which one ran.
        if (bot_dir / "data" / "gestalt_memory").is_dir():
            return Entrypoint(RUNTIME, "files", "both scripts present; data/gestalt_memory exists")
        return Entrypoint(
            LEGACY,
            "files",
            "both scripts present; no data/gestalt_memory, and the systemd installer runs main.py",
        )
    if has_main:
        return Entrypoint(LEGACY, "files", "only main.py present")
    if has_launcher:
        return Entrypoint(RUNTIME, "files", "only launcher.py present")
    return Entrypoint(None, "none", f"neither main.py nor launcher.py in {bot_dir}")


def detect_entrypoint(
    bot_dir: Path,
    override: str | None,
    units: list[Unit],
    processes: list[BotProcess],
) -> Entrypoint:
    if override:
        kind = normalize_entrypoint(override)
        if kind:
            return Entrypoint(kind, "option", f"--entrypoint={override}")
    for unit in units:
        kind = entry_of_command(unit.exec_start or "")
        if kind:
            exec_start = mask_command_line(unit.exec_start or "")
            return Entrypoint(kind, "systemd", f"{unit.path}: ExecStart={exec_start}")
    if processes:
        proc = processes[0]
        return Entrypoint(proc.entrypoint, "process", f"pid {proc.pid}: {proc.command}")
    return files_entrypoint(bot_dir)
