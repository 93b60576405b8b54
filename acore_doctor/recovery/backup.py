"""Consistent snapshots of a deployment's state: one archive plus one manifest.

What a backup holds: every file under ``data/`` (SQLite databases through the online
backup API, so a copy taken while the bot writes is consistent; JSON files re-read until
they parse, because the bot writes some of them non-atomically), ``prompts/`` and the
bot's ``.env``, each with its owner, group and mode, so a restore run as root gives the bot's
own user back exactly what it could read and write. Symlinks (``data/voice_models`` pointing
at a model disk) are stored as symlinks, never followed; one pointing outside the deployment
is named in the summary (its target's contents are not in the backup). FIFOs, sockets and
devices are never opened: they are named in the summary as not backed up. Left out:
``data/temp/`` (scratch), ``data/.quarantine/`` (the repair tool's, carried over by a restore)
and SQLite's ``-wal``/``-shm``/``-journal`` side files (the online backup holds their content).

The manifest (``<id>.manifest.jsonl``) is JSON lines in archive order: a header, one line per
directory, file and symlink (kind, size, sha256, mode, uid, gid, whether it parsed; a link's
target), and a trailer with the archive's own size and sha256, record counts for restore
drills, links pointing outside the deployment and what was not backed up. Everything streams, so
memory stays flat however large the deployment is.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import sqlite3
import tarfile
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, BinaryIO

from acore_doctor.fsio import fsync_dir
from acore_doctor.probes.databases import open_readonly
from acore_doctor.recovery.common import (
    CHUNK,
    OWN_DIRS,
    SCRATCH_DIRS,
    UNREADABLE_PREFIX,
    AuditLog,
    HashingReader,
    RecoveryConfig,
    is_sqlite_sidecar,
    iter_dirs,
    iter_entries,
    looks_like_sqlite,
    parse_stamp,
    remove_tree,
    space_problem,
    stamp,
    utc_now,
)
from acore_doctor.redact import run_redactor
from acore_doctor.saferead import not_a_file, open_regular

FORMAT = "acore-doctor-backup/1"
ARCHIVE_SUFFIX = ".tar.gz"
MANIFEST_SUFFIX = ".manifest.jsonl"
ENV_MEMBER = ".env"
#: Files up to this size are snapshotted in memory; larger ones spill to a temp file.
SPOOL_MAX = 8 * 1024 * 1024
#: JSON files larger than this are copied but not parsed (a state file is never this big).
JSON_PARSE_MAX = 64 * 1024 * 1024
#: A JSON file that does not parse is re-read this many times: the bot may be mid-write.
JSON_RETRIES = 3
#: Pages copied per step of the SQLite online backup; the bot's writers run in between.
SQLITE_PAGES_PER_STEP = 4096
GZIP_LEVEL = 1
#: tarfile's write buffer: larger writes, fewer system calls.
TAR_BUFSIZE = 1024 * 1024


@dataclass
class BackupInfo:
    """One complete backup: its archive and manifest exist."""

    id: str
    created_at: datetime
    label: str
    archive: Path
    manifest: Path

    @property
    def age(self) -> timedelta:
        return utc_now() - self.created_at

    def trailer(self) -> dict[str, Any]:
        return manifest_trailer(self.manifest)


@dataclass
class Counts:
    """Record counts of a state tree, comparable between a backup and the live deployment."""

    #: directory -> {"files": n, "items": m} for JSON documents (items: list/dict length)
    json_dirs: dict[str, dict[str, int]] = field(default_factory=dict)
    #: database path -> table -> rows
    sqlite: dict[str, dict[str, int]] = field(default_factory=dict)

    def add_json(self, relative: str, items: int | None) -> None:
        directory = relative.rsplit("/", 1)[0] if "/" in relative else "."
        slot = self.json_dirs.setdefault(directory, {"files": 0, "items": 0})
        slot["files"] += 1
        slot["items"] += items or 0

    def to_dict(self) -> dict[str, Any]:
        return {"json_dirs": self.json_dirs, "sqlite": self.sqlite}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Counts:
        return cls(dict(data.get("json_dirs") or {}), dict(data.get("sqlite") or {}))


# -- listing --------------------------------------------------------------------------------
def list_backups(backup_dir: Path) -> list[BackupInfo]:
    """Complete backups, oldest first. An archive without its manifest is not a backup."""
    found = []
    try:
        names = sorted(p.name for p in backup_dir.iterdir() if p.name.endswith(MANIFEST_SUFFIX))
    except OSError:
        return []
    for name in names:
        backup_id = name[: -len(MANIFEST_SUFFIX)]
        archive = backup_dir / (backup_id + ARCHIVE_SUFFIX)
        if not archive.is_file():
            continue
        header = manifest_header(backup_dir / name)
        try:
            created = parse_stamp(backup_id)
        except ValueError:
            continue
        found.append(
            BackupInfo(backup_id, created, str(header.get("label", "")), archive, backup_dir / name)
        )
    return found


#: The label of the live state a restore saves before replacing it.
PRE_RESTORE_LABEL = "pre-restore"


def newest_backup(
    backup_dir: Path, at: datetime | None = None, skip_labels: tuple[str, ...] = ()
) -> BackupInfo | None:
    """The newest backup taken at or before ``at``, leaving out those labelled as in
    ``skip_labels`` (a restore without --at never picks the state a restore replaced)."""
    candidates = [
        b
        for b in list_backups(backup_dir)
        if (at is None or b.created_at <= at) and b.label not in skip_labels
    ]
    return candidates[-1] if candidates else None


def backup_warnings(backup: BackupInfo) -> list[str]:
    """What makes a backup unsafe to restore without --force: databases it marks invalid
    (restoring them puts a corrupt database back) and files it could not read (the restored
    state would lack them)."""
    problems = []
    try:
        with backup.manifest.open("rb") as handle:
            for raw in handle:
                if b'"not_read"' not in raw and b'"sqlite"' not in raw:
                    continue
                try:
                    entry = json.loads(raw)
                except ValueError:
                    continue
                if entry.get("type") == "not_read":
                    problems.append(f"{entry.get('path')}: could not be read at backup time")
                elif entry.get("kind") == "sqlite" and entry.get("valid") is False:
                    problems.append(
                        f"{entry.get('path')}: the database was invalid when backed up "
                        "(failed quick_check or did not open)"
                    )
    except OSError as exc:
        problems.append(f"manifest {backup.manifest} unreadable: {exc.strerror or exc}")
    return problems


def manifest_header(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            first = handle.readline()
        record = json.loads(first)
    except (OSError, ValueError):
        return {}
    return record if isinstance(record, dict) and record.get("type") == "header" else {}


def manifest_trailer(path: Path) -> dict[str, Any]:
    """The last line, read from the end: the manifest of 100 000 files is never loaded whole."""
    try:
        with path.open("rb") as handle:
            handle.seek(0, os.SEEK_END)
            size = handle.tell()
            block = min(size, 1024 * 1024)
            handle.seek(size - block)
            tail = handle.read().rstrip(b"\n").rsplit(b"\n", 1)[-1]
        record = json.loads(tail)
    except (OSError, ValueError):
        return {}
    return record if isinstance(record, dict) and record.get("type") == "trailer" else {}


def manifest_entries(path: Path) -> Iterator[dict[str, Any]]:
    """Directory and file lines, in archive order, streamed."""
    with path.open("rb") as handle:
        for raw in handle:
            try:
                record = json.loads(raw)
            except ValueError:
                yield {"type": "unreadable", "raw": raw[:80].decode("utf-8", "replace")}
                continue
            if isinstance(record, dict) and record.get("type") in ("dir", "file", "symlink"):
                yield record


# -- what is state ----------------------------------------------------------------------------
@dataclass(frozen=True)
class StateFile:
    path: Path
    member: str  # name inside the archive, relative to the deployment
    kind: str  # "json" | "sqlite" | "env" | "file"


@dataclass(frozen=True)
class StateLink:
    path: Path
    member: str
    target: str  # as the link holds it (relative or absolute)
    outside: bool  # resolves to somewhere outside the deployment


@dataclass(frozen=True)
class NotSaved:
    """Something at a state path that a backup must not open (a FIFO, socket or device)."""

    member: str
    what: str  # "a FIFO", "a socket", ...

    def describe(self) -> str:
        return f"{self.member}: {self.what}, not backed up"


@dataclass(frozen=True)
class NotRead:
    """State that could not be read (permissions, I/O error): the backup lacks it and says so
    in its output and manifest, so nothing relies on it holding that file."""

    member: str
    reason: str

    def describe(self) -> str:
        return f"{self.member}: {self.reason}"


class BackupError(OSError):
    """The backup could not be written (disk full, read-only filesystem...); no backup and no
    partial files were left."""


StateItem = StateFile | StateLink | NotSaved | NotRead | str


def state_files(config: RecoveryConfig) -> Iterator[StateItem]:
    """The deployment's state: directories (as member names), then files (StateFile),
    symlinks (StateLink, never followed) and special files (NotSaved, never opened)."""
    bot_dir = config.bot_dir
    real_bot_dir = os.path.realpath(bot_dir)
    for top in ("data", "prompts"):
        root = bot_dir / top
        if not root.is_dir():
            continue
        skip = (*SCRATCH_DIRS, *OWN_DIRS) if top == "data" else ()
        yield top
        for directory in iter_dirs(root, skip):
            yield directory.relative_to(bot_dir).as_posix()
        for path, kind in iter_entries(root, skip):
            member = path.relative_to(bot_dir).as_posix()
            if kind == "dir":
                continue
            if kind.startswith(UNREADABLE_PREFIX):
                yield NotRead(member + "/", kind.removeprefix(UNREADABLE_PREFIX))
                continue
            if kind == "symlink":
                try:
                    target = os.readlink(path)
                except OSError:
                    continue
                resolved = os.path.realpath(path)
                inside = resolved == real_bot_dir or resolved.startswith(real_bot_dir + os.sep)
                yield StateLink(path, member, target, outside=not inside)
                continue
            if kind != "file":
                yield NotSaved(member, f"a {kind}")
                continue
            if is_sqlite_sidecar(path) or path.name.endswith(".partial"):
                continue
            if path.suffix == ".json":
                file_kind = "json"
            elif top == "data" and looks_like_sqlite(path):
                file_kind = "sqlite"
            else:
                file_kind = "file"
            yield StateFile(path, member, file_kind)
    try:
        problem = not_a_file(config.env_file)
    except OSError:
        return  # no .env (or none we may look at): nothing to back up
    if problem is None:
        yield StateFile(config.env_file, ENV_MEMBER, "env")
    else:
        yield NotSaved(ENV_MEMBER, problem.strerror.removesuffix(", not a file"))


# -- facts about one file ------------------------------------------------------------------------
def json_items(handle: BinaryIO, size: int) -> tuple[bool, int | None]:
    """(parses, number of top-level items) without raising."""
    if size > JSON_PARSE_MAX:
        return True, None
    handle.seek(0)
    try:
        document = json.load(handle)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return False, None
    finally:
        handle.seek(0)
    return True, len(document) if isinstance(document, list | dict) else None


def sqlite_facts(path: Path) -> tuple[bool, dict[str, int], str]:
    """(quick_check ok, rows per table, problem) of a database file, opened read-only."""
    try:
        conn = open_readonly(path)
    except sqlite3.Error as exc:
        return False, {}, str(exc)
    try:
        rows = conn.execute("PRAGMA quick_check").fetchall()
        problems = [r[0] for r in rows if r[0] != "ok"]
        tables = table_counts(conn)
    except sqlite3.Error as exc:
        return False, {}, str(exc)
    finally:
        conn.close()
    return not problems, tables, "; ".join(problems[:3])


def table_counts(conn: sqlite3.Connection) -> dict[str, int]:
    names = [
        r[0]
        for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'"
        )
    ]
    return {
        n: conn.execute(f'SELECT count(*) FROM "{n.replace(chr(34), chr(34) * 2)}"').fetchone()[0]
        for n in names
    }


def snapshot_sqlite(source: Path, target: Path) -> None:
    """A consistent copy through SQLite's online backup API (safe while the bot writes)."""
    src = open_readonly(source, timeout=30)
    try:
        dst = sqlite3.connect(target)
        try:
            src.backup(dst, pages=SQLITE_PAGES_PER_STEP)
        finally:
            dst.close()
    finally:
        src.close()


