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


def dir_state(path: Path, why: str, user: BotUser) -> DirState:
    try:
        st = path.stat()
    except FileNotFoundError:
        return DirState(path, why, exists=False)
    except OSError as exc:
        return DirState(path, why, exists=True, error=exc.strerror or str(exc))
    if not stat.S_ISDIR(st.st_mode):
        return DirState(path, why, exists=True, is_dir=False)
    if user.uid == os.geteuid():
        error = write_probe(path)
        return DirState(path, why, True, True, error is None, "write probe", error)
    allowed = mode_allows_write(st, user)
    return DirState(
        path,
        why,
        True,
        True,
        allowed,
        f"mode {stat.S_IMODE(st.st_mode):04o} owner {st.st_uid}:{st.st_gid}",
    )


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
