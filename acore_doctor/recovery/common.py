"""What the recovery tools share: settings, where things live, hashing, synced copies,
the audit log and crash points for fault-injection tests.

Layout (all relative to the bot's directory unless configured otherwise):

* ``backups/`` (``STATE_BACKUP_DIR``): one ``<id>.tar.gz`` archive and one
  ``<id>.manifest.jsonl`` per backup. A backup exists once its manifest exists.
* ``.acore-doctor/``: our own bookkeeping, never part of a backup or a restore:
  ``audit.jsonl`` (every action of backup/restore/repair), ``recovery-attempts.jsonl``
  (AutoRecovery) and ``restore-<id>/`` work directories (staging and the restore journal).
* ``data/.quarantine/<timestamp>/``: whatever repair took out of the way. Never deleted.
"""

from __future__ import annotations

import errno
import hashlib
import json
import math
import os
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

from acore_doctor import catalog
from acore_doctor.deployment import Deployment
from acore_doctor.fsio import fsync_dir, private_dir
from acore_doctor.redact import run_redactor
from acore_doctor.saferead import kind_of, open_regular, read_head
from acore_doctor.settings import BotSettings, parse_bool, parse_number

HOME_DIR = ".acore-doctor"
QUARANTINE_DIR = ".quarantine"
AUDIT_LOG = "audit.jsonl"
ATTEMPTS_LOG = "recovery-attempts.jsonl"
DEFAULT_BACKUP_DIR = str(catalog.SUITE_SETTINGS["STATE_BACKUP_DIR"].default)
#: Scratch data the bot recreates; never backed up, carried over by a restore.
SCRATCH_DIRS = ("temp",)
#: Directories inside data/ that belong to the recovery tools, not to the bot's state.
OWN_DIRS = (QUARANTINE_DIR,)
SQLITE_MAGIC = b"SQLite format 3\x00"
SQLITE_SUFFIXES = (".db", ".sqlite", ".sqlite3")
SQLITE_SIDECARS = ("-wal", "-shm", "-journal")
CHUNK = 1024 * 1024

#: Environment variable naming a crash point (see :func:`crash_point`); tests only.
CRASH_ENV = "ACORE_DOCTOR_CRASH_AT"
CRASH_EXIT_CODE = 197


@dataclass(frozen=True)
class RecoveryConfig:
    """The recovery settings of one deployment, read with the bot's parse rules."""

    bot_dir: Path
    env_file: Path
    backup_dir: Path
    backup_enabled: bool
    retention_days: int
    auto_enabled: bool
    max_attempts: int
    cooldown_s: float
    #: AUTO_BACKUP_ON_ERROR: AutoRecovery backs up (verified) before a repair writes.
    auto_backup: bool = False

    @property
    def home(self) -> Path:
        return self.bot_dir / HOME_DIR

    @property
    def data_dir(self) -> Path:
        return self.bot_dir / "data"

    @property
    def audit_log(self) -> Path:
        return self.home / AUDIT_LOG

    @property
    def attempts_log(self) -> Path:
        return self.home / ATTEMPTS_LOG


def recovery_config(deployment: Deployment, backup_dir: Path | str | None = None) -> RecoveryConfig:
    settings = deployment.settings
    chosen = backup_dir or settings.get("STATE_BACKUP_DIR") or DEFAULT_BACKUP_DIR

    # Parsed with the bot's rules but without noting problems on the shared settings object:
    # test_recovery_settings_valid reports these keys, once. Defaults: the suite's table.
    def value(key: str) -> Any:
        setting = catalog.SUITE_SETTINGS[key]
        if setting.kind == "bool":
            return parse_bool(key, settings.raw(key), bool(setting.default))[0]
        kind = int if setting.kind == "int" else float
        return parse_number(key, settings.raw(key), setting.default, kind)[0]  # type: ignore[arg-type]

    return RecoveryConfig(
        bot_dir=deployment.bot_dir,
        env_file=deployment.env_file,
        backup_dir=deployment.path(chosen),
        backup_enabled=value("STATE_BACKUP_ENABLED"),
        retention_days=value("RECOVERY_STATE_RETENTION"),
        auto_enabled=value("AUTO_RECOVERY_ENABLED"),
        max_attempts=value("MAX_RECOVERY_ATTEMPTS"),
        cooldown_s=value("RECOVERY_COOLDOWN"),
        auto_backup=value("AUTO_BACKUP_ON_ERROR"),
    )