# -- writing a backup ---------------------------------------------------------------------------
class _HashingWriter:
    def __init__(self, handle: BinaryIO) -> None:
        import hashlib

        self.handle = handle
        self.digest = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> int:
        self.digest.update(data)
        self.size += len(data)
        return self.handle.write(data)

    def flush(self) -> None:
        self.handle.flush()

    def close(self) -> None:
        pass


def create_backup(
    config: RecoveryConfig,
    label: str = "manual",
    progress: Callable[[int, int], None] | None = None,
) -> BackupInfo:
    """Write one complete backup and return it. A kill leaves only ``*.partial`` files.
    ``progress(files, bytes)`` is called after each file (for a progress line).
    The label is free text from the caller: redacted before it is stored anywhere.

    A file or directory that cannot be read is listed in the manifest (``not_read`` lines
    and the trailer) and the audit log: the backup exists but is incomplete, and says so.
    A full disk or a read-only filesystem raises :class:`BackupError` naming the cause, with
    nothing left behind."""
    label = run_redactor()(label)
    backup_dir = config.backup_dir
    try:
        backup_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as exc:
        raise BackupError(
            space_problem(exc, backup_dir) or f"cannot create {backup_dir}: {exc}"
        ) from exc
    backup_id = stamp()
    while (backup_dir / (backup_id + MANIFEST_SUFFIX)).exists():
        time.sleep(0.001)
        backup_id = stamp()
    archive = backup_dir / (backup_id + ARCHIVE_SUFFIX)
    manifest = backup_dir / (backup_id + MANIFEST_SUFFIX)
    partials = (
        archive.with_name(archive.name + ".partial"),
        manifest.with_name(manifest.name + ".partial"),
    )
    try:
        trailer = _write_backup(config, backup_id, label, partials, progress)
        os.replace(partials[0], archive)
        os.replace(partials[1], manifest)
        fsync_dir(backup_dir)
    except OSError as exc:
        for partial in partials:
            partial.unlink(missing_ok=True)
        problem = space_problem(exc, backup_dir, needs=state_bytes(config))
        raise BackupError(problem or f"cannot write the backup in {backup_dir}: {exc}") from exc
    invalid, not_saved, not_read = trailer["invalid"], trailer["not_saved"], trailer["not_read"]
    AuditLog(config.audit_log).append(
        tool="backup",
        action="backup",
        what=str(archive),
        after_sha256=trailer["archive_sha256"],
        outcome="done" if not not_read else "incomplete",
        detail=f"{trailer['files']} files, {trailer['links']} symlinks, {trailer['bytes']} bytes, "
        f"label {label}"
        + (f", {len(invalid)} invalid: {', '.join(invalid[:5])}" if invalid else "")
        + (f", not backed up: {'; '.join(not_saved[:5])}" if not_saved else "")
        + (f", COULD NOT READ: {'; '.join(not_read[:5])}" if not_read else ""),
    )
    return BackupInfo(backup_id, parse_stamp(backup_id), label, archive, manifest)


