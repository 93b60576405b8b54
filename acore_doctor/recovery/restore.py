"""Restore a backup: verify, stage, check, then swap in under a journal.

Steps, each followed by a crash point for the fault-injection tests:

1. verify the archive's sha256 against the manifest, then extract it into a staging
   directory next to the deployment (same filesystem), checking every file's sha256 and size
   in manifest order, that JSON parses and that SQLite passes ``quick_check``;
2. write the journal (state ``staged``); take a pre-restore backup of the live state;
3. set the journal to ``swapping`` — the commit point — and rename each component
   (``data/``, ``prompts/``, ``.env``) aside and the staged one in; carry ``data/.quarantine``
   and ``data/temp`` over; set the journal to ``done``; clean up.

A kill before the commit point leaves the live deployment untouched (wholly old); the next
recovery command removes the staging. A kill after it is rolled forward by the next
recovery command (``acore-doctor restore --resume``, or any of backup/restore/repair/recover)
to the restored state (wholly new). The check ``test_no_interrupted_restore`` reports a
journal left pending.
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import json
import os
import shutil
import sqlite3
import stat
import tarfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import Any

from acore_doctor.fsio import fsync_dir, write_json_atomic
from acore_doctor.probes.databases import open_readonly
from acore_doctor.progress import active as active_progress
from acore_doctor.progress import report as report_progress
from acore_doctor.recovery.backup import (
    ENV_MEMBER,
    JSON_PARSE_MAX,
    PRE_RESTORE_LABEL,
    BackupError,
    BackupInfo,
    Counts,
    backup_warnings,
    create_backup,
    list_backups,
    live_counts,
    manifest_entries,
    newest_backup,
    state_bytes,
)
from acore_doctor.recovery.common import (
    CHUNK,
    OWN_DIRS,
    QUARANTINE_DIR,
    SCRATCH_DIRS,
    AuditLog,
    RecoveryConfig,
    copy_file_synced,
    crash_point,
    free_bytes,
    json_parses,
    mib,
    remove_tree,
    rename,
    sha256_file,
    space_problem,
    stamp,
)
from acore_doctor.saferead import OWN_FILE_MAX, read_text_bounded

JOURNAL = "journal.json"
#: Directories of live data/ that a restore carries into the restored data/.
CARRIED = (*OWN_DIRS, *SCRATCH_DIRS)


class RestoreError(Exception):
    """A restore refused to go on; the deployment was not changed."""


@dataclass
class StageReport:
    backup: BackupInfo
    staged: Path
    files: int = 0
    bytes: int = 0
    links: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


# -- verifying and staging -----------------------------------------------------------------------
def archive_problems(backup: BackupInfo) -> list[str]:
    trailer = backup.trailer()
    if not trailer:
        return [f"manifest {backup.manifest.name} has no trailer: the backup is incomplete"]
    try:
        size = backup.archive.stat().st_size
        digest = sha256_file(backup.archive)
    except OSError as exc:
        return [f"archive {backup.archive} unreadable: {exc.strerror or exc}"]
    problems = []
    if size != trailer.get("archive_size"):
        problems.append(
            f"archive {backup.archive.name} is {size} bytes, the manifest says "
            f"{trailer.get('archive_size')}"
        )
    if digest != trailer.get("archive_sha256"):
        problems.append(
            f"archive {backup.archive.name} sha256 {digest[:12]}... does not match the manifest's "
            f"{str(trailer.get('archive_sha256'))[:12]}..."
        )
    return problems


def safe_member(name: str) -> bool:
    path = PurePosixPath(name)
    return bool(name) and not path.is_absolute() and ".." not in path.parts


LivePath = Callable[[str], Path]


def stage_backup(
    backup: BackupInfo,
    staged: Path,
    check_content: bool = True,
    live: LivePath | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> StageReport:
    """Extract ``backup`` into ``staged`` (created), verifying as it goes. Streams: memory
    stays flat. Never raises for a bad backup; the report lists its problems.

    Every file, directory and symlink gets the mode, owner and group the manifest recorded;
    a manifest from before owners were recorded gives each the owner and mode of the live path
    it will replace (``live(member)``). Owners are set only when running as root."""
    report = StageReport(backup, staged)
    report.problems = archive_problems(backup)
    if report.problems:
        return report
    staged.mkdir(parents=True, exist_ok=True, mode=0o700)
    entries = manifest_entries(backup.manifest)
    directories: list[tuple[Path, dict[str, Any]]] = []
    try:
        with tarfile.open(backup.archive, mode="r|gz") as tar:
            for info in tar:
                expected = next(entries, None)
                problem = _stage_member(
                    tar, info, expected, staged, check_content, report, live, directories
                )
                tar.members.clear()  # see create_backup: keep memory flat
                if progress is not None:
                    progress(report.files, report.bytes)
                if problem:
                    report.problems.append(problem)
                    if len(report.problems) >= 20:
                        report.problems.append("(stopped after 20 problems)")
                        return report
    except OSError as exc:
        # A full disk or a read-only filesystem is the staging's problem, not the backup's.
        problem = space_problem(exc, staged.parent, needs=backup.trailer().get("bytes"))
        if problem:
            raise
        report.problems.append(f"archive {backup.archive.name} unreadable: {exc}")
        return report
    except (tarfile.TarError, EOFError, ValueError) as exc:
        report.problems.append(f"archive {backup.archive.name} unreadable: {exc}")
        return report
    leftover = next(entries, None)
    if leftover is not None:
        report.problems.append(
            f"manifest lists {leftover.get('path')!r} (and maybe more) that the archive lacks"
        )
    # Directories last and deepest first: a 0500 directory still takes its files first.
    for target, expected in reversed(directories):
        give_back(target, expected, live(expected["path"]) if live else None)
    return report


def give_back(target: Path, recorded: dict[str, Any], replaced: Path | None) -> None:
    """Give ``target`` the mode, owner and group recorded in the manifest; what is not
    recorded (an older backup) comes from ``replaced``, the live path it replaces. Symlinks
    get their owner only (a link has no mode of its own). Owners change only as root."""
    try:
        current = replaced.lstat() if replaced is not None else None
    except OSError:
        current = None
    is_link = target.is_symlink()
    uid, gid = recorded.get("uid"), recorded.get("gid")
    if uid is None and current is not None:
        uid, gid = current.st_uid, current.st_gid
    if uid is not None and os.geteuid() == 0:
        # Before chmod: chown clears set-id bits.
        os.lchown(target, int(uid), int(gid) if gid is not None else -1)
    if is_link:
        return
    mode = recorded.get("mode")
    if mode is not None:
        os.chmod(target, int(str(mode), 8))
    elif current is not None:
        os.chmod(target, stat.S_IMODE(current.st_mode))


def _inside(root: Path, path: Path) -> bool:
    real_root, real = os.path.realpath(root), os.path.realpath(path)
    return real == real_root or real.startswith(real_root + os.sep)


def _stage_member(
    tar: tarfile.TarFile,
    info: tarfile.TarInfo,
    expected: dict[str, Any] | None,
    staged: Path,
    check_content: bool,
    report: StageReport,
    live: LivePath | None = None,
    directories: list[tuple[Path, dict[str, Any]]] | None = None,
) -> str | None:
    if expected is None:
        return f"archive holds {info.name!r} that the manifest does not list"
    if expected.get("path") != info.name:
        return f"archive holds {info.name!r} where the manifest lists {expected.get('path')!r}"
    if not safe_member(info.name):
        return f"refusing unsafe path {info.name!r} in the archive"
    target = staged / info.name
    if report.links and not _inside(staged, target.parent):
        # A symlink staged earlier would carry this member out of the staging directory.
        return f"refusing {info.name!r}: its directory is a symlink in the archive"
    replaced = live(info.name) if live else None
    if info.isdir():
        if expected.get("type") != "dir":
            return f"{info.name}: a directory in the archive, a file in the manifest"
        target.mkdir(parents=True, exist_ok=True)
        if directories is not None:
            directories.append((target, expected))
        return None
    if info.issym():
        if expected.get("type") != "symlink" or expected.get("target") != info.linkname:
            return (
                f"{info.name}: a symlink to {info.linkname!r} in the archive, the manifest says "
                f"{expected.get('type')} {expected.get('target', '')!r}".rstrip(" '")
            )
        target.parent.mkdir(parents=True, exist_ok=True)
        os.symlink(info.linkname, target)
        give_back(target, expected, replaced)
        report.links += 1
        return None
    if not info.isfile() or expected.get("type") != "file":
        return f"{info.name}: not a regular file (type {info.type!r}), refused"
    target.parent.mkdir(parents=True, exist_ok=True)
    source = tar.extractfile(info)
    if source is None:
        return f"{info.name}: unreadable in the archive"
    digest = hashlib.sha256()
    size = 0
    with target.open("wb") as handle:
        for block in iter(lambda: source.read(CHUNK), b""):
            digest.update(block)
            size += len(block)
            handle.write(block)
    give_back(target, expected, replaced)
    report.files += 1
    report.bytes += size
    if size != expected.get("size") or digest.hexdigest() != expected.get("sha256"):
        return (
            f"{info.name}: {size} bytes sha256 {digest.hexdigest()[:12]}..., the manifest says "
            f"{expected.get('size')} bytes sha256 {str(expected.get('sha256'))[:12]}..."
        )
    if not check_content or not expected.get("valid", True):
        return None
    kind = expected.get("kind")
    if kind == "json" and size <= JSON_PARSE_MAX and not json_parses(target.read_bytes()):
        return f"{info.name}: does not parse as JSON after restore"
    if kind == "sqlite":
        verdict = quick_check(target)
        if verdict != "ok":
            return f"{info.name}: quick_check says {verdict}"
    return None


def quick_check(path: Path) -> str:
    try:
        conn = open_readonly(path)
        try:
            rows = conn.execute("PRAGMA quick_check").fetchall()
        finally:
            conn.close()
    except sqlite3.Error as exc:
        return str(exc)
    messages = [r[0] for r in rows]
    return "ok" if messages == ["ok"] else "; ".join(messages[:3])


def staged_counts(staged: Path, progress: Callable[[int, int], None] | None = None) -> Counts:
    """Record counts of a staged tree, computed the way live counts are."""
    config = RecoveryConfig(
        bot_dir=staged,
        env_file=staged / ENV_MEMBER,
        backup_dir=staged / ".none",
        backup_enabled=False,
        retention_days=1,
        auto_enabled=False,
        max_attempts=1,
        cooldown_s=1,
    )
    return live_counts(config, progress)


def compare_counts(restored: Counts, live: Counts, tolerance: float = 0.5) -> list[str]:
    """Where the restored records fall short of live by more than ``tolerance`` (a share)."""
    problems = []
    for directory, live_slot in sorted(live.json_dirs.items()):
        got = restored.json_dirs.get(directory, {"files": 0, "items": 0})
        for key in ("files", "items"):
            if got[key] < live_slot[key] * (1 - tolerance):
                problems.append(
                    f"{directory}: {got[key]} JSON {key} restored, {live_slot[key]} live"
                )
    for database, tables in sorted(live.sqlite.items()):
        restored_tables = restored.sqlite.get(database)
        if restored_tables is None:
            problems.append(f"{database}: in the live deployment, not in the backup")
            continue
        for table, rows in sorted(tables.items()):
            got = restored_tables.get(table, 0)
            if got < rows * (1 - tolerance):
                problems.append(f"{database} table {table}: {got} rows restored, {rows} live")
    return problems


# -- the swap ------------------------------------------------------------------------------
@contextmanager
def recovery_lock(config: RecoveryConfig) -> Iterator[None]:
    """One restore or repair at a time on a deployment."""
    config.home.mkdir(parents=True, exist_ok=True, mode=0o700)
    with open(config.home / "recovery.lock", "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise RestoreError(
                "another acore-doctor restore or repair is running on this deployment"
            ) from exc
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _directory_component(
    config: RecoveryConfig, work: Path, restore_id: str, name: str
) -> dict[str, Any]:
    """Where the top-level directory ``name`` is swapped. When it is a symlink (data ->
    /mnt/disk/data) the restore goes *through* it: the swap happens next to the directory
    the link points to (a rename only works within one filesystem), and the link itself is
    never touched. A link whose directory is missing (a disk not mounted) is refused: the
    restore would otherwise write the data where the disk should be."""
    live = config.bot_dir / name
    if not live.is_symlink():
        return {
            "name": name,
            "live": str(live),
            "staged": str(work / "staged" / name),
            "previous": str(work / "previous" / name),
        }
    real = Path(os.path.realpath(live))
    if not real.is_dir():
        raise RestoreError(
            f"{live} is a symlink to {real}, which is not a directory (a disk not mounted?); "
            "nothing changed. Mount it, or replace the link, then restore again"
        )
    return {
        "name": name,
        "live": str(real),
        "staged": str(real.with_name(f".{real.name}.acore-restore-{restore_id}")),
        "previous": str(real.with_name(f".{real.name}.pre-restore-{restore_id}")),
        "through_link": str(live),
    }


def _components(config: RecoveryConfig, work: Path, restore_id: str) -> list[dict[str, Any]]:
    env = config.env_file
    if env.is_symlink() and env.is_file():
        # .env -> /etc/acore/env: restored through the link, like a linked data/.
        env = Path(os.path.realpath(env))
    return [
        _directory_component(config, work, restore_id, "data"),
        _directory_component(config, work, restore_id, "prompts"),
        {
            # Next to the live file: .env may live outside the bot's directory, and a
            # rename only works within one filesystem.
            "name": ENV_MEMBER,
            "live": str(env),
            "staged": str(env.with_name(f"{env.name}.acore-restore-{restore_id}")),
            "previous": str(env.with_name(f"{env.name}.pre-restore-{restore_id}")),
        },
    ]


@dataclass
class RestoreResult:
    backup: BackupInfo
    dry_run: bool
    stage: StageReport
    pre_restore: str | None = None
    pre_bytes: int = 0
    live: Counts | None = None
    restored: Counts | None = None


def restore(
    config: RecoveryConfig,
    at: datetime | None = None,
    dry_run: bool = False,
    say: Callable[[str], None] = print,
    force: bool = False,
    progress: Callable[[str, int | None], Callable[[int, int], None]] | None = None,
) -> RestoreResult:
    """Restore the newest backup taken at or before ``at`` (without ``at``: the newest that
    is not a pre-restore snapshot, so a second restore does not undo the first). Raises
    RestoreError, having changed nothing, when there is no usable backup, when the backup
    marks a database invalid or lacks files it could not read (unless ``force``), or when
    the disk has no room for the staging and the pre-restore backup.
    ``progress(verb, total_bytes)`` gives a ``(files, bytes)`` callback per phase."""
    with recovery_lock(config):
        for line in finish_interrupted_restores(config):
            say(line)
        skip = () if at is not None else (PRE_RESTORE_LABEL,)
        backup = newest_backup(config.backup_dir, at, skip_labels=skip)
        if backup is None:
            when = f" taken at or before {at.isoformat()}" if at else ""
            raise RestoreError(f"no backup{when} in {config.backup_dir}")
        warnings = backup_warnings(backup)
        if warnings and not force:
            raise RestoreError(
                f"backup {backup.id} is not safe to restore, nothing changed: "
                + "; ".join(warnings[:5])
                + (f" (and {len(warnings) - 5} more)" if len(warnings) > 5 else "")
                + ". Pick another with --at, or restore it anyway with --force"
            )
        for warning in warnings:
            say(f"warning (--force): {warning}")
        restore_id = stamp()
        work = config.home / f"restore-{restore_id}"
        try:
            work.mkdir(parents=True, mode=0o700)
            _check_room(config, backup, work, dry_run)
            result = _stage_and_prepare(config, backup, work, restore_id, dry_run, say, progress)
        except RestoreError:
            _drop_staging(work)
            raise
        except BackupError as exc:
            _drop_staging(work)
            raise RestoreError(
                f"the pre-restore backup of the live state failed, nothing changed: {exc}"
            ) from exc
        except OSError as exc:
            _drop_staging(work)
            needs = backup.trailer().get("bytes")
            cause = space_problem(exc, work.parent, needs=needs) or str(exc)
            raise RestoreError(f"restore stopped before changing anything: {cause}") from exc
        if dry_run:
            return result
        journal = json.loads(read_text_bounded(work / JOURNAL, OWN_FILE_MAX, "strict"))
        journal.update(state="swapping", pre_restore_backup=result.pre_restore)
        write_json_atomic(work / JOURNAL, journal)  # the commit point
        crash_point("restore:swapping")
        # The replaced state is hashed against its backup before anything of it is deleted.
        line = progress("checking the replaced state", result.pre_bytes) if progress else None
        try:
            with active_progress(line):
                _roll_forward(config, work, journal)
        except OSError as exc:
            raise RestoreError(
                f"restore stopped half-way: {exc}. Fix the cause, then run "
                "'acore-doctor restore --resume' to finish it"
            ) from exc
        say(f"restored backup {backup.id}; the previous state is backup {result.pre_restore}")
        if journal.get("quarantined"):
            say(
                f"{journal['quarantined']} file(s) of the previous state were not byte-for-byte "
                f"in its backup and were moved to {journal.get('quarantine')}"
            )
        return result


def _check_room(config: RecoveryConfig, backup: BackupInfo, work: Path, dry_run: bool) -> None:
    """Refuse, before anything is written, when the staging (the backup's bytes, next to the
    deployment) and the pre-restore backup (at most the live state's bytes, in the backup
    directory) cannot fit on their filesystems."""
    wanted: dict[int, list[Any]] = {}  # device -> [bytes, a path on it]
    parts = [(work.parent, int(backup.trailer().get("bytes") or 0))]
    if not dry_run:
        parts.append((config.backup_dir, state_bytes(config)))
    for where, size in parts:
        try:
            device = _device(where)
        except OSError:
            continue
        slot = wanted.setdefault(device, [0, where])
        slot[0] += size
    for size, where in wanted.values():
        free = free_bytes(where)
        if free is not None and size > free:
            raise RestoreError(
                f"no space left on device: needs up to {mib(size)} in {where} ({mib(free)} "
                "free) for the staging" + ("" if dry_run else " and the pre-restore backup")
            )


def _device(path: Path) -> int:
    for candidate in (path, *path.parents):
        try:
            return candidate.stat().st_dev
        except FileNotFoundError:
            continue
    raise OSError(f"{path}: no existing parent")


def _stage_and_prepare(
    config: RecoveryConfig,
    backup: BackupInfo,
    work: Path,
    restore_id: str,
    dry_run: bool,
    say: Callable[[str], None],
    progress: Callable[[str, int | None], Callable[[int, int], None]] | None = None,
) -> RestoreResult:
    """Everything before the commit point: nothing live changes here."""
    say(f"verifying and staging backup {backup.id} ({backup.label}) from {backup.archive}")
    step = progress("verifying and staging", backup.trailer().get("bytes")) if progress else None
    stage = stage_backup(backup, work / "staged", live=_live_path(config), progress=step)
    crash_point("restore:staged")
    result = RestoreResult(backup, dry_run, stage)
    if not stage.ok:
        remove_tree(work)
        AuditLog(config.audit_log).append(
            tool="restore",
            action="restore",
            what=str(backup.archive),
            outcome="refused",
            detail="; ".join(stage.problems[:5]),
        )
        raise RestoreError(
            f"backup {backup.id} failed verification, nothing changed: "
            + "; ".join(stage.problems[:5])
        )
    total = int(backup.trailer().get("bytes") or 0)
    step = progress("counting the backup's records", total) if progress else None
    result.restored = staged_counts(work / "staged", step)
    step = progress("counting the live records", state_bytes(config)) if progress else None
    result.live = live_counts(config, step)
    if dry_run:
        remove_tree(work)
        return result
    components = _components(config, work, restore_id)
    for component in components:
        component["in_backup"] = (work / "staged" / component["name"]).exists()
    journal = {
        "id": restore_id,
        "backup_id": backup.id,
        "state": "staged",
        "components": components,
    }
    write_json_atomic(work / JOURNAL, journal)
    staged_env = work / "staged" / ENV_MEMBER
    if staged_env.exists():
        # shutil.move: .env may live on another filesystem than the bot's directory; a copy
        # across filesystems keeps the mode but not the owner, so that is given back after.
        owner = staged_env.stat()
        shutil.move(staged_env, components[2]["staged"])
        give_back(
            Path(components[2]["staged"]),
            {"mode": oct(stat.S_IMODE(owner.st_mode)), "uid": owner.st_uid, "gid": owner.st_gid},
            None,
        )
        fsync_dir(config.env_file.parent)
    for component in components:
        if "through_link" in component and component["in_backup"]:
            staged_dir = Path(component["staged"])
            _move_tree_keeping_owners(work / "staged" / component["name"], staged_dir)
            fsync_dir(staged_dir.parent)
    crash_point("restore:journal")
    say("taking a pre-restore backup of the live state")
    step = progress("saving the live state", state_bytes(config)) if progress else None
    pre = create_backup(config, label=PRE_RESTORE_LABEL, progress=step)
    result.pre_restore = pre.id
    result.pre_bytes = int(pre.trailer().get("bytes") or 0)
    crash_point("restore:pre-backup")
    return result


def _live_path(config: RecoveryConfig) -> LivePath:
    """The live path a staged member replaces (.env may live outside the bot's directory)."""

    def live(member: str) -> Path:
        return config.env_file if member == ENV_MEMBER else config.bot_dir / member

    return live


def _drop_staging(work: Path) -> None:
    """Undo a restore that had not reached its commit point (live was never touched)."""
    try:
        journal = json.loads(read_text_bounded(work / JOURNAL, OWN_FILE_MAX, "strict"))
    except (OSError, ValueError):
        journal = None
    if journal:
        for component in journal["components"]:
            if component["name"] == ENV_MEMBER:
                Path(component["staged"]).unlink(missing_ok=True)
            elif "through_link" in component:
                remove_tree(Path(component["staged"]))
    remove_tree(work)


def _move_tree_keeping_owners(source: Path, target: Path) -> None:
    """Move a staged tree to ``target``, which may be on another filesystem (the disk a
    data/ symlink points to). A copy across filesystems keeps modes but not owners, so
    owners (and then modes: chown clears set-id bits) are given back from the source."""
    try:
        os.rename(source, target)
        return
    except OSError as exc:
        if exc.errno != errno.EXDEV:
            raise
    if target.exists() or target.is_symlink():
        remove_tree(target)  # a partial copy from an interrupted attempt
    shutil.copytree(source, target, symlinks=True)
    for folder, dirs, files in os.walk(source):
        for entry in [".", *dirs, *files]:
            original = Path(folder) / entry
            copy = target / original.relative_to(source)
            st = original.lstat()
            if os.geteuid() == 0:
                os.lchown(copy, st.st_uid, st.st_gid)
            if not stat.S_ISLNK(st.st_mode):
                os.chmod(copy, stat.S_IMODE(st.st_mode))
    remove_tree(source)


def _roll_forward(config: RecoveryConfig, work: Path, journal: dict[str, Any]) -> None:
    for component in journal["components"]:
        _swap(work, component)
    data = next(c for c in journal["components"] if c["name"] == "data")
    _carry_over(config, work, Path(data["previous"]))
    journal["state"] = "done"
    write_json_atomic(work / JOURNAL, journal)
    crash_point("restore:done")
    AuditLog(config.audit_log).append(
        tool="restore",
        action="restore",
        what=f"backup {journal['backup_id']}",
        outcome="done",
        detail=f"pre-restore state kept as backup {journal.get('pre_restore_backup')}",
    )
    _clean_up(config, work, journal)


def _swap(work: Path, component: dict[str, Any]) -> None:
    """Idempotent: works out from the filesystem where this component's swap got to."""
    name = component["name"]
    live, staged, previous = (Path(component[k]) for k in ("live", "staged", "previous"))
    if component["in_backup"] and not staged.exists():
        return  # already moved in
    if live.exists() or live.is_symlink():
        if previous.exists() or previous.is_symlink():
            # Something recreated the path after we moved the old one aside (a running
            # bot); keep it too, never overwrite it.
            late = work / "late" / f"{name}-{stamp()}"
            late.parent.mkdir(parents=True, exist_ok=True)
            if "through_link" in component:
                # Kept next to the linked directory (same filesystem); the note in the work
                # directory keeps the journal, so the operator is told where it is.
                note, late = late.with_suffix(".where"), previous.with_name(late.name)
                note.write_text(f"{late}\n")
            rename(live, late)
        else:
            previous.parent.mkdir(parents=True, exist_ok=True)
            rename(live, previous)
        fsync_dir(live.parent)
        crash_point(f"restore:moved-old:{name}")
    if component["in_backup"]:
        rename(staged, live)
        fsync_dir(live.parent)
        crash_point(f"restore:moved-new:{name}")


def _carry_over(config: RecoveryConfig, work: Path, previous: Path) -> None:
    data = config.bot_dir / "data"
    if not data.is_dir():
        return
    for name in CARRIED:
        source, target = previous / name, data / name
        if source.exists() and not target.exists():
            rename(source, target)
            fsync_dir(data)
            crash_point(f"restore:carried:{name}")
    temp = data / "temp"
    if not temp.exists():
        # Scratch the bot writes: created for the bot's user, not for root.
        temp.mkdir()
        owner = data.stat()
        if os.geteuid() == 0:
            os.chown(temp, owner.st_uid, owner.st_gid)
        os.chmod(temp, stat.S_IMODE(owner.st_mode))


def _clean_up(config: RecoveryConfig, work: Path, journal: dict[str, Any]) -> None:
    """Dispose of the moved-aside state: a file is deleted only when it is byte-for-byte
    (size and sha256) in the pre-restore backup, whose archive is verified first; anything
    else (a file that could not be read or backed up, a database whose snapshot differs, a
    WAL, a link that changed) goes to ``data/.quarantine/restore-<id>/``. The journal goes
    last: until then a rerun finishes the job (each step can be repeated)."""
    quarantine = config.data_dir / QUARANTINE_DIR / f"restore-{journal['id']}"
    _checked[0] = 0
    with _BackedUp(config, journal.get("pre_restore_backup"), work / "backed-up.db") as known:
        moved = 0
        for component in journal["components"]:
            previous = Path(component["previous"])
            moved += _dispose(previous, component["name"], known, quarantine / component["name"])
        moved += _dispose(work / "previous", "", known, quarantine / "other")
    for left in [*(Path(c["previous"]) for c in journal["components"]), work / "previous"]:
        if left.exists() or left.is_symlink():
            # Never deleted with the work directory: the journal stays, a rerun tries again.
            raise OSError(errno.EACCES, f"cannot delete or quarantine {left}", str(left))
    if moved:
        journal["quarantined"] = journal.get("quarantined", 0) + moved
        journal["quarantine"] = str(quarantine)
        AuditLog(config.audit_log).append(
            tool="restore",
            action="quarantine",
            what=str(quarantine),
            outcome="quarantined",
            detail=f"{moved} path(s) of the replaced state were not byte-for-byte in backup "
            f"{journal.get('pre_restore_backup')}: moved to quarantine, not deleted",
        )
    remove_tree(work / "staged")  # a copy of the restored backup: it is in that backup
    if (work / "late").exists():
        return  # leave what a running bot wrote mid-restore for the operator
    (work / JOURNAL).unlink(missing_ok=True)
    remove_tree(work)


class _BackedUp:
    """member -> (kind, size, sha256 or link target) of a verified backup, kept in a scratch
    SQLite file so that memory stays flat for 100 000 files. Empty (so nothing is deleted)
    when the backup is missing or its archive fails its checksum."""

    def __init__(self, config: RecoveryConfig, backup_id: str | None, index: Path) -> None:
        self.config, self.backup_id, self.index = config, backup_id, index
        self.conn: sqlite3.Connection | None = None
        self.total = 0  # bytes the backup holds (the work of checking the replaced state)

    def __enter__(self) -> _BackedUp:
        backup = next(
            (b for b in list_backups(self.config.backup_dir) if b.id == self.backup_id), None
        )
        if backup is None or archive_problems(backup):
            return self
        self.total = int(backup.trailer().get("bytes") or 0)
        self.index.unlink(missing_ok=True)
        self.conn = sqlite3.connect(self.index)
        self.conn.execute("CREATE TABLE f(path TEXT PRIMARY KEY, kind, size, digest)")
        self.conn.executemany(
            "INSERT OR REPLACE INTO f VALUES (?,?,?,?)",
            (
                (e["path"], e["type"], e.get("size"), e.get("sha256") or e.get("target"))
                for e in manifest_entries(backup.manifest)
                if e.get("type") in ("file", "symlink") and isinstance(e.get("path"), str)
            ),
        )
        return self

    def __exit__(self, *_exc: object) -> None:
        if self.conn is not None:
            self.conn.close()
        self.index.unlink(missing_ok=True)

    def holds(self, member: str, kind: str, size: int | None, digest: str) -> bool:
        if self.conn is None:
            return False
        row = self.conn.execute(
            "SELECT kind, size, digest FROM f WHERE path = ?", (member,)
        ).fetchone()
        return row is not None and row == (kind, size, digest)


#: Bytes of replaced state hashed so far (for the progress line).
_checked = [0]


def _dispose(path: Path, member: str, known: _BackedUp, quarantine: Path) -> int:
    """Delete ``path`` where the backup holds it byte for byte, else move it to
    ``quarantine``; returns how many paths went to quarantine."""
    try:
        st = path.lstat()
    except FileNotFoundError:
        return 0
    if stat.S_ISDIR(st.st_mode):
        try:
            with os.scandir(path) as entries:
                names = [entry.name for entry in entries]
        except OSError:
            return _to_quarantine(path, quarantine)
        moved = 0
        for name in names:
            moved += _dispose(
                path / name, f"{member}/{name}" if member else name, known, quarantine / name
            )
        try:
            os.rmdir(path)
        except FileNotFoundError:
            pass
        except OSError:
            # Not empty: something in it could be neither deleted nor moved on its own.
            moved += _to_quarantine(path, quarantine)
        return moved
    if stat.S_ISLNK(st.st_mode):
        in_backup = known.holds(member, "symlink", None, os.readlink(path))
    elif stat.S_ISREG(st.st_mode):
        try:
            digest = sha256_file(path)
            _checked[0] += st.st_size
            report_progress(_checked[0] / 2**20, known.total / 2**20, "MiB")
        except OSError:
            digest = ""  # unreadable: certainly not known to be in the backup
        in_backup = bool(digest) and known.holds(member, "file", st.st_size, digest)
    else:
        in_backup = False
    if in_backup:
        path.unlink()
        return 0
    return _to_quarantine(path, quarantine)


def _to_quarantine(path: Path, target: Path) -> int:
    """Move ``path`` to ``target``; 0 when this user may not move it (a directory of
    another user cannot change parents without write permission on itself): it stays where
    it is, and its own directory, which this user owns, goes to quarantine with it."""
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists() or target.is_symlink():
        target = target.with_name(f"{target.name}.{stamp()}")
    try:
        rename(path, target)
    except OSError as exc:
        if exc.errno in (errno.EACCES, errno.EPERM):
            return 0
        if exc.errno != errno.EXDEV or not path.is_file() or path.is_symlink():
            raise
        copy_file_synced(path, target)  # .env on another filesystem than data/
        path.unlink()
    fsync_dir(target.parent)
    return 1


def pending_restores(config: RecoveryConfig) -> list[dict[str, Any]]:
    """Restores that a kill interrupted after the commit point (read-only)."""
    pending = []
    for work in sorted(config.home.glob("restore-*")):
        try:
            journal = json.loads(read_text_bounded(work / JOURNAL, OWN_FILE_MAX, "strict"))
        except (OSError, ValueError):
            continue
        if journal.get("state") in ("swapping", "done"):
            pending.append({**journal, "work": str(work)})
    return pending


def finish_interrupted_restores(config: RecoveryConfig) -> list[str]:
    """Bring any interrupted restore to a whole state: back before the commit point,
    forward after it. Returns what it did, in words."""
    done = []
    for work in sorted(config.home.glob("restore-*")):
        try:
            journal = json.loads(read_text_bounded(work / JOURNAL, OWN_FILE_MAX, "strict"))
        except (OSError, ValueError):
            journal = None
        if journal is None or journal.get("state") == "staged":
            # Before the commit point nothing live was touched: drop the staging.
            _drop_staging(work)
            done.append(
                f"removed the staging of an interrupted restore ({work.name}); "
                "the deployment was not changed"
            )
        elif journal.get("state") == "swapping":
            _roll_forward(config, work, journal)
            done.append(f"finished an interrupted restore of backup {journal['backup_id']}")
        else:
            _clean_up(config, work, journal)
            done.append(f"cleaned up after restore of backup {journal['backup_id']}")
    return done
