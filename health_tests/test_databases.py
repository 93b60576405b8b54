"""SQLite files of the deployment, opened read-only and checked on a private snapshot."""

import pytest

from acore_doctor import check
from acore_doctor.probes.databases import DbFacts, describe_size

GUIDE = "guides/deployment_issues.md"


def _present(databases: list[DbFacts]) -> list[DbFacts]:
    present = [d for d in databases if d.exists]
    if not present:
        pytest.skip("not applicable: the deployment has no SQLite database")
    return present


@pytest.mark.critical
@check(
    "SQLite databases are not damaged",
    "Stop the bot and run 'acore-doctor repair' (a dry run: it lists what it would do), then "
    "'acore-doctor repair --apply': it rebuilds the database from the newest verified backup "
    "and every row still readable in the damaged file, keeps the original in data/.quarantine/ "
    "and says how many rows may be lost.",
    guide=f"{GUIDE}#database-damaged",
)
def test_databases_undamaged(databases: list[DbFacts], record_details) -> None:
    present = _present(databases)
    record_details(
        "; ".join(
            f"{d.path.name}: {describe_size(d.size)}, {d.journal or '?'} journal, "
            f"{d.check or 'not checked'} {d.elapsed_s * 1000:.0f} ms"
            for d in present
        ),
    )
    damaged = [d for d in present if d.damage]
    assert not damaged, "expected quick_check 'ok', found: " + "; ".join(
        f"{d.path} ({d.target.why}): {' / '.join(d.damage[:3])}" for d in damaged
    )


@pytest.mark.warning
@check(
    "SQLite databases hold the expected tables and could be checked",
    "Check that the file is the database the bot expects (see the listed tables) and that "
    "no process holds a long write lock on it.",
    guide=f"{GUIDE}#database-tables-missing",
)
def test_database_tables(databases: list[DbFacts]) -> None:
    present = [d for d in _present(databases) if not d.damage]
    problems = []
    for d in present:
        if d.busy or d.error:
            problems.append(f"{d.path}: could not be checked ({d.busy or d.error})")
        elif d.missing_tables:
            problems.append(
                f"{d.path} ({d.target.why}) lacks table(s) {', '.join(d.missing_tables)}; "
                f"has {', '.join(d.tables) or 'none'}"
            )
    assert not problems, "expected checkable databases with their tables, found: " + "; ".join(
        problems
    )