def state_bytes(config: RecoveryConfig) -> int:
    """Bytes of the state a backup reads (for a progress line's share and a disk-space need)."""
    total = 0
    for item in state_files(config):
        if isinstance(item, StateFile):
            try:
                total += item.path.stat().st_size
            except OSError:
                continue
    return total


def _write_backup(
    config: RecoveryConfig,
    backup_id: str,
    label: str,
    partials: tuple[Path, Path],
    progress: Callable[[int, int], None] | None,
) -> dict[str, Any]:
    """Write the archive and the manifest as ``partials``; return the trailer."""
    archive_partial, manifest_partial = partials
    counts = Counts()
    files = total = links = 0
    invalid: list[str] = []
    outside: list[str] = []
    not_saved: list[str] = []
    not_read: list[str] = []
    with tempfile.TemporaryDirectory(prefix=".acore-backup-", dir=config.backup_dir) as work:
        raw = open(archive_partial, "wb", buffering=TAR_BUFSIZE)  # noqa: SIM115 - closed below
        os.chmod(archive_partial, 0o600)
        sink = _HashingWriter(raw)
        lines = open(manifest_partial, "w", encoding="utf-8")  # noqa: SIM115
        os.chmod(manifest_partial, 0o600)
        try:
            header = {
                "type": "header",
                "format": FORMAT,
                "id": backup_id,
                "created_at": parse_stamp(backup_id).isoformat(),
                "label": label,
                "bot_dir": str(config.bot_dir),
            }
            lines.write(json.dumps(header) + "\n")
            with tarfile.open(  # type: ignore[call-overload]
                fileobj=sink, mode="w:gz", compresslevel=GZIP_LEVEL, copybufsize=TAR_BUFSIZE
            ) as tar:
                for item in state_files(config):
                    if isinstance(item, str):
                        entry = _add_dir(tar, config.bot_dir / item, item)
                        if entry is not None:
                            lines.write(json.dumps(entry) + "\n")
                    elif isinstance(item, NotSaved):
                        not_saved.append(item.describe())
                    elif isinstance(item, NotRead):
                        not_read.append(item.describe())
                        lines.write(json.dumps(_not_read_line(item)) + "\n")
                    elif isinstance(item, StateLink):
                        entry = _add_link(tar, item)
                        if entry is None:
                            continue
                        links += 1
                        if item.outside:
                            outside.append(f"{item.member} -> {item.target}")
                        lines.write(json.dumps(entry) + "\n")
                    else:
                        try:
                            entry = _add_file(tar, item, Path(work), counts)
                        except _Unreadable as exc:
                            problem = NotRead(item.member, str(exc))
                            not_read.append(problem.describe())
                            lines.write(json.dumps(_not_read_line(problem)) + "\n")
                            continue
                        if entry is None:
                            continue
                        files += 1
                        total += entry["size"]
                        if not entry["valid"]:
                            invalid.append(item.member)
                        lines.write(json.dumps(entry) + "\n")
                        if progress:
                            progress(files, total)
                    # tarfile keeps every TarInfo it wrote; nothing reads them back here,
                    # and 100 000 of them would make memory grow with the deployment.
                    tar.members.clear()
            raw.flush()
            os.fsync(raw.fileno())
        except BaseException:
            lines.close()
            raise
        finally:
            raw.close()
        trailer = {
            "type": "trailer",
            "archive": archive_partial.name.removesuffix(".partial"),
            "archive_size": sink.size,
            "archive_sha256": sink.digest.hexdigest(),
            "files": files,
            "bytes": total,
            "invalid": invalid[:100],
            "links": links,
            "links_outside": outside[:100],
            "not_saved": not_saved[:100],
            "not_read": not_read[:1000],
            "not_read_count": len(not_read),
            "counts": counts.to_dict(),
        }
        try:
            lines.write(json.dumps(trailer) + "\n")
            lines.flush()
            os.fsync(lines.fileno())
        finally:
            lines.close()
    return trailer


