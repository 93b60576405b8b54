"""Salvage what is readable from a damaged SQLite database into a new file.

The original is never written: work happens on a scratch copy. First choice is the sqlite3
CLI's ``.recover`` (when installed); its output is only accepted if the new database passes
``quick_check`` and holds tables. Otherwise rows are copied one by one from whatever
pages still read, skipping ahead over unreadable ranges. A garbage-headed file gets a
synthesized header on the scratch copy first (page 1's schema usually survives).
"""

from __future__ import annotations

import functools
import shutil
import sqlite3
import struct
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from acore_doctor.probes.databases import open_readonly
from acore_doctor.recovery.backup import table_counts
from acore_doctor.recovery.common import SQLITE_MAGIC, copy_file_synced

PAGE_SIZES = (4096, 1024, 2048, 8192, 16384, 32768, 65536, 512)
MAX_SKIPS_PER_TABLE = 200


@dataclass
class Salvage:
    ok: bool
    method: str = ""
    tables: dict[str, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def quick_check_ok(path: Path) -> bool:
    try:
        conn = open_readonly(path)
        try:
            return conn.execute("PRAGMA quick_check").fetchall() == [("ok",)]
        finally:
            conn.close()
    except sqlite3.Error:
        return False


def synthesized_header(file_size: int, page_size: int) -> bytes:
    """A plausible 100-byte database header (https://www.sqlite.org/fileformat.html)."""
    header = bytearray(100)
    header[0:16] = SQLITE_MAGIC
    struct.pack_into(">H", header, 16, 1 if page_size == 65536 else page_size)
    header[18:24] = bytes([1, 1, 0, 64, 32, 32])
    struct.pack_into(">I", header, 24, 1)  # file change counter
    struct.pack_into(">I", header, 28, file_size // page_size)
    struct.pack_into(">I", header, 40, 1)  # schema cookie: nonzero, so the schema is read
    struct.pack_into(">I", header, 44, 4)  # schema format
    struct.pack_into(">I", header, 56, 1)  # UTF-8
    struct.pack_into(">I", header, 92, 1)  # version-valid-for = change counter
    struct.pack_into(">I", header, 96, 3040001)
    return bytes(header)


def _schema_rows(path: Path) -> int:
    try:
        conn = open_readonly(path)
        try:
            conn.execute("PRAGMA writable_schema=ON")
            return conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
        finally:
            conn.close()
    except sqlite3.Error:
        return -1


def _repair_header(scratch: Path) -> str | None:
    """Give a copy whose magic is gone a header; returns the page size it chose, or None."""
    with scratch.open("rb") as handle:
        if handle.read(16) == SQLITE_MAGIC:
            return None
    size = scratch.stat().st_size
    best: tuple[int, int] | None = None
    for page_size in PAGE_SIZES:
        with scratch.open("r+b") as handle:
            handle.write(synthesized_header(size, page_size))
        rows = _schema_rows(scratch)
        if rows > 0 and (best is None or rows > best[1]):
            best = (page_size, rows)
            break
    chosen = best[0] if best else PAGE_SIZES[0]
    with scratch.open("r+b") as handle:
        handle.write(synthesized_header(size, chosen))
    return str(chosen)


@functools.cache
def cli_can_recover(cli: str) -> bool:
    """``.recover`` reads pages through the sqlite_dbpage virtual table; some builds (Debian
    12's 3.40) leave it out, and then ``.recover`` fails on every database."""
    try:
        probe = subprocess.run(
            [cli, ":memory:", "SELECT count(*) FROM sqlite_dbpage"],
            capture_output=True,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return False
    return probe.returncode == 0


def _recover_with_cli(scratch: Path, target: Path, cli: str) -> str | None:
    """The CLI's .recover piped into a new database; None when that worked."""
    target.unlink(missing_ok=True)
    try:
        dump = subprocess.Popen(
            [cli, "-readonly", str(scratch), ".recover"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        load = subprocess.run(
            [cli, str(target)],
            stdin=dump.stdout,
            capture_output=True,
            timeout=3600,
            check=False,
        )
        if dump.stdout:
            dump.stdout.close()
        dump_err = dump.stderr.read().decode(errors="replace") if dump.stderr else ""
        dump.wait(timeout=60)
    except (OSError, subprocess.SubprocessError) as exc:
        return f".recover could not run: {exc}"
    if dump.returncode != 0:
        return f".recover exited {dump.returncode}: {dump_err.strip()[:200]}"
    if load.returncode != 0:
        return f"loading .recover output failed: {load.stderr.decode(errors='replace')[:200]}"
    return None


def _copy_rows(scratch: Path, target: Path) -> list[str]:
    """Row-by-row copy of whatever reads; returns the problems met."""
    problems: list[str] = []
    target.unlink(missing_ok=True)
    src = open_readonly(scratch)
    # Lets a schema naming pages past a truncated end still load (read-only here).
    src.execute("PRAGMA writable_schema=ON")
    dst = sqlite3.connect(target)
    try:
        try:
            schema = src.execute(
                "SELECT type, name, tbl_name, sql FROM sqlite_master WHERE sql IS NOT NULL"
            ).fetchall()
        except sqlite3.Error as exc:
            return [f"schema unreadable: {exc}"]
        tables = [(n, sql) for kind, n, _t, sql in schema if kind == "table"]
        for name, sql in tables:
            if name.startswith("sqlite_"):
                continue
            try:
                dst.execute(sql)
            except sqlite3.Error as exc:
                problems.append(f"table {name}: cannot create ({exc})")
                continue
            problems += _copy_table(src, dst, name)
            dst.commit()
        if any(n == "sqlite_sequence" for n, _ in tables):
            try:
                rows = src.execute("SELECT name, seq FROM sqlite_sequence").fetchall()
                dst.executemany("INSERT INTO sqlite_sequence(name, seq) VALUES (?, ?)", rows)
            except sqlite3.Error as exc:
                problems.append(f"sqlite_sequence: {exc}")
        for kind, name, _t, sql in schema:
            if kind in ("index", "trigger", "view"):
                try:
                    dst.execute(sql)
                except sqlite3.Error as exc:
                    problems.append(f"{kind} {name} not recreated: {exc}")
        dst.commit()
    finally:
        src.close()
        dst.close()
    return problems


def _copy_table(src: sqlite3.Connection, dst: sqlite3.Connection, name: str) -> list[str]:
    table = _quote(name)
    after: int | None = None
    skips = 0
    problems: list[str] = []
    while True:
        where = "" if after is None else f" WHERE rowid > {after}"
        try:
            cursor = src.execute(f"SELECT rowid, * FROM {table}{where} ORDER BY rowid")
            columns = [d[0] for d in cursor.description][1:]
            insert = (
                f"INSERT OR IGNORE INTO {table}(rowid, {', '.join(_quote(c) for c in columns)}) "
                f"VALUES ({', '.join('?' * (len(columns) + 1))})"
            )
            for row in cursor:
                dst.execute(insert, row)
                after = row[0]
            return problems
        except sqlite3.OperationalError as exc:
            if "rowid" in str(exc) and after is None:
                return problems + _copy_without_rowid(src, dst, name)
            problems.append(f"table {name}: {exc}")
            return problems
        except sqlite3.DatabaseError as exc:
            skips += 1
            if skips > MAX_SKIPS_PER_TABLE:
                problems.append(f"table {name}: gave up after {skips} unreadable ranges")
                return problems
            resumed = _next_readable(src, table, after)
            if resumed is None:
                if skips == 1:
                    problems.append(f"table {name}: stopped at an unreadable page ({exc})")
                return problems
            problems.append(f"table {name}: skipped unreadable rows after rowid {after}")
            after = resumed


def _next_readable(src: sqlite3.Connection, table: str, after: int | None) -> int | None:
    """A rowid from which reading works again, probing further and further ahead."""
    base = after or 0
    step = 1
    while step < 2**62:
        try:
            row = src.execute(
                f"SELECT rowid FROM {table} WHERE rowid > ? ORDER BY rowid LIMIT 1",
                (base + step,),
            ).fetchone()
            if row is None:
                return None
            return row[0] - 1
        except sqlite3.DatabaseError:
            step *= 4
    return None


def _copy_without_rowid(src: sqlite3.Connection, dst: sqlite3.Connection, name: str) -> list[str]:
    table = _quote(name)
    try:
        cursor = src.execute(f"SELECT * FROM {table}")
        marks = ", ".join("?" * len(cursor.description))
        for row in cursor:
            dst.execute(f"INSERT OR IGNORE INTO {table} VALUES ({marks})", row)
    except sqlite3.DatabaseError as exc:
        return [f"table {name}: stopped at an unreadable page ({exc})"]
    return []


def salvage_sqlite(source: Path, target: Path, use_cli: bool | None = None) -> Salvage:
    """Salvage ``source`` into ``target`` (replaced if present). ``use_cli`` None means
    'when the sqlite3 CLI is installed'."""
    scratch = target.with_name(target.name + ".src")
    copy_file_synced(source, scratch)
    result = Salvage(ok=False)
    try:
        page_size = _repair_header(scratch)
        if page_size:
            result.problems.append(f"header unreadable; rebuilt with page size {page_size}")
        cli = shutil.which("sqlite3") if use_cli in (None, True) else None
        if cli and not cli_can_recover(cli):
            result.problems.append(f"{cli} cannot .recover (built without the sqlite_dbpage table)")
            cli = None
        if cli:
            failure = _recover_with_cli(scratch, target, cli)
            if failure is None and quick_check_ok(target) and _has_tables(target):
                result.method = "sqlite3 .recover"
            else:
                result.problems.append(failure or ".recover produced no usable database")
        if not result.method:
            result.problems += _copy_rows(scratch, target)
            result.method = "row-by-row copy"
        result.ok = target.exists() and quick_check_ok(target) and _has_tables(target)
        if result.ok:
            conn = open_readonly(target)
            try:
                result.tables = table_counts(conn)
            finally:
                conn.close()
        return result
    finally:
        scratch.unlink(missing_ok=True)


def _has_tables(path: Path) -> bool:
    try:
        conn = open_readonly(path)
        try:
            return bool(table_counts(conn))
        finally:
            conn.close()
    except sqlite3.Error:
        return False
