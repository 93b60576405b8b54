"""``acore-doctor repair``: find and fix damaged state, never losing a byte.

:func:`plan_repair` only reads (the health suite runs it as a dry run). :func:`apply_repair`
acts, in this order: missing directories created; stray ``*.tmp`` files (an interrupted
atomic save) moved into quarantine; corrupt JSON state files restored from the newest
backup holding a valid copy, else copied into quarantine and replaced by the complete entries
that still parse (an empty valid document when none do); damaged SQLite databases rebuilt
from the newest verified backup plus every row salvaged from their pages
(:func:`acore_doctor.recovery.salvage.rebuild_database`), checked, and swapped in with the
original (and its -wal/-shm/-journal) copied into quarantine.

Every action writes a ``started`` line to the audit log before it touches anything and a
``done``/``failed`` line after; a ``started`` line a kill left without its ending is closed
as ``interrupted`` (with the file's checksum as found) by the next run. Quarantine is
``data/.quarantine/<run timestamp>/<path under data/>``; nothing there is ever deleted.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import shutil
import sqlite3
import tarfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from acore_doctor import jsonstream
from acore_doctor.deployment import Deployment
from acore_doctor.fsio import fsync_dir
from acore_doctor.probes.databases import DbFacts, DbTarget, check_database
from acore_doctor.probes.entrypoint import files_entrypoint
from acore_doctor.probes.files import required_dirs as probe_required_dirs
from acore_doctor.probes.state_files import (
    StateKind,
    parse_state,
    read_state_file,
    state_kinds,
    stream_state_file,
)
from acore_doctor.progress import ProgressLine
from acore_doctor.progress import active as active_progress
from acore_doctor.recovery import jsonmerge
from acore_doctor.recovery.backup import (
    BackupInfo,
    list_backups,
    manifest_entries,
    manifest_entry,
    read_member_bytes,
)
from acore_doctor.recovery.common import (
    CHUNK,
    QUARANTINE_DIR,
    SCRATCH_DIRS,
    AuditLog,
    RecoveryConfig,
    copy_file_synced,
    crash_point,
    is_sqlite_sidecar,
    iter_files,
    looks_like_sqlite,
    recovery_config,
    remove_tree,
    rename,
    sha256_or_none,
    stamp,
)
from acore_doctor.saferead import open_regular

#: Our own in-progress files; a kill can leave them, the next run quarantines them.
PARTIAL_SUFFIXES = (".acore-repair.partial", ".acore-salvage.partial")


@dataclass
class RepairAction:
    kind: str  # create-dir | quarantine-tmp | restore-json | reset-json | salvage-sqlite
    path: Path
    reason: str
    source: str | None = None  # backup id holding a valid copy (restore-json)

    def describe(self, bot_dir: Path) -> str:
        where = _relative(self.path, bot_dir)
        verb = {
            "create-dir": "create missing directory",
            "quarantine-tmp": "move stray temp file to quarantine",
            "restore-json": f"restore from backup {self.source} where damaged, keep every "
            "entry that still parses (current copy to quarantine)",
            "reset-json": "move to quarantine, keep every entry that still parses",
            "salvage-sqlite": "rebuild from the newest verified backup plus the rows salvaged "
            "from its pages (original to quarantine)",
        }[self.kind]
        return f"{where}: {verb} - {self.reason}"


@dataclass
class RepairReport:
    actions: list[RepairAction]
    outcomes: list[dict[str, Any]] = field(default_factory=list)
    quarantine: Path | None = None

    @property
    def failed(self) -> list[dict[str, Any]]:
        return [o for o in self.outcomes if o.get("outcome") == "failed"]

    @property
    def maybe_lost(self) -> int:
        """Records that may be lost in repairs that did produce a valid file (estimate)."""
        return sum(
            int(o.get("maybe_lost") or 0) for o in self.outcomes if o.get("outcome") == "done"
        )

    @property
    def incomplete(self) -> list[dict[str, Any]]:
        """Repairs that produced a valid file but may not hold every record."""
        return [
            o for o in self.outcomes if o.get("outcome") == "done" and o.get("complete") is False
        ]


def _relative(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)


# -- what the bot expects ---------------------------------------------------------------------
def required_dirs(deployment: Deployment) -> list[tuple[Path, str]]:
    """Directories the bot writes (the shared probe's list, for the entrypoint its files
    suggest; repair never looks at processes or units)."""
    return probe_required_dirs(deployment, files_entrypoint(deployment.bot_dir).kind)


def kind_of(path: Path, kinds: list[StateKind]) -> StateKind | None:
    """Which of the bot's state-file kinds (the shared catalog) ``path`` is, if any."""
    for kind in kinds:
        try:
            relative = path.relative_to(kind.root)
        except ValueError:
            continue
        name = path.name
        if (
            len(relative.parts) == kind.depth
            and name.endswith(kind.suffix)
            and name.startswith(kind.prefix)
        ):
            return kind
    return None


