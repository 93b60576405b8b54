"""Directories the bot writes, whether its user can write them, and files anyone can write.

A write probe creates a file with a unique name and removes it in a ``finally``; it is used
only when the suite runs as the bot's own user (for another user, the mode bits are judged).
"""

from __future__ import annotations

import contextlib
import os
import pwd
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path

from acore_doctor.deployment import Deployment
from acore_doctor.probes.entrypoint import Unit

PROBE_PREFIX = ".acore-doctor-probe-"
#: Never walked: not the deployment's own files, and possibly huge.
SKIP_DIRS = frozenset(
    {
        ".git",
        ".venv",
        "venv",
        "node_modules",
        "__pycache__",
        ".mypy_cache",
        ".pytest_cache",
        ".ruff_cache",
    }
)


@dataclass(frozen=True)
class BotUser:
    uid: int
    gids: tuple[int, ...]
    name: str
    source: str  # "process" | "owner of <dir>" | "suite"


@dataclass(frozen=True)
class DirState:
    path: Path
    why: str
    exists: bool
    is_dir: bool = False
    writable: bool = False
    how: str = ""
    error: str | None = None
    #: for a missing directory: the nearest existing ancestor, and whether the bot can create
    #: the directory there (it does at start or at its first write)
    ancestor: Path | None = None
    creatable: bool = False


def user_of(uid: int, source: str, gids: tuple[int, ...] = ()) -> BotUser:
    try:
        entry = pwd.getpwuid(uid)
        groups = set(gids) | {entry.pw_gid} | set(os.getgrouplist(entry.pw_name, entry.pw_gid))
        return BotUser(uid, tuple(sorted(groups)), entry.pw_name, source)
    except (KeyError, OSError):
        return BotUser(uid, tuple(gids), str(uid), source)


def required_dirs(deployment: Deployment, entrypoint: str | None) -> list[tuple[Path, str]]:
    """(directory, why the bot writes it) for the detected entrypoint (§3.1, §8 check 21)."""
    s = deployment.settings
    dirs = [(deployment.path("data"), "the bot's state root")]
    if entrypoint == "runtime":
        dirs.append((deployment.path("data/gestalt_memory"), "runtime conversation memory"))
        return dirs
    dirs += [
        (deployment.path("data/chat_history"), "chat history per channel"),
        (deployment.path(s.get("USER_PROFILES_PATH")), "user profiles"),
        (deployment.path("data/temp"), "TTS/RVC scratch files"),
        (
            deployment.path(s.get("CHARACTERS_DIR")).parent / "compiled",
            "compiled personas, rewritten at every start",
        ),
    ]
    if s.get("LOG_TO_FILE"):
        log_file = deployment.path(s.get("LOG_FILE_PATH"))
        dirs.append((log_file.parent, "the log file"))
    if s.get("RL_ENABLED"):
        dirs.append((deployment.path(s.get("RL_DATA_DIR")), "RL state"))
    return dirs


def mode_allows_write(st: os.stat_result, user: BotUser) -> bool:
    """Whether the mode bits let ``user`` create files in a directory (no ACLs)."""
    if user.uid == 0:
        return True
    if st.st_uid == user.uid:
        return bool(st.st_mode & stat.S_IWUSR and st.st_mode & stat.S_IXUSR)
    if st.st_gid in user.gids:
        return bool(st.st_mode & stat.S_IWGRP and st.st_mode & stat.S_IXGRP)
    return bool(st.st_mode & stat.S_IWOTH and st.st_mode & stat.S_IXOTH)


def write_probe(directory: Path) -> str | None:
    """Create and remove a uniquely named file; the error text, or None when it worked."""
    fd, name = None, None
    try:
        fd, name = tempfile.mkstemp(prefix=PROBE_PREFIX, dir=directory)
        os.write(fd, b"x")
        return None
    except OSError as exc:
        return exc.strerror or str(exc)
    finally:
        if fd is not None:
            os.close(fd)
        if name is not None:
            with contextlib.suppress(OSError):
                os.unlink(name)


def _under(path: Path, prefixes: tuple[str, ...]) -> str | None:
    for raw in prefixes:
        prefix = raw.lstrip("-+")  # "-" = ignore if missing, "+" = relative to RootDirectory
        if prefix and (path == Path(prefix) or Path(prefix) in path.parents):
            return prefix
    return None