def settings_problems(settings: BotSettings) -> list[str]:
    """What is wrong with the recovery settings, in words (empty when all is well)."""
    problems = []
    for key in (
        "STATE_BACKUP_ENABLED",
        "AUTO_RECOVERY_ENABLED",
        "RECOVERY_STATE_RETENTION",
        "MAX_RECOVERY_ATTEMPTS",
        "RECOVERY_COOLDOWN",
    ):
        kind = catalog.SUITE_SETTINGS[key].kind
        raw = settings.raw(key)
        if raw is None or raw == "":
            continue
        value = raw.strip()
        if kind == "bool" and value.lower() not in ("true", "false"):
            problems.append(f"{key}={raw!r} is neither 'true' nor 'false'")
            continue
        if kind in ("int", "float"):
            try:
                number = int(value) if kind == "int" else float(value)
            except ValueError:
                problems.append(f"{key}={raw!r} is not a valid {kind}")
                continue
            if not math.isfinite(number) or number <= 0:  # NaN/inf: never in range
                problems.append(f"{key}={raw!r} must be a finite number greater than 0")
    return problems


# -- time and ids -----------------------------------------------------------------------------
def utc_now() -> datetime:
    return datetime.now(UTC)


def stamp(moment: datetime | None = None) -> str:
    """A sortable, filename-safe UTC timestamp: 20260129T071900123456Z."""
    return (moment or utc_now()).astimezone(UTC).strftime("%Y%m%dT%H%M%S%fZ")


def parse_stamp(text: str) -> datetime:
    return datetime.strptime(text, "%Y%m%dT%H%M%S%fZ").replace(tzinfo=UTC)


def parse_when(text: str) -> datetime:
    """An operator's timestamp: ISO 8601 (naive means UTC) or one of our backup ids."""
    text = text.strip()
    try:
        return parse_stamp(text)
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise ValueError(
            f"{text!r} is not a timestamp; use ISO 8601 such as 2026-01-29T07:19:00Z"
        ) from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