def empty_document(path: Path, kind: StateKind | None) -> Any:
    """The empty document the bot itself starts from for this kind of file (§3.1); it must
    pass the catalog's shape check (a test holds it to that)."""
    name = kind.name if kind else ""
    if name == "chat history":
        return []
    if name == "RL state":
        return {"version": 1, "agents": {}}
    if name == "gestalt memory":
        return {"short_term": [], "long_term_summary": "", "state": {}}
    if name == "user profile":
        user_id = path.stem.removeprefix("user_")
        return {
            "user_id": int(user_id) if user_id.isdigit() else user_id,
            "traits": [],
            "interests": [],
            "preferences": {},
            "facts": [],
            "interaction_count": 0,
        }
    return {}


def json_state_ok(data: bytes, kind: StateKind | None) -> bool:
    """A copy we accept as valid: it parses, and has the shape the catalog expects."""
    parsed, error = parse_state(data, kind.suffix if kind else ".json")
    if error is not None:
        return False
    return kind is None or kind.shape(parsed) is None


def json_damage(path: Path) -> str | None:
    """Why a JSON file does not parse, or None. Large files are streamed, never held whole
    (a valid 200 MB history is neither loaded into memory nor called corrupt)."""
    data, _mtime, error = read_state_file(str(path))
    if error is not None:
        return None  # not a regular file or unreadable: nothing repair can rewrite
    if data is None:
        streamed = stream_state_file(str(path), None)
        return None if streamed.unchecked else streamed.error
    return parse_state(data, ".json")[1]


@dataclass
class JsonSalvage:
    """What repair makes of a damaged JSON state file."""

    document: Any
    how: str
    kept: int = 0
    restored: int = 0
    maybe_lost: int = 0


