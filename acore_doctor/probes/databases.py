"""SQLite files of a deployment, checked without ever writing to them or blocking the bot.

The database is opened read-only (``mode=ro``; never created) and copied page by page into
a private snapshot with SQLite's backup API in one step, so the bot's writers wait at most
for that copy (WAL readers do not block writers at all). ``quick_check`` and
``integrity_check`` then run on the snapshot, holding no lock on the bot's file.

A WAL database nobody has open (no ``-shm`` file) is opened ``immutable=1`` instead, since
a read-only WAL connection would create the ``-shm`` file in the deployment.
"""

from __future__ import annotations

import sqlite3
import stat
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from acore_doctor.deployment import Deployment
from acore_doctor.saferead import NotARegularFile, read_head

SQLITE_HEADER = b"SQLite format 3\x00"
DAMAGE_WORDS = ("malformed", "not a database", "encrypted", "disk image", "corrupt")
BUSY_WORDS = ("locked", "busy")
SQLITE_BUSY, SQLITE_LOCKED = 5, 6
#: A rollback-journal database larger than this is copied in steps of STEP_PAGES pages so
#: the bot's writers never wait for a whole copy (a one-step copy of 32 MiB takes ~10-30 ms).
ONE_STEP_LIMIT = 32 * 1024 * 1024
STEP_PAGES = 1024
STEPPED_BUDGET_S = 30.0


@dataclass(frozen=True)
class DbTarget:
    path: Path
    why: str
    expected_tables: tuple[str, ...] = ()


@dataclass
class DbFacts:
    target: DbTarget
    exists: bool = False
    size: int = 0
    journal: str | None = None  # "wal" | "rollback"
    damage: list[str] = field(default_factory=list)
    busy: str | None = None
    error: str | None = None
    check: str | None = None  # which pragma ran
    tables: list[str] = field(default_factory=list)
    elapsed_s: float = 0.0

    @property
    def path(self) -> Path:
        return self.target.path

    @property
    def missing_tables(self) -> list[str]:
        return [t for t in self.target.expected_tables if t not in self.tables]


def db_targets(deployment: Deployment) -> list[DbTarget]:
    """The deployment's SQLite files, named ones first (§3.1)."""
    s = deployment.settings
    data = deployment.path("data")
    targets = [
        DbTarget(
            data / "bot.db",
            "documented bot database",
            ("conversations", "user_profiles", "reminders", "notes"),
        ),
        DbTarget(
            data / "conversations.db", "offline-RL conversation store", ("messages", "rewards")
        ),
    ]
    if s.get("RAG_ENABLED"):
        store = deployment.path(s.get("RAG_VECTOR_STORE"))
        targets.append(
            DbTarget(
                store / "chroma.sqlite3",
                "RAG vector store (ChromaDB)",
                ("collections", "embeddings"),
            )
        )
    named = {t.path for t in targets}
    try:
        extra = sorted(
            p
            for p in data.iterdir()
            if p.suffix in (".db", ".sqlite", ".sqlite3") and p not in named
        )
    except OSError:
        extra = []
    targets += [DbTarget(p, "SQLite file in data/") for p in extra]
    return targets


def wal_unopened(path: Path) -> bool:
    """A WAL database nobody has open (no ``-shm`` next to it)."""
    try:
        header = read_head(path, 20)
    except OSError:
        return False
    return len(header) > 18 and header[18] == 2 and not Path(f"{path}-shm").exists()


def readonly_uri(path: Path) -> str:
    """A URI that reads ``path`` without ever writing next to it or creating it: ``mode=ro``,
    or ``immutable=1`` for a WAL database nobody has open (a ``mode=ro`` connection would
    create its ``-shm`` file in the deployment)."""
    query = "immutable=1" if wal_unopened(path) else "mode=ro"
    return f"file:{quote(str(path.resolve()))}?{query}"


def open_readonly(path: Path, timeout: float = 5.0, **kwargs: Any) -> sqlite3.Connection:
    """The one way this project opens a SQLite file it must not change (see readonly_uri)."""
    return sqlite3.connect(readonly_uri(path), uri=True, timeout=timeout, **kwargs)