# -- hashing and files ------------------------------------------------------------------------
def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open_regular(path) as handle:
        for block in iter(lambda: handle.read(CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def sha256_or_none(path: Path) -> str | None:
    try:
        return sha256_file(path)
    except OSError:
        return None


def copy_file_synced(source: Path, target: Path) -> None:
    """Copy bytes and mode, fsynced, so the copy survives a crash that follows."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with source.open("rb") as src, target.open("wb") as dst:
        for block in iter(lambda: src.read(CHUNK), b""):
            dst.write(block)
        dst.flush()
        os.fsync(dst.fileno())
    os.chmod(target, source.stat().st_mode & 0o777)
    fsync_dir(target.parent)


def looks_like_sqlite(path: Path) -> bool:
    if path.name.endswith(SQLITE_SUFFIXES):
        return True
    try:
        return read_head(path, 16) == SQLITE_MAGIC
    except OSError:
        return False


def is_sqlite_sidecar(path: Path) -> bool:
    for suffix in SQLITE_SIDECARS:
        if path.name.endswith(suffix):
            return path.with_name(path.name[: -len(suffix)]).exists()
    return False


def json_parses(data: bytes) -> bool:
    try:
        json.loads(data)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return False
    return True


def iter_entries(root: Path, skip_top: tuple[str, ...] = ()) -> Iterator[tuple[Path, str]]:
    """(path, kind) for everything under ``root``: kind is "dir", "file", "symlink" or what a
    special file is ("FIFO", "socket", ...; see acore_doctor.saferead.kind_of). Streamed with
    scandir so a directory of 100 000 files never becomes one big list; symlinks are reported,
    never followed; ``skip_top`` names first-level directories to leave out."""
    stack = [root]
    while stack:
        current = stack.pop()
        try:
            with os.scandir(current) as entries:
                for entry in entries:
                    path = Path(entry.path)
                    if entry.is_symlink():
                        yield path, "symlink"
                    elif entry.is_dir(follow_symlinks=False):
                        if current == root and entry.name in skip_top:
                            continue
                        stack.append(path)
                        yield path, "dir"
                    elif entry.is_file(follow_symlinks=False):
                        yield path, "file"
                    else:
                        try:
                            yield path, kind_of(entry.stat(follow_symlinks=False).st_mode)
                        except OSError:
                            continue
        except FileNotFoundError:
            continue  # removed since it was listed
        except OSError as exc:
            # Never silent: a directory nobody can list holds files nobody has copied.
            yield current, f"{UNREADABLE_PREFIX}{exc.strerror or exc}"


#: ``iter_entries`` kind of a directory that could not be listed: the prefix, then why.
UNREADABLE_PREFIX = "unreadable: "


def iter_files(root: Path, skip_top: tuple[str, ...] = ()) -> Iterator[Path]:
    """Every regular file under ``root`` (see iter_entries)."""
    return (path for path, kind in iter_entries(root, skip_top) if kind == "file")


def iter_dirs(root: Path, skip_top: tuple[str, ...] = ()) -> Iterator[Path]:
    """Every directory under ``root`` (see iter_entries)."""
    return (path for path, kind in iter_entries(root, skip_top) if kind == "dir")


# -- disk full, read-only ------------------------------------------------------------------------
def free_bytes(path: Path) -> int | None:
    """Bytes an unprivileged writer may still use on the filesystem holding ``path``."""
    for candidate in (path, *path.parents):
        try:
            st = os.statvfs(candidate)
        except OSError:
            continue
        return st.f_bavail * st.f_frsize
    return None


def mib(size: float) -> str:
    return f"{size / 2**20:,.0f} MB" if size >= 2**20 else f"{size / 2**20:,.1f} MB"


def space_problem(exc: OSError, where: Path, needs: int | None = None) -> str | None:
    """The real cause, in words, when ``exc`` is a full disk or a read-only filesystem
    (``no space left on device: needs 120 MB in /srv/bot/data, 3 MB free``); else None."""
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        free = free_bytes(where)
        wanted = f"needs {'up to ' + mib(needs) if needs else 'more room'} in {where}"
        return f"no space left on device: {wanted}" + (
            f", {mib(free)} free" if free is not None else ""
        )
    if exc.errno == errno.EROFS:
        return f"read-only file system: cannot write {where}"
    return None


# -- the audit log ----------------------------------------------------------------------------
class AuditLog:
    """Append-only JSON lines: one line per event, one write per line, fsynced."""

    def __init__(self, path: Path) -> None:
        self.path = path

    #: Fields of free text (error messages, labels) that may quote a secret; the others are
    #: paths and hashes that later actions read back, and stay exactly as they are.
    FREE_TEXT = ("detail", "label", "reason", "error")

    def append(self, **event: Any) -> dict[str, Any]:
        redact = run_redactor()
        for key in self.FREE_TEXT:
            if isinstance(event.get(key), str):
                event[key] = redact(event[key])
        record = {"when": utc_now().isoformat(timespec="microseconds"), **event}
        private_dir(self.path.parent)
        line = (json.dumps(record, sort_keys=True) + "\n").encode()
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, line)
            os.fsync(fd)
        finally:
            os.close(fd)
        return record

    def read(self) -> list[dict[str, Any]]:
        return read_jsonl(self.path)


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """Every well-formed object line; a torn last line (crash mid-write) is skipped."""
    records: list[dict[str, Any]] = []
    try:
        with path.open("rb") as handle:
            for raw in handle:
                try:
                    record = json.loads(raw)
                except ValueError:
                    continue
                if isinstance(record, dict):
                    records.append(record)
    except OSError:
        return []
    return records


# -- crash points (fault injection) --------------------------------------------------------------
_crash_counter = {"n": 0}


def crash_point(name: str, environ: Mapping[str, str] | None = None) -> None:
    """Die here, like a kill -9, when the test asks for it.

    ``ACORE_DOCTOR_CRASH_AT`` holds a step number (the Nth crash point reached in this
    process) or a crash point's name. Tests walk N = 1, 2, ... to interrupt between every
    step of a restore or a repair. Unset in normal use, it costs one dict lookup.
    """
    wanted = (environ if environ is not None else os.environ).get(CRASH_ENV)
    if not wanted:
        return
    _crash_counter["n"] += 1
    if wanted == name or wanted == str(_crash_counter["n"]):
        os._exit(CRASH_EXIT_CODE)


#: Called with (source, target) before every rename a restore or a repair makes; tests swap
#: it for one that raises at the Nth call, to crash the tool at every rename in turn.
before_rename: Callable[[Path, Path], None] | None = None


def rename(source: Path, target: Path) -> None:
    """``os.rename``, the one place the recovery tools move state (see ``before_rename``)."""
    if before_rename is not None:
        before_rename(source, target)
    os.rename(source, target)


def monotonic() -> float:
    return time.monotonic()


class HashingReader:
    """A read-only file wrapper that hashes what passes through (tarfile streams it)."""

    def __init__(self, handle: BinaryIO) -> None:
        self.handle = handle
        self.digest = hashlib.sha256()
        self.size = 0

    def read(self, size: int = -1) -> bytes:
        block = self.handle.read(size)
        self.digest.update(block)
        self.size += len(block)
        return block


def remove_tree(root: Path) -> None:
    """Remove a directory tree without listing a directory whole (``shutil.rmtree`` holds
    every entry of a directory in memory: 100 000 chat histories in one directory cost
    megabytes). Symlinks are removed, never followed."""
    if root.is_symlink() or not root.exists():
        root.unlink(missing_ok=True)
        return
    stack = [str(root)]
    while stack:
        current = stack[-1]
        descended = False
        with os.scandir(current) as entries:
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):
                    stack.append(entry.path)
                    descended = True
                    break
                os.unlink(entry.path)
        if descended:
            continue
        try:
            os.rmdir(current)
        except OSError:
            continue  # readdir may skip entries while they are unlinked: go round again
        stack.pop()