def salvage_json(
    path: Path, kind: StateKind | None, backup: tuple[Any, str] | None = None
) -> JsonSalvage:
    """Every complete entry of a damaged JSON state file, before and after the damage
    (jsonstream.salvage_entries resynchronises on the next entry boundary; bytes that are not
    UTF-8 damage only the entry holding them), with the damaged places filled from
    ``backup`` (its parsed document and id) by entry identity (recovery.jsonmerge): entries
    written after the backup are kept, entries deleted since stay deleted. Each entry is kept
    only if the document keeps the kind's shape; with none, the empty valid document."""
    empty = empty_document(path, kind)
    backup_doc, backup_id = backup if backup else (None, None)
    try:
        with open_regular(path) as handle:
            size = os.fstat(handle.fileno()).st_size
            if size <= jsonstream.RESYNC_MAX_BYTES:
                entries = jsonstream.salvage_entries(handle.read())
                streamed = None
            else:  # too big to read whole: the complete entries before the damage
                entries = None
                streamed = jsonstream.salvage(handle)
    except OSError:  # NotARegularFile included
        entries, streamed = None, None
    if entries is not None:
        merged = jsonmerge.merge(entries, backup_doc)
    elif streamed is not None and isinstance(streamed[0], list | dict):
        found, scanned = streamed
        merged = jsonmerge.Merged(found, kept=len(found), maybe_lost=1, damaged=1)
    elif isinstance(backup_doc, list | dict):
        merged = jsonmerge.Merged(backup_doc, restored=len(backup_doc), maybe_lost=1, damaged=1)
    else:
        return JsonSalvage(empty, "nothing parsed; replaced by an empty valid document", 0, 0, 1)
    if isinstance(merged.document, dict) and isinstance(empty, dict):
        # A member whose value the damage took, and no backup gave back, comes back as the
        # bot itself starts it (an empty "state"): its default, not an invented record.
        for key in merged.lost_keys:
            if key in empty and key not in merged.document:
                merged.document[key] = empty[key]
    document, dropped = _keep_shape(merged.document, empty, kind)
    if document is empty:
        return JsonSalvage(
            empty,
            "nothing of the bot's shape parsed; replaced by an empty valid document",
            0,
            0,
            merged.maybe_lost + merged.kept + merged.restored,
        )
    maybe_lost = merged.maybe_lost + dropped
    words = [
        f"kept {merged.kept} complete entr{'y' if merged.kept == 1 else 'ies'} that still parse"
        f" ({merged.damaged} damaged place{'' if merged.damaged == 1 else 's'} skipped)"
    ]
    if merged.restored:
        words.append(
            f"{merged.restored} restored from backup {backup_id} into the damaged places "
            "(may have been deleted or changed since)"
        )
    if dropped:
        words.append(f"dropped {dropped} of the wrong shape")
    words.append(
        f"{maybe_lost} entr{'y' if maybe_lost == 1 else 'ies'} may be lost"
        if maybe_lost
        else "nothing known lost"
    )
    return JsonSalvage(document, "; ".join(words), merged.kept, merged.restored, maybe_lost)


def _keep_shape(found: Any, empty: Any, kind: StateKind | None) -> tuple[Any, int]:
    """(document of the kind's shape, entries dropped for it); ``empty`` when none fits."""
    if isinstance(found, list) and isinstance(empty, list):
        kept = [item for item in found if kind is None or kind.shape([item]) is None]
        return kept, len(found) - len(kept)
    if isinstance(found, dict) and isinstance(empty, dict):
        if kind is None or kind.shape(found) is None:
            return found, 0
        document = dict(empty)
        for key, value in found.items():
            trial = {**document, key: value}
            if kind.shape(trial) is None:
                document = trial
        dropped = sum(1 for key in found if document.get(key) is not found[key])
        return document, dropped
    return empty, 0


def sqlite_damage(path: Path, facts: DbFacts | None = None) -> str | None:
    """Why the database is damaged, or None (also None when it is merely busy). ``facts``:
    this run's check of the same file, when one was made (the health run's)."""
    if facts is None:
        facts = check_database(DbTarget(path, "SQLite file in data/"))
    # integrity_check's report is one multi-line message: one line per problem, on one line.
    lines = [
        line.strip()
        for damage in facts.damage
        for line in str(damage).splitlines()
        if line.strip() and not line.startswith("***")
    ]
    if not lines:
        return None
    more = f" (and {len(lines) - 3} more)" if len(lines) > 3 else ""
    return "; ".join(lines[:3]) + more


