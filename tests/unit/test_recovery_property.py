"""Property-based salvage (issue 19, point 10): hypothesis generates schemas, rows, drift
since the backup and page damage; the rebuild never crashes, never invents a row, brings a
deleted row back only counted as restored from the backup, and never calls a result with
losses complete. Few, small examples: the unit tier runs on two shared cores."""

from __future__ import annotations

import random
import shutil
import sqlite3
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from acore_doctor.recovery.salvage import rebuild_database
from tests.support.shapes import table_rows, user_tables

TYPES = ("INTEGER", "TEXT", "REAL", "BLOB", "")

table_spec = st.fixed_dictionaries(
    {
        "columns": st.lists(st.sampled_from(TYPES), min_size=1, max_size=4),
        "alias": st.booleans(),
        "clustered": st.booleans(),
        "rows": st.integers(0, 400),
    }
)
damage_spec = st.tuples(st.floats(0.0, 1.0), st.sampled_from(("noise", "zeros", "cut")))


def value(rng: random.Random, kind: str) -> object:
    if kind == "INTEGER":
        return rng.randrange(-(10**9), 10**9)
    if kind == "REAL":
        return rng.random() * 1000
    if kind == "BLOB":
        return rng.randbytes(rng.randrange(0, 40))
    if kind == "TEXT":
        return "t" * rng.randrange(0, 3) + " ".join(str(rng.random()) for _ in range(3))
    return rng.choice([None, 7, "x" * rng.randrange(0, 30)])


def create(path: Path, tables: list[dict], page_size: int, seed: int) -> None:
    rng = random.Random(seed)
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA page_size={page_size}")
    for n, spec in enumerate(tables):
        columns = [f"c{i} {kind}".strip() for i, kind in enumerate(spec["columns"])]
        suffix = ""
        if spec["clustered"]:
            columns.insert(0, "k TEXT PRIMARY KEY NOT NULL")
            suffix = " WITHOUT ROWID"
        elif spec["alias"]:
            columns.insert(0, "id INTEGER PRIMARY KEY")
        conn.execute(f"CREATE TABLE t{n}({', '.join(columns)}){suffix}")
        for i in range(spec["rows"]):
            values = [value(rng, kind) for kind in spec["columns"]]
            if spec["clustered"]:
                values.insert(0, f"key{i:06d}")
            elif spec["alias"]:
                values.insert(0, i + 1)
            conn.execute(f"INSERT INTO t{n} VALUES ({', '.join('?' * len(values))})", values)
    conn.commit()
    conn.close()


def drift(path: Path, tables: list[dict], seed: int) -> None:
    rng = random.Random(seed)
    conn = sqlite3.connect(path)
    for n, spec in enumerate(tables):
        if spec["clustered"]:
            conn.execute(f"DELETE FROM t{n} WHERE k BETWEEN 'key000050' AND 'key000090'")
            continue
        start = rng.randrange(0, max(1, spec["rows"]))
        conn.execute(f"DELETE FROM t{n} WHERE rowid BETWEEN ? AND ?", (start, start + 30))
    conn.commit()
    conn.close()


def damage(path: Path, page_size: int, where: float, kind: str, seed: int) -> None:
    pages = path.stat().st_size // page_size
    page = 2 + int(where * max(0, pages - 2))
    with path.open("r+b") as handle:
        if kind == "cut":
            handle.truncate(max(page_size, page * page_size))
            return
        handle.seek((page - 1) * page_size)
        data = random.Random(seed).randbytes(page_size) if kind == "noise" else bytes(page_size)
        handle.write(data)


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    tables=st.lists(table_spec, min_size=1, max_size=3),
    page_size=st.sampled_from((512, 1024, 4096)),
    damages=st.lists(damage_spec, min_size=1, max_size=3),
    with_backup=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_salvage_properties(
    tmp_path_factory, tables, page_size, damages, with_backup, seed
) -> None:  # noqa: ANN001
    root = tmp_path_factory.mktemp("prop")
    backup, live = root / "backup.db", root / "live.db"
    create(backup, tables, page_size, seed)
    shutil.copy(backup, live)
    drift(live, tables, seed)
    names = user_tables(live)
    truth, backed_up = table_rows(live, names), table_rows(backup, names)
    for where, kind in damages:
        damage(live, page_size, where, kind, seed)
    out = root / "out.db"
    rebuilt = rebuild_database(
        live,
        out,
        root / "work",
        backup if with_backup else None,
        "B" if with_backup else None,
        use_cli=False,
    )
    assert not list(root.glob("*.partial"))
    if not rebuilt.ok:
        assert not rebuilt.complete
        return
    ours = table_rows(out, names)
    lost = resurrected = altered = 0
    for table, rows in truth.items():
        mine = ours.get(table, {})
        assert all(k in rows or k in backed_up[table] for k in mine), "a row was invented"
        lost += sum(1 for key, row in rows.items() if mine.get(key) != row)
        resurrected += sum(1 for key in mine if key not in rows)
        altered += sum(
            1
            for key, row in mine.items()
            if key in rows and row != rows[key] and row != backed_up[table].get(key)
        )
    suspect = sum(len(t.unclean) for t in rebuilt.salvage.details.values())
    assert altered <= suspect
    assert resurrected <= rebuilt.restored, rebuilt.summary()
    if lost or resurrected or altered:
        assert not rebuilt.complete, f"{lost} lost, exit 0: {rebuilt.summary()}"
