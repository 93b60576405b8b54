"""Which acore_bot entrypoint a deployment runs: legacy ``main.py`` or runtime ``launcher.py``.

Evidence in order of trust: an override, the systemd unit (if readable), the running process's
command line, then the files present.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
from dataclasses import dataclass, replace
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
    group: str | None = None
    supplementary_groups: tuple[str, ...] = ()
    #: the drop-ins (``<unit>.d/*.conf``) applied over the unit file, in order
    drop_ins: tuple[Path, ...] = ()
    #: where the values come from: "file" (parsed as systemd reads it) or "systemctl show"
    read_from: str = "file"

    @property
    def describe(self) -> str:
        extra = f" + {len(self.drop_ins)} drop-in(s)" if self.drop_ins else ""
        return f"{self.path}{extra}"


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


#: Lists that systemd extends with each assignment (an empty assignment resets them).
_LIST_KEYS = ("ReadOnlyPaths", "ReadWritePaths", "SupplementaryGroups")


def parse_unit(path: Path, text: str | None = None, drop_ins: tuple[Path, ...] = ()) -> Unit | None:
    """The [Service] settings we need from a unit file and its drop-ins, as systemd reads
    them: the drop-ins in order after the file, the last assignment of a setting wins, list
    settings accumulate until an empty assignment resets them (``text``: the unit file's
    content, when already read). None when the unit file cannot be read."""
    if text is None:
        text = read_unit(path)
        if text is None:
            return None
    values: dict[str, str] = {}
    lists: dict[str, list[str]] = {key: [] for key in _LIST_KEYS}
    applied = []
    for source_text in [text, *(_drop_in_text(d, applied) for d in drop_ins)]:
        for raw in _logical_lines(source_text):
            line = raw.strip()
            if not line or line[0] in "#;" or "=" not in line:
                continue
            key, _, value = line.partition("=")
            key, value = key.strip(), value.strip()
            if key in lists:  # repeatable, space-separated lists; an empty value resets the list
                lists[key] = [*lists[key], *value.split()] if value else []
            elif key == "ExecStart" and not value:
                values.pop(key, None)  # "ExecStart=" in a drop-in clears the command
            else:
                values[key] = value  # the last assignment wins
    return Unit(
        path=path,
        working_directory=values.get("WorkingDirectory"),
        exec_start=values.get("ExecStart"),
        restart=values.get("Restart"),
        start_limit_burst=values.get("StartLimitBurst"),
        user=values.get("User") or None,
        protect_system=values.get("ProtectSystem"),
        read_only_paths=tuple(lists["ReadOnlyPaths"]),
        read_write_paths=tuple(lists["ReadWritePaths"]),
        group=values.get("Group") or None,
        supplementary_groups=tuple(lists["SupplementaryGroups"]),
        drop_ins=tuple(applied),
    )


def _drop_in_text(path: Path, applied: list[Path]) -> str:
    text = read_unit(path)
    if text is None:
        return ""
    applied.append(path)
    return text


def _logical_lines(text: str) -> list[str]:
    """Lines with systemd's backslash continuations joined."""
    lines: list[str] = []
    pending = ""
    for raw in text.splitlines():
        if raw.rstrip().endswith("\\"):
            pending += raw.rstrip()[:-1] + " "
            continue
        lines.append(pending + raw)
        pending = ""
    if pending:
        lines.append(pending)
    return lines


#: Drop-in directories by priority, lowest first (a same-named drop-in in a later one wins).
DROP_IN_ROOTS = (
    Path("/lib/systemd/system"),
    Path("/usr/lib/systemd/system"),
    Path("/run/systemd/system"),
    Path("/etc/systemd/system"),
)


def drop_ins_of(unit_path: Path, roots: tuple[Path, ...] = DROP_IN_ROOTS) -> tuple[Path, ...]:
    """``<unit>.d/*.conf`` for the unit, as systemd finds them: in every unit directory (and
    next to the unit file), a name in a higher-priority directory masking the same name in a
    lower one, applied in file-name order."""
    by_name: dict[str, Path] = {}
    # The unit's own directory first (lowest) unless it is one of the roots (its own rank).
    ordered = [unit_path.parent, *roots]
    ordered = [d for i, d in enumerate(ordered) if d not in ordered[i + 1 :]]
    for root in ordered:
        directory = root / f"{unit_path.name}.d"
        try:
            confs = sorted(directory.glob("*.conf"))
        except OSError:
            continue
        for conf in confs:
            by_name[conf.name] = conf
    return tuple(by_name[name] for name in sorted(by_name))


def load_unit(path: Path, roots: tuple[Path, ...] = DROP_IN_ROOTS) -> Unit | None:
    """A unit as systemd reads it: the file, then its drop-ins; where systemd runs, what
    ``systemctl show`` says wins (it knows every source, /run and generators included)."""
    unit = parse_unit(path, drop_ins=drop_ins_of(path, roots))
    return None if unit is None else with_systemctl_show(unit)


def with_systemctl_show(unit: Unit) -> Unit:
    """``unit`` with what systemd itself says of it, where systemd runs."""
    shown = systemctl_show(unit.path.name)
    if not shown:
        return unit
    return replace(
        unit,
        user=shown.get("User") or unit.user,
        group=shown.get("Group") or unit.group,
        supplementary_groups=tuple(shown.get("SupplementaryGroups", "").split())
        or unit.supplementary_groups,
        working_directory=shown.get("WorkingDirectory") or unit.working_directory,
        read_from="systemctl show",
    )


_SHOWN = ("User", "Group", "SupplementaryGroups", "WorkingDirectory")


def systemctl_show(name: str) -> dict[str, str]:
    """``systemctl show -p User,...`` for a unit, where systemd is the init system; empty
    where it is not (a container) or the unit is unknown to it."""
    if not Path("/run/systemd/system").is_dir() or shutil.which("systemctl") is None:
        return {}
    try:
        done = subprocess.run(
            ["systemctl", "show", "-p", ",".join(_SHOWN), "--", name],
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return {}
    return parse_show(done.stdout) if done.returncode == 0 else {}


def parse_show(text: str) -> dict[str, str]:
    """``systemctl show -p ...`` output (KEY=VALUE lines): the set values we ask for."""
    shown = {}
    for line in text.splitlines():
        key, _, value = line.partition("=")
        if key in _SHOWN and value.strip() and value.strip() != "[not set]":
            shown[key] = value.strip()
    return shown


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
            if text is None:
                continue
            drop_ins = drop_ins_of(path, tuple(reversed(unit_dirs)))
            # A unit of this deployment names its directory (in the file or a drop-in); most
            # units on a host do not.
            texts = [text, *(read_unit(d) or "" for d in drop_ins)]
            if not any(target.rstrip("/") in t for t in texts):
                continue
            unit = parse_unit(path, text, drop_ins)
            if unit is None:
                continue
            unit = with_systemctl_show(unit)
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