# -- planning (read-only) -----------------------------------------------------------------------
def plan_repair(
    deployment: Deployment,
    config: RecoveryConfig | None = None,
    min_tmp_age_s: float = 0.0,
    checked: Iterable[DbFacts] = (),
) -> list[RepairAction]:
    """What repair would do. Reads only: safe on a live deployment. ``checked``: databases
    already checked in this run, not copied and checked again."""
    known = {facts.path.resolve(): facts for facts in checked}
    config = config or recovery_config(deployment)
    bot_dir = config.bot_dir
    actions = [
        RepairAction("create-dir", d, f"the bot writes it ({why})")
        for d, why in required_dirs(deployment)
        if not d.exists() and not d.is_symlink()
    ]
    data = config.data_dir
    if not data.is_dir():
        return actions
    now = time.time()
    corrupt: list[Path] = []
    for path in iter_files(data, (QUARANTINE_DIR, *SCRATCH_DIRS)):
        name = path.name
        if name.endswith(PARTIAL_SUFFIXES) or name.endswith(".tmp"):
            try:
                age = now - path.stat().st_mtime
            except OSError:
                continue
            if age >= min_tmp_age_s or name.endswith(PARTIAL_SUFFIXES):
                actions.append(
                    RepairAction(
                        "quarantine-tmp", path, f"left by an interrupted save, {age:.0f}s old"
                    )
                )
        elif name.endswith(".json"):
            # Only what does not parse: a file of the wrong shape still holds the user's
            # records, and replacing it would lose them (the health checks report it).
            if json_damage(path) is not None:
                corrupt.append(path)
        elif looks_like_sqlite(path) and not is_sqlite_sidecar(path):
            damage = sqlite_damage(path, known.get(path.resolve()))
            if damage:
                actions.append(RepairAction("salvage-sqlite", path, damage))
    sources = valid_copies(config, [_relative(p, bot_dir) for p in corrupt])
    # The manifest only says "parsed at backup time"; the copy is read and shape-checked
    # before use (apply), and a backup whose copy fails falls back to quarantine.
    for path in corrupt:
        relative = _relative(path, bot_dir)
        reason = "does not parse as the JSON document the bot expects"
        if relative in sources:
            actions.append(RepairAction("restore-json", path, reason, source=sources[relative]))
        else:
            actions.append(
                RepairAction("reset-json", path, reason + "; no backup holds a valid copy")
            )
    order = ["create-dir", "quarantine-tmp", "restore-json", "reset-json", "salvage-sqlite"]
    return sorted(actions, key=lambda a: order.index(a.kind))


def valid_copies(config: RecoveryConfig, members: list[str]) -> dict[str, str]:
    """member -> id of the newest backup whose manifest says it holds a valid copy.
    One pass over each manifest, newest backup first."""
    wanted = set(members)
    found: dict[str, str] = {}
    for backup in reversed(list_backups(config.backup_dir)):
        if not wanted:
            break
        for entry in manifest_entries(backup.manifest):
            path = entry.get("path")
            if path in wanted and entry.get("valid") and entry.get("kind") == "json":
                found[path] = backup.id
                wanted.discard(path)
    return found


# -- applying ---------------------------------------------------------------------------------
def close_interrupted(audit: AuditLog, bot_dir: Path) -> list[dict[str, Any]]:
    """Give every ``started`` entry without an ending an ``interrupted`` one."""
    open_actions: dict[str, dict[str, Any]] = {}
    for record in audit.read():
        if record.get("tool") != "repair" or "action_id" not in record:
            continue
        if record.get("outcome") == "started":
            open_actions[record["action_id"]] = record
        else:
            open_actions.pop(record["action_id"], None)
    closed = []
    for action_id, record in open_actions.items():
        path = Path(record["what"])
        if record.get("action") == "salvage-sqlite":
            _roll_back_sidecars(record, path if path.is_absolute() else bot_dir / path)
        closed.append(
            audit.append(
                tool="repair",
                action_id=action_id,
                action=record.get("action"),
                what=record["what"],
                before_sha256=record.get("before_sha256"),
                after_sha256=sha256_or_none(path if path.is_absolute() else bot_dir / path),
                quarantined_to=record.get("quarantined_to"),
                outcome="interrupted",
                detail="the repair run was killed during this action; state as found now",
            )
        )
    return closed