def unit_forbids_write(unit: Unit | None, path: Path) -> str | None:
    """Why the bot's systemd unit may not write ``path`` (its sandbox), or None when it may."""
    if unit is None:
        return None
    if _under(path, unit.read_write_paths):
        return None
    ro = _under(path, unit.read_only_paths)
    if ro:
        return f"ReadOnlyPaths={ro} in {unit.path}"
    protect = (unit.protect_system or "").strip().lower()
    if protect == "strict" and not _under(path, ("/dev", "/proc", "/sys")):
        return f"ProtectSystem=strict in {unit.path} without a ReadWritePaths= for it"
    system = ("/usr", "/boot", "/efi") + (("/etc",) if protect == "full" else ())
    if protect in ("yes", "true", "full") and _under(path, system):
        return f"ProtectSystem={protect} in {unit.path}"
    return None


def suite_in_systemd_sandbox() -> bool:
    """The suite itself runs as a systemd service (its own ProtectSystem= may hide writes)."""
    return bool(os.environ.get("INVOCATION_ID"))


def _judged(st: os.stat_result, user: BotUser, unit: Unit | None, path: Path) -> tuple[bool, str]:
    mode = f"mode {stat.S_IMODE(st.st_mode):04o} owner {st.st_uid}:{st.st_gid}"
    forbidden = unit_forbids_write(unit, path)
    if forbidden:
        return False, f"{mode}; {forbidden}"
    return mode_allows_write(st, user), mode


def dir_state(path: Path, why: str, user: BotUser, unit: Unit | None = None) -> DirState:
    """Whether ``user``, running under ``unit`` (the bot's systemd unit, if any), can write
    ``path``; for a missing directory, whether it can create it.

    The write probe runs only as the bot's own user. When it fails because the filesystem is
    read-only *for the suite* (the suite's own unit has ProtectSystem=strict), the verdict is
    taken from the mode bits and the bot's unit instead: the suite's sandbox is not the bot's.
    """
    try:
        st = path.stat()
    except FileNotFoundError:
        return _missing_dir(path, why, user, unit)
    except OSError as exc:
        return DirState(path, why, exists=True, error=exc.strerror or str(exc))
    if not stat.S_ISDIR(st.st_mode):
        return DirState(path, why, exists=True, is_dir=False)
    forbidden = unit_forbids_write(unit, path)
    if user.uid == os.geteuid() and not forbidden:
        error = write_probe(path)
        if error is None:
            return DirState(path, why, True, True, True, "write probe")
        if not (_read_only_fs(error) and suite_in_systemd_sandbox()):
            return DirState(path, why, True, True, False, "write probe", error)
        allowed, how = _judged(st, user, unit, path)
        return DirState(
            path, why, True, True, allowed, f"{how} (the suite's own sandbox is read-only here)"
        )
    allowed, how = _judged(st, user, unit, path)
    return DirState(path, why, True, True, allowed, how)


def _read_only_fs(error: str) -> bool:
    return error == os.strerror(30)  # EROFS


def _missing_dir(path: Path, why: str, user: BotUser, unit: Unit | None) -> DirState:
    ancestor = path.parent
    while not ancestor.exists() and ancestor != ancestor.parent:
        ancestor = ancestor.parent
    try:
        st = ancestor.stat()
    except OSError as exc:
        return DirState(path, why, False, ancestor=ancestor, error=exc.strerror or str(exc))
    if not stat.S_ISDIR(st.st_mode):
        return DirState(path, why, False, ancestor=ancestor, how=f"{ancestor} is not a directory")
    forbidden = unit_forbids_write(unit, path)
    if forbidden:
        return DirState(path, why, False, ancestor=ancestor, how=forbidden)
    # Mode bits, not a probe: creating a directory to test would change the deployment.
    allowed = mode_allows_write(st, user)
    how = f"{ancestor}: mode {stat.S_IMODE(st.st_mode):04o} owner {st.st_uid}:{st.st_gid}"
    return DirState(path, why, False, ancestor=ancestor, creatable=allowed, how=how)


def world_writable(root: Path, limit: int = 200_000) -> tuple[list[Path], bool]:
    """Files and directories under ``root`` any user can write; (paths, walk truncated)."""
    found: list[Path] = []
    seen = 0
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False, onerror=lambda e: None):
        dirnames[:] = [d for d in dirnames if d not in SKIP_DIRS]
        for name in dirnames + filenames:
            seen += 1
            if seen > limit:
                return found, True
            path = Path(dirpath) / name
            try:
                st = path.lstat()
            except OSError:
                continue
            if stat.S_ISLNK(st.st_mode):
                continue
            if st.st_mode & stat.S_IWOTH:
                found.append(path)
    return found, False