def _not_read_line(item: NotRead) -> dict[str, Any]:
    return {"type": "not_read", "path": item.member, "error": item.reason}


class _Unreadable(Exception):
    """A state file exists but cannot be read (the message says why)."""


def _owner(st: os.stat_result) -> dict[str, Any]:
    """What a restore needs to give a path back to its owner: mode, uid, gid."""
    return {"mode": oct(st.st_mode & 0o7777), "uid": st.st_uid, "gid": st.st_gid}


def _tarinfo(member: str, st: os.stat_result) -> tarfile.TarInfo:
    info = tarfile.TarInfo(member)
    info.mode, info.uid, info.gid = st.st_mode & 0o7777, st.st_uid, st.st_gid
    info.mtime = int(st.st_mtime)
    return info


def _add_dir(tar: tarfile.TarFile, path: Path, member: str) -> dict[str, Any] | None:
    try:
        # stat, not lstat: data/ or prompts/ itself may be a symlink to the directory (its
        # contents are backed up); the directory's owner and mode are what to restore.
        st = path.stat()
    except OSError:
        return None  # gone since it was listed
    info = _tarinfo(member, st)
    info.type = tarfile.DIRTYPE
    tar.addfile(info)
    return {"type": "dir", "path": member, **_owner(st)}


def _add_link(tar: tarfile.TarFile, item: StateLink) -> dict[str, Any] | None:
    try:
        st = item.path.lstat()
    except OSError:
        return None
    info = _tarinfo(item.member, st)
    info.type, info.linkname, info.mode = tarfile.SYMTYPE, item.target, 0o777
    tar.addfile(info)
    return {
        "type": "symlink",
        "path": item.member,
        "target": item.target,
        "outside": item.outside,
        "uid": st.st_uid,
        "gid": st.st_gid,
    }