#: Journals that belong to one database file: with a new file in place, SQLite would replay
#: them into it (they go with the original); without them, the original loses rows.
JOURNALS = ("-wal", "-journal")


def _roll_back_sidecars(record: dict[str, Any], path: Path) -> None:
    """A database repair killed after moving the original's -wal/-journal to quarantine but
    before the new file was swapped in: the original is still in place (same checksum), so
    its journal goes back beside it, and nothing committed only there is lost."""
    quarantined = record.get("quarantined_to")
    if not quarantined or sha256_or_none(path) != record.get("before_sha256"):
        return
    for suffix in JOURNALS:
        moved = Path(quarantined + suffix)
        live = path.with_name(path.name + suffix)
        if moved.is_file() and not live.exists():
            rename(moved, live)
            fsync_dir(path.parent)


def apply_repair(
    deployment: Deployment,
    config: RecoveryConfig | None = None,
    actions: list[RepairAction] | None = None,
    say: Callable[[str], None] = print,
    use_sqlite_cli: bool | None = None,
    progress: Callable[[str], ProgressLine] | None = None,
) -> RepairReport:
    """Carry out ``actions`` (default: the plan). ``progress(verb)`` gives a line per action,
    made the active one (acore_doctor.progress.report) while the action runs."""
    from acore_doctor.recovery.restore import finish_interrupted_restores, recovery_lock

    config = config or recovery_config(deployment)
    audit = AuditLog(config.audit_log)
    with recovery_lock(config):
        for line in finish_interrupted_restores(config):
            say(line)
        for record in close_interrupted(audit, config.bot_dir):
            say(f"closed an interrupted repair action in the audit log: {record['what']}")
        if actions is None:
            actions = plan_repair(deployment, config)
        kinds = state_kinds(deployment, None)
        run = stamp()
        quarantine = config.data_dir / QUARANTINE_DIR / run
        report = RepairReport(actions, quarantine=quarantine)
        for index, action in enumerate(actions, 1):
            action_id = f"{run}:{index}"
            say(f"repairing {action.describe(config.bot_dir)}")
            line = progress(f"repair {index} of {len(actions)}") if progress else None
            with active_progress(line):
                outcome = _apply_one(
                    action, action_id, config, quarantine, audit, kinds, use_sqlite_cli
                )
            if line is not None:
                line.done()
            report.outcomes.append(outcome)
            say(
                f"  -> {outcome['outcome']}"
                + (f": {outcome['detail']}" if outcome.get("detail") else "")
            )
        return report


#: Appended to quarantined temp files: a "*.tmp" left under data/ is what the health checks
#: look for, and one parked in quarantine is no longer a stray.
QUARANTINED_TMP_SUFFIX = ".quarantined"


def _quarantine_path(quarantine: Path, config: RecoveryConfig, path: Path) -> Path:
    target = quarantine / _relative(path, config.data_dir)
    if path.name.endswith(".tmp") or path.name.endswith(PARTIAL_SUFFIXES):
        target = target.with_name(target.name + QUARANTINED_TMP_SUFFIX)
    return target


