"""Directories the bot writes, whether its user can write them, and files anyone can write.

A write probe creates a file with a unique name and removes it in a ``finally``; it is used
only when the suite runs as the bot's own user (for another user, the mode bits are judged).
"""

from __future__ import annotations

import contextlib
import grp
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


def unit_user(unit: Unit) -> BotUser:
    """The user and groups a unit's process runs as (systemd.exec(5)): ``User=`` (a name or
    a uid), ``Group=`` as its primary group (else the user's own), the user's groups from
    /etc/group and ``SupplementaryGroups=``. KeyError when ``User=`` names no user."""
    name = (unit.user or "").strip()
    source = f"User={name} of {unit.describe}" + (f", Group={unit.group}" if unit.group else "")
    try:
        entry = pwd.getpwuid(int(name)) if name.isdigit() else pwd.getpwnam(name)
    except KeyError:
        if not name.isdigit():
            raise
        # A numeric uid with no passwd entry is allowed: no groups but Group= and the listed.
        gids = {_gid(g) for g in (unit.group, *unit.supplementary_groups) if g and _known(g)}
        return BotUser(int(name), tuple(sorted(gids)), name, source)
    gids = {entry.pw_gid}
    if unit.group:
        gids = {_gid(unit.group)}
    gids |= set(os.getgrouplist(entry.pw_name, entry.pw_gid))
    for group in unit.supplementary_groups:
        with contextlib.suppress(KeyError):
            gids.add(_gid(group))
    return BotUser(entry.pw_uid, tuple(sorted(gids)), entry.pw_name, source)


def _known(group: str) -> bool:
    try:
        _gid(group)
        return True
    except KeyError:
        return False


def _gid(group: str) -> int:
    group = group.strip()
    return int(group) if group.isdigit() else grp.getgrnam(group).gr_gid


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


# -- access as the bot's user ------------------------------------------------------------
R, W, X = 4, 2, 1
_ACL_XATTR = "system.posix_acl_access"
_ACL_USER_OBJ, _ACL_USER, _ACL_GROUP_OBJ, _ACL_GROUP, _ACL_MASK, _ACL_OTHER = (
    0x01,
    0x02,
    0x04,
    0x08,
    0x10,
    0x20,
)


def _acl(path: Path) -> list[tuple[int, int, int]] | None:
    """The POSIX access ACL's (tag, perm, id) entries, or None when the file has none."""
    try:
        data = os.getxattr(path, _ACL_XATTR)
    except (OSError, AttributeError):
        return None
    entries = []
    for at in range(4, len(data) - 7, 8):
        tag = int.from_bytes(data[at : at + 2], "little")
        perm = int.from_bytes(data[at + 2 : at + 4], "little")
        ident = int.from_bytes(data[at + 4 : at + 8], "little")
        entries.append((tag, perm, ident))
    return entries or None


def granted(st: os.stat_result, user: BotUser, want: int, path: Path | None = None) -> bool:
    """Whether ``user`` has every ``want`` bit (R|W|X) on a file with ``st`` (mode bits, and
    the POSIX ACL of ``path`` when it has one), as the kernel decides without changing uid."""
    if user.uid == 0:
        # root reads and writes anything; it executes/searches when any x bit is set
        return not want & X or stat.S_ISDIR(st.st_mode) or bool(st.st_mode & 0o111)
    acl = _acl(path) if path is not None else None
    if acl:
        return _acl_allows(acl, st, user, want)
    mode = st.st_mode
    if st.st_uid == user.uid:
        bits = (mode >> 6) & 7
    elif st.st_gid in user.gids:
        bits = (mode >> 3) & 7
    else:
        bits = mode & 7
    return bits & want == want


def _acl_allows(
    acl: list[tuple[int, int, int]], st: os.stat_result, user: BotUser, want: int
) -> bool:
    mask = next((perm for tag, perm, _ in acl if tag == _ACL_MASK), 7)
    if st.st_uid == user.uid:
        perm = next((perm for tag, perm, _ in acl if tag == _ACL_USER_OBJ), 0)
        return perm & want == want
    named = next((perm for tag, perm, i in acl if tag == _ACL_USER and i == user.uid), None)
    if named is not None:
        return named & mask & want == want
    groups = [
        perm
        for tag, perm, ident in acl
        if (tag == _ACL_GROUP_OBJ and st.st_gid in user.gids)
        or (tag == _ACL_GROUP and ident in user.gids)
    ]
    if groups:
        return any(perm & mask & want == want for perm in groups)
    other = next((perm for tag, perm, _ in acl if tag == _ACL_OTHER), 0)
    return other & want == want


def describe_mode(st: os.stat_result) -> str:
    owner = _name(pwd.getpwuid, st.st_uid, "pw_name")
    group = _name(grp.getgrgid, st.st_gid, "gr_name")
    return f"mode {stat.S_IMODE(st.st_mode):04o}, owner {owner}:{group}"


def _name(lookup, ident: int, attr: str) -> str:  # type: ignore[no-untyped-def]
    try:
        return str(getattr(lookup(ident), attr))
    except (KeyError, OverflowError):
        return str(ident)


@dataclass(frozen=True)
class FileNeed:
    """A path the bot opens at start, what it needs of it, and why."""

    path: Path
    why: str
    want: int  # R, R|W, R|X (a directory it lists)
    kind: str = "file"  # "file" | "dir"