def _add_file(
    tar: tarfile.TarFile, item: StateFile, work: Path, counts: Counts
) -> dict[str, Any] | None:
    """Add one file; None when it went away since it was listed; raises _Unreadable when
    it is there but cannot be read (an OSError writing the archive propagates)."""
    try:
        stat = item.path.stat()
        if not_a_file(item.path) is not None:
            return None  # swapped for a FIFO or device since it was listed: never opened
    except FileNotFoundError:
        return None  # gone since it was listed (the bot rotated it)
    except OSError as exc:
        raise _Unreadable(exc.strerror or str(exc)) from exc
    records: dict[str, int] | int | None = None
    if item.kind == "sqlite":
        snapshot = work / "snapshot.db"
        snapshot.unlink(missing_ok=True)
        try:
            snapshot_sqlite(item.path, snapshot)
            valid, tables, _problem = sqlite_facts(snapshot)
            source = snapshot
        except sqlite3.Error as exc:
            if "disk is full" in str(exc) or snapshot_full(snapshot):
                raise OSError(errno.ENOSPC, f"database or disk is full ({exc})") from exc
            # Unreadable as a database: keep its bytes, so nothing is lost, and say so.
            valid, tables, source = False, {}, item.path
        if valid:
            counts.sqlite[item.member] = tables
        records = tables
        entry = _stream_into(tar, source, item, stat)
        snapshot.unlink(missing_ok=True)
        if entry is None:
            return None
    else:
        entry = None
        for attempt in range(JSON_RETRIES if item.kind == "json" else 1):
            entry = _copy_regular(tar, item, stat, work, counts, last=attempt == JSON_RETRIES - 1)
            if entry is not None or item.kind != "json":
                break
            time.sleep(0.05)
        if entry is None:
            return None
        records = entry.pop("items")
    entry["records"] = records
    entry.setdefault("valid", valid if item.kind == "sqlite" else True)
    return entry