def _apply_one(
    action: RepairAction,
    action_id: str,
    config: RecoveryConfig,
    quarantine: Path,
    audit: AuditLog,
    kinds: list[StateKind],
    use_sqlite_cli: bool | None,
) -> dict[str, Any]:
    path = action.path
    target = _quarantine_path(quarantine, config, path)
    base = {"tool": "repair", "action_id": action_id, "action": action.kind, "what": str(path)}
    before = sha256_or_none(path) if path.is_file() else None
    quarantined = None if action.kind == "create-dir" else str(target)
    audit.append(
        **base,
        before_sha256=before,
        quarantined_to=quarantined,
        outcome="started",
        source=action.source,
        detail=action.reason,
    )
    crash_point(f"repair:{action_id}:started")
    facts: dict[str, Any] = {}
    try:
        detail = _act(action, path, target, config, kinds, use_sqlite_cli, facts)
        outcome = "done"
    except _RepairFailed as exc:
        detail, outcome = str(exc), "failed"
    except OSError as exc:
        detail, outcome = os_failure(exc, path), "failed"
    except Exception as exc:
        # Our own bug: the audit record is still closed before it surfaces.
        audit.append(
            **base,
            before_sha256=before,
            after_sha256=sha256_or_none(path) if path.is_file() else None,
            quarantined_to=None,
            source=action.source,
            outcome="failed",
            detail=f"internal error: {type(exc).__name__}: {exc}",
        )
        raise
    return audit.append(
        **base,
        before_sha256=before,
        after_sha256=sha256_or_none(path) if path.is_file() else None,
        quarantined_to=quarantined if outcome == "done" else None,
        source=action.source,
        outcome=outcome,
        detail=detail,
        **facts,
    )


class _RepairFailed(Exception):
    pass


def os_failure(exc: OSError, path: Path) -> str:
    """The real cause of a failed write, in words (a full disk is not an internal error)."""
    if exc.errno == errno.ENOSPC:
        return f"no space left on device writing near {path.parent}; nothing was changed"
    if exc.errno == errno.EROFS:
        return f"read-only file system at {path.parent}; nothing was changed"
    return f"{type(exc).__name__}: {exc.strerror or exc}"


def _needs_space(path: Path, config: RecoveryConfig) -> None:
    """Refuse before writing anything when data/ cannot hold the rebuilt database and the
    original's copy in quarantine (and .acore-doctor/ the backup's copy)."""
    try:
        size = path.stat().st_size
        sidecars = sum(
            path.with_name(path.name + s).stat().st_size
            for s in (*JOURNALS, "-shm")
            if path.with_name(path.name + s).exists()
        )
        free = shutil.disk_usage(path.parent).free
    except OSError:
        return
    needed = 2 * size + sidecars + 1024 * 1024
    if free < needed:
        raise _RepairFailed(
            f"no space left on device: needs {needed / 1e6:.0f} MB in "
            f"{_relative(path.parent, config.bot_dir)}/, {free / 1e6:.0f} MB free; "
            "nothing was changed"
        )


def _act(
    action: RepairAction,
    path: Path,
    target: Path,
    config: RecoveryConfig,
    kinds: list[StateKind],
    use_sqlite_cli: bool | None,
    facts: dict[str, Any],
) -> str:
    """Carry out one action; returns what was done, adds countable results to ``facts``."""
    if action.kind == "create-dir":
        path.mkdir(parents=True, exist_ok=True)
        return "created"
    if action.kind == "quarantine-tmp":
        target.parent.mkdir(parents=True, exist_ok=True)
        rename(path, target)  # same filesystem (data/): atomic, nothing copied or lost
        fsync_dir(path.parent)
        return f"moved to {target}"
    if action.kind in ("restore-json", "reset-json"):
        kind = kind_of(path, kinds)
        copy = _valid_copy(config, path, kind, action.source) if action.source else None
        backup = (json.loads(copy[0]), copy[1]) if copy else None
        salvaged = salvage_json(path, kind, backup)
        if copy is not None and salvaged.document == backup[0]:  # type: ignore[index]
            replacement = copy[0]  # the backup's own bytes: formatting kept
        else:
            replacement = (json.dumps(salvaged.document) + "\n").encode()
        how = salvaged.how
        if action.kind == "restore-json" and copy is None:
            how += " (no backup copy passed the shape check)"
        facts["kept_entries"] = salvaged.kept
        facts["restored_entries"] = salvaged.restored
        facts["maybe_lost"] = salvaged.maybe_lost
        facts["complete"] = salvaged.maybe_lost == 0
        copy_file_synced(path, target)
        crash_point("repair:json:quarantined")
        _replace_file(path, replacement)
        crash_point("repair:json:replaced")
        return f"{how}; the damaged copy is in {target}"
    if action.kind == "salvage-sqlite":
        return _repair_database(path, target, config, use_sqlite_cli, facts)
    raise _RepairFailed(f"unknown action {action.kind}")