def _classify(facts: DbFacts, exc: BaseException) -> None:
    text = str(exc)
    lowered = text.lower()
    if any(w in lowered for w in DAMAGE_WORDS):
        facts.damage.append(text)
    elif any(w in lowered for w in BUSY_WORDS):
        facts.busy = text
    else:
        facts.error = text


class _StillBusy(Exception):
    pass


def _snapshot(source: Path, target: Path, budget_s: float, step_pages: int = -1) -> None:
    """Copy ``source`` into ``target`` with the backup API, waiting while the bot writes.

    ``step_pages=-1`` copies in one step (one short read transaction). A positive value
    copies in steps, releasing the lock between them, for rollback-journal databases too big
    to hold writers for a whole copy; if the bot writes meanwhile SQLite restarts the copy,
    and one that never holds still is reported busy after STEPPED_BUDGET_S. ``budget_s``
    bounds an uninterrupted wait for a lock. sqlite3's
    backup() retries a busy step forever; the progress callback is where waiting stops. A
    busy step holds no lock, so waiting never delays the bot.
    """
    deadline = time.monotonic() + STEPPED_BUDGET_S
    busy_since: list[float] = []

    def progress(status: int, remaining: int, total: int) -> None:
        now = time.monotonic()
        if status not in (SQLITE_BUSY, SQLITE_LOCKED):
            busy_since.clear()
        elif not busy_since:
            busy_since.append(now)
        if busy_since and now - busy_since[0] > budget_s:
            raise _StillBusy(f"database is locked (still busy after {budget_s:g} s)")
        if step_pages > 0 and now > deadline:
            raise _StillBusy(f"database kept changing for {STEPPED_BUDGET_S:g} s of copying")

    src = open_readonly(source, timeout=0, isolation_level=None, check_same_thread=False)
    dst = sqlite3.connect(target)
    # A scratch copy, deleted after the check: no journal, no fsync.
    dst.execute("PRAGMA journal_mode=OFF")
    dst.execute("PRAGMA synchronous=OFF")
    try:
        src.backup(dst, pages=step_pages, progress=progress, sleep=0.01)
    finally:
        dst.close()
        src.close()


def check_database(
    target: DbTarget,
    deep: bool = False,
    busy_budget_s: float = 2.0,
    one_step_limit: int = ONE_STEP_LIMIT,
) -> DbFacts:
    facts = DbFacts(target)
    started = time.perf_counter()
    try:
        st = target.path.stat()
    except FileNotFoundError:
        return facts
    except OSError as exc:
        facts.exists, facts.error = True, exc.strerror or str(exc)
        return facts
    facts.exists, facts.size = True, st.st_size
    if st.st_size == 0 and stat.S_ISREG(st.st_mode):
        facts.damage.append("0 bytes: an empty file, not a database (its data is gone)")
        return facts
    try:
        header = read_head(target.path, 100)
    except NotARegularFile as exc:
        facts.damage.append(str(exc))
        return facts
    except OSError as exc:
        facts.error = f"unreadable: {exc.strerror or exc}"
        return facts
    if not header.startswith(SQLITE_HEADER):
        facts.damage.append("not a SQLite database (no 'SQLite format 3' header)")
        return facts
    facts.journal = "wal" if len(header) > 18 and header[18] == 2 else "rollback"
    with tempfile.TemporaryDirectory(prefix="acore-doctor-db-") as tmp:
        copy = Path(tmp) / "snapshot.db"
        try:
            stepped = facts.journal == "rollback" and facts.size > one_step_limit
            _snapshot(target.path, copy, busy_budget_s, STEP_PAGES if stepped else -1)
            conn = sqlite3.connect(copy)
            try:
                facts.check = "integrity_check" if deep else "quick_check"
                rows = [r[0] for r in conn.execute(f"PRAGMA {facts.check}(20)")]
                if rows != ["ok"]:
                    facts.damage += [str(r) for r in rows]
                facts.tables = [
                    r[0]
                    for r in conn.execute(
                        "SELECT name FROM sqlite_master WHERE type='table' ORDER BY name"
                    )
                ]
            finally:
                conn.close()
        except (sqlite3.Error, _StillBusy) as exc:
            _classify(facts, exc)
    facts.elapsed_s = time.perf_counter() - started
    return facts


def describe_size(size: int) -> str:
    return f"{size / 2**20:.2f} MiB" if size >= 2**20 else f"{size / 1024:.1f} KiB"