def snapshot_full(snapshot: Path) -> bool:
    """Whether the filesystem of the snapshot has no room left (SQLite says only "I/O")."""
    try:
        st = os.statvfs(snapshot.parent)
    except OSError:
        return False
    return st.f_bavail * st.f_frsize < 64 * 1024


def _copy_regular(
    tar: tarfile.TarFile,
    item: StateFile,
    stat: os.stat_result,
    work: Path,
    counts: Counts,
    last: bool,
) -> dict[str, Any] | None:
    """Read a file once (hashing it as it is read) into a spool (memory, or a temporary file
    when large), then add it: the tar header's size is then that of the bytes read, however
    the live file changes meanwhile. A JSON file is parsed first: one that does not parse is
    retried by the caller (the bot may be mid-write) unless this is the ``last`` attempt."""
    try:
        handle = open_regular(item.path)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise _Unreadable(exc.strerror or str(exc)) from exc
    with handle:
        spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_MAX, dir=work)  # noqa: SIM115
        with spool:
            digest = hashlib.sha256()
            size = 0
            try:
                for block in iter(lambda: handle.read(CHUNK), b""):
                    digest.update(block)
                    spool.write(block)
                    size += len(block)
            except OSError as exc:
                if exc.errno in (errno.ENOSPC, errno.EROFS, errno.EDQUOT):
                    raise
                raise _Unreadable(exc.strerror or str(exc)) from exc
            valid, items = (True, None)
            if item.kind == "json":
                valid, items = json_items(spool, size)
                if not valid and not last:
                    return None
            info = _tarinfo(item.member, stat)
            info.size = size
            spool.seek(0)
            tar.addfile(info, spool)
    if item.kind == "json" and valid:
        counts.add_json(item.member, items)
    return _file_entry(item, stat, size, digest.hexdigest(), valid, items)


def _file_entry(
    item: StateFile, stat: os.stat_result, size: int, sha256: str, valid: bool, items: Any
) -> dict[str, Any]:
    return {
        "type": "file",
        "path": item.member,
        "kind": item.kind,
        "size": size,
        "sha256": sha256,
        **_owner(stat),
        "mtime": stat.st_mtime,
        "valid": valid,
        "items": items,
    }


def _stream_into(
    tar: tarfile.TarFile, source: Path, item: StateFile, stat: os.stat_result
) -> dict[str, Any] | None:
    try:
        handle = open_regular(source)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise _Unreadable(exc.strerror or str(exc)) from exc
    with handle:
        size = os.fstat(handle.fileno()).st_size
        info = _tarinfo(item.member, stat)
        info.size = size
        reader = HashingReader(handle)
        tar.addfile(info, reader)  # type: ignore[arg-type]
    entry = _file_entry(item, stat, size, reader.digest.hexdigest(), True, None)
    del entry["valid"], entry["items"]
    return entry