def _replace_file(path: Path, data: bytes) -> None:
    """Write ``data`` beside ``path`` (fsynced, same mode and owner) and rename it over
    ``path``: a crash leaves the old file or the new one, never a mix. The partial file has a
    fixed name, so a run after a kill finds and quarantines it."""
    st = path.stat()
    partial = path.with_name(path.name + PARTIAL_SUFFIXES[0])
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        os.fsync(fd)
    finally:
        os.close(fd)
    if os.geteuid() == 0:
        os.chown(partial, st.st_uid, st.st_gid)
    os.chmod(partial, st.st_mode & 0o7777)
    rename(partial, path)
    fsync_dir(path.parent)


def _valid_copy(
    config: RecoveryConfig, path: Path, kind: StateKind | None, newest_id: str
) -> tuple[bytes, str] | None:
    """The newest backup copy (from ``newest_id`` back) that parses and has the right shape."""
    relative = _relative(path, config.bot_dir)
    for backup in reversed(list_backups(config.backup_dir)):
        if backup.id > newest_id:
            continue
        data = read_member_bytes(backup, relative)
        if data is not None and json_state_ok(data, kind):
            return data, backup.id
    return None


def verified_backup_copy(config: RecoveryConfig, path: Path, work: Path) -> tuple[Path, str] | None:
    """The newest backup's copy of database ``path`` that was valid when backed up, still
    matches the manifest's sha256 and passes integrity_check: (extracted copy, backup id)."""
    from acore_doctor.recovery.salvage import integrity_ok  # the page reader: only to repair

    relative = _relative(path, config.bot_dir)
    for backup in reversed(list_backups(config.backup_dir)):
        entry = manifest_entry(backup, relative)
        if not entry or entry.get("kind") != "sqlite" or not entry.get("valid"):
            continue
        copy = work / f"backup-{backup.id}.db"
        if extract_member(backup, relative, copy, entry.get("sha256")) and integrity_ok(copy):
            return copy, backup.id
        copy.unlink(missing_ok=True)
    return None


def extract_member(backup: BackupInfo, member: str, target: Path, sha256: str | None) -> bool:
    """Stream one archive member into ``target``; False when absent or its checksum differs."""
    digest = hashlib.sha256()
    try:
        with tarfile.open(backup.archive, mode="r|gz") as tar:
            for info in tar:
                if info.name == member and info.isfile():
                    handle = tar.extractfile(info)
                    if handle is None:
                        return False
                    with target.open("wb") as out:
                        for block in iter(lambda h=handle: h.read(CHUNK), b""):
                            digest.update(block)
                            out.write(block)
                    return sha256 is None or digest.hexdigest() == sha256
                tar.members.clear()
    except (OSError, tarfile.TarError, EOFError):
        return False
    return False