def access_problem(need: FileNeed, user: BotUser) -> str | None:
    """Why ``user`` cannot use ``need.path`` as the bot needs it, or None when it can (or
    the path does not exist: whether it must is another check's question)."""
    try:
        st = need.path.stat()
    except OSError:
        # Missing (another check's question), or hidden from the suite's own user: the suite
        # cannot judge it, which says nothing about the bot's user.
        return None
    if need.kind == "dir" and not stat.S_ISDIR(st.st_mode):
        return "is not a directory"
    if need.kind == "file" and stat.S_ISDIR(st.st_mode):
        return "is a directory, not a file"
    if need.kind == "file" and not stat.S_ISREG(st.st_mode):
        return "is not a regular file (a FIFO, socket or device)"
    if granted(st, user, need.want, need.path):
        return None
    done = {R: "read", R | W: "read and written", W: "written", R | X: "listed"}
    return f"cannot be {done.get(need.want, 'used')} by {user.name} ({describe_mode(st)})"


def unreachable_ancestor(path: Path, user: BotUser) -> str | None:
    """The first directory on the way to ``path`` that ``user`` cannot enter, described."""
    for ancestor in reversed(path.parents):
        try:
            st = ancestor.stat()
        except OSError:
            return None
        if not granted(st, user, X, ancestor):
            return f"{ancestor} ({describe_mode(st)}) cannot be entered by {user.name}"
    return None


#: Scratch space under data/: the bot writes new files there and never rereads old ones.
SCRATCH_DATA = ("temp",)
#: Operator inputs under data/ the bot only reads.
READ_ONLY_DATA = ("documents", "import_cards", "voice_models")
#: At most this many files under data/ are judged (a huge store is sampled, not walked).
MAX_DATA_FILES = 5000


def data_file_needs(
    data_dir: Path, limit: int = MAX_DATA_FILES, exclude: tuple[Path, ...] = ()
) -> tuple[list[FileNeed], bool]:
    """Every regular file under ``data/``: read and written by the bot (its state), or only
    read (operator inputs: documents, cards, voice models); (needs, walk truncated)."""
    needs: list[FileNeed] = []
    for dirpath, dirnames, filenames in os.walk(data_dir, followlinks=False, onerror=None):
        # Not the bot's: our quarantine (.quarantine), bookkeeping, backups kept under data/.
        dirnames[:] = sorted(
            d
            for d in dirnames
            if d not in SKIP_DIRS and not d.startswith(".") and Path(dirpath) / d not in exclude
        )
        relative = Path(dirpath).relative_to(data_dir).parts
        if relative and relative[0] in SCRATCH_DATA:
            dirnames[:] = []
            continue
        read_only = bool(relative) and relative[0] in READ_ONLY_DATA
        for name in sorted(filenames):
            if name.startswith(PROBE_PREFIX):
                continue
            if len(needs) >= limit:
                return needs, True
            path = Path(dirpath) / name
            if path.is_symlink():
                continue
            needs.append(
                FileNeed(
                    path,
                    "input the bot reads" if read_only else "state the bot rewrites",
                    R if read_only else R | W,
                )
            )
    return needs, False


def start_needs(
    deployment: Deployment, entrypoint: str | None
) -> tuple[list[FileNeed], list[FileNeed]]:
    """What the bot opens at start: (paths it cannot start or keep its data without, the
    persona cards it does not select). Legacy when the entrypoint is unknown."""
    s = deployment.settings
    needs = [FileNeed(deployment.env_file, "the settings python-dotenv loads at start", R)]
    script = "launcher.py" if entrypoint == "runtime" else "main.py"
    needs.append(FileNeed(deployment.path(script), "the entry script", R))
    source = deployment.knowledge.source
    for name in source.config_files if source is not None else ():
        needs.append(FileNeed(deployment.path(name), "config code imported at start", R))
    characters = deployment.path(s.get("CHARACTERS_DIR"))
    needs.append(FileNeed(characters.parent, "the prompts directory", R | X, "dir"))
    needs.append(FileNeed(characters, "the persona cards' directory", R | X, "dir"))
    character = s.get("CHARACTER").strip()
    others: list[FileNeed] = []
    try:
        cards = sorted(p for p in characters.iterdir() if p.suffix in (".json", ".png"))
    except OSError:
        cards = []
    for card in cards:
        # Legacy names the card by file stem; the runtime by id, which only its content says.
        selected = entrypoint != "runtime" and card.stem == character
        target = needs if selected else others
        target.append(
            FileNeed(card, "the selected persona card" if selected else "a persona card", R)
        )
    if entrypoint != "runtime":
        framework = characters.parent / "frameworks" / f"{s.get('FRAMEWORK').strip()}.json"
        needs.append(FileNeed(framework, "the selected persona framework", R))
        if s.get("LOG_TO_FILE"):
            log = deployment.path(s.get("LOG_FILE_PATH"))
            needs.append(FileNeed(log, "the log file it appends to", W))
    backups = deployment.path(s.get("STATE_BACKUP_DIR"))
    data, _ = data_file_needs(deployment.path("data"), exclude=(backups,))
    return needs + data, others