# -- live counts (for drills) -------------------------------------------------------------------
def live_counts(
    config: RecoveryConfig, progress: Callable[[int, int], None] | None = None
) -> Counts:
    """The same record counts as a backup's trailer, read from the live deployment (read-only).
    ``progress(files, bytes)`` after each file, for a progress line."""
    counts = Counts()
    files = size = 0
    for item in state_files(config):
        if not isinstance(item, StateFile):
            continue
        if progress is not None:
            with contextlib.suppress(OSError):
                size += item.path.stat().st_size
            files += 1
            progress(files, size)
        if item.kind == "json":
            try:
                with open_regular(item.path) as handle:
                    valid, items = json_items(handle, os.fstat(handle.fileno()).st_size)
            except OSError:
                continue
            if valid:
                counts.add_json(item.member, items)
        elif item.kind == "sqlite":
            ok, tables, _ = sqlite_facts(item.path)
            if ok:
                counts.sqlite[item.member] = tables
    return counts


# -- retention ----------------------------------------------------------------------------------
def expired_backups(config: RecoveryConfig, now: datetime | None = None) -> list[BackupInfo]:
    """Backups older than the retention, never the newest one."""
    backups = list_backups(config.backup_dir)
    limit = (now or utc_now()) - timedelta(days=max(config.retention_days, 1))
    return [b for b in backups[:-1] if b.created_at < limit]


def prune_backups(config: RecoveryConfig, now: datetime | None = None) -> list[BackupInfo]:
    """Apply ``RECOVERY_STATE_RETENTION``: remove expired backups (manifest first, so a kill
    leaves an archive nobody lists rather than a manifest pointing at nothing)."""
    audit = AuditLog(config.audit_log)
    removed = []
    for backup in expired_backups(config, now):
        backup.manifest.unlink(missing_ok=True)
        backup.archive.unlink(missing_ok=True)
        audit.append(
            tool="backup",
            action="prune",
            what=str(backup.archive),
            outcome="done",
            detail=f"older than {config.retention_days} days (RECOVERY_STATE_RETENTION)",
        )
        removed.append(backup)
    _remove_stale_partials(config, now)
    return removed


def _remove_stale_partials(config: RecoveryConfig, now: datetime | None) -> None:
    """A backup killed half-way leaves ``*.partial`` files and a work directory that nothing
    lists; after a day they are certainly not in progress."""
    limit = (now or utc_now()).timestamp() - 86400
    try:
        leftovers = [
            p
            for p in config.backup_dir.iterdir()
            if p.name.endswith(".partial") or p.name.startswith(".acore-backup-")
        ]
    except OSError:
        return
    for path in leftovers:
        try:
            if path.lstat().st_mtime >= limit:
                continue
            if path.is_dir() and not path.is_symlink():
                remove_tree(path)
            else:
                path.unlink()
        except OSError:
            continue
        AuditLog(config.audit_log).append(
            tool="backup",
            action="prune",
            what=str(path),
            outcome="done",
            detail="left by an interrupted backup more than a day ago",
        )


def read_member_bytes(backup: BackupInfo, member: str, limit: int = JSON_PARSE_MAX) -> bytes | None:
    """One file's bytes out of a backup (streamed to it; None when absent or too big)."""
    try:
        with tarfile.open(backup.archive, mode="r|gz") as tar:
            for info in tar:
                if info.name == member and info.isfile():
                    if info.size > limit:
                        return None
                    handle = tar.extractfile(info)
                    return handle.read() if handle else None
                tar.members.clear()
    except (OSError, tarfile.TarError, EOFError):
        return None
    return None


def manifest_entry(backup: BackupInfo, member: str) -> dict[str, Any] | None:
    for entry in manifest_entries(backup.manifest):
        if entry.get("path") == member and entry.get("type") == "file":
            return entry
    return None


__all__ = [
    "BackupInfo",
    "Counts",
    "create_backup",
    "expired_backups",
    "list_backups",
    "live_counts",
    "manifest_entries",
    "manifest_trailer",
    "newest_backup",
    "prune_backups",
    "sqlite_facts",
]