def _repair_database(
    path: Path,
    target: Path,
    config: RecoveryConfig,
    use_sqlite_cli: bool | None,
    facts: dict[str, Any],
) -> str:
    """Newest verified backup as the base, plus every row salvaged from the damaged file;
    built beside it, checked, swapped in; the original (and its -wal/-shm/-journal) goes to
    quarantine. Fails, leaving the original untouched, when no valid database comes out."""
    from acore_doctor.recovery.salvage import rebuild_database  # only to repair

    _needs_space(path, config)
    rebuilt = path.with_name(path.name + PARTIAL_SUFFIXES[1])
    for stale in config.home.glob("repair-*"):
        remove_tree(stale)  # scratch a killed run left (copies of backups); we hold the lock
    work = config.home / f"repair-{stamp()}"
    try:
        work.mkdir(parents=True, exist_ok=True)
        base = verified_backup_copy(config, path, work)
        copy, backup_id = base if base else (None, None)
        result = rebuild_database(path, rebuilt, work, copy, backup_id, use_cli=use_sqlite_cli)
    except (sqlite3.Error, OSError) as exc:
        # Our own half-written file never stays behind; the original was never touched.
        rebuilt.unlink(missing_ok=True)
        cause = os_failure(exc, path) if isinstance(exc, OSError) else f"SQLite: {exc}"
        raise _RepairFailed(f"could not rebuild ({cause}); original left in place") from exc
    except BaseException:
        rebuilt.unlink(missing_ok=True)
        raise
    finally:
        remove_tree(work)
    crash_point("repair:sqlite:salvaged")
    facts.update(
        method=result.salvage.method,
        backup_id=result.backup_id,
        maybe_lost=result.maybe_lost,
        restored_from_backup=result.restored,
        lost_and_found=result.salvage.lost_and_found,
        complete=result.complete,
        tables={
            t.name: {
                "in_backup": t.in_backup,
                "salvaged": t.salvaged,
                "in_result": t.in_result,
                "maybe_lost": t.maybe_lost,
                "restored_from_backup": t.restored,
            }
            for t in result.tables
        },
    )
    if not result.ok:
        facts.clear()
        # Leave the original where it is: nothing readable beats nothing at all. The
        # failed attempt's output goes to quarantine with the rest, never deleted.
        if rebuilt.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            os.rename(rebuilt, target.with_name(target.name + ".failed-salvage"))
        problems = result.problems or result.salvage.problems
        raise _RepairFailed(
            "could not build a valid database (" + "; ".join(problems[:3]) + "); original "
            "left in place, untouched; restore it with 'acore-doctor restore'"
        )
    try:
        _swap_in(path, rebuilt, target)
    except OSError:
        rebuilt.unlink(missing_ok=True)
        raise
    if result.complete:
        verdict = "nothing known lost"
    else:
        parts = [f"{result.maybe_lost} row(s) may be lost"]
        if result.restored:
            parts.append(
                f"{result.restored} row(s) restored from backup (damaged range; may have been"
                " deleted or changed since)"
            )
        if result.salvage.lost_and_found:
            parts.append(f"{result.salvage.lost_and_found} row(s) in table lost_and_found")
        verdict = ", ".join(parts)
    return f"rebuilt ({verdict}): {result.summary()}; original in {target}"


def _swap_in(path: Path, rebuilt: Path, target: Path) -> None:
    """Put ``rebuilt`` in place of ``path``; the original and its sidecars go to quarantine.

    Crash-safe at every step: the original is copied to quarantine first (synced); the
    ``-shm`` (an index SQLite rebuilds from the WAL) is moved; then the original's
    ``-wal``/``-journal`` are moved next to the copy and the new file renamed over the old
    one. Killed between those two renames, the original is in place without its journal:
    the next repair finds the unfinished action in the audit log and moves the journal
    back (:func:`_roll_back_sidecars`) before anything else, so no row committed only to
    the WAL is lost. A stale journal is never left beside the new file (SQLite would
    replay it into it)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    copy_file_synced(path, target)
    crash_point("repair:sqlite:quarantined")
    shm = path.with_name(path.name + "-shm")
    if shm.exists():
        rename(shm, target.with_name(target.name + "-shm"))
    crash_point("repair:sqlite:shm-moved")
    for suffix in JOURNALS:
        side = path.with_name(path.name + suffix)
        if side.exists():
            rename(side, target.with_name(target.name + suffix))
            crash_point(f"repair:sqlite:{suffix[1:]}-moved")
    fsync_dir(target.parent)
    fsync_dir(path.parent)
    rename(rebuilt, path)  # over the original: atomic on POSIX
    fsync_dir(path.parent)
    crash_point("repair:sqlite:swapped")
