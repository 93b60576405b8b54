"""SQLite's own ``.recover``, the reference the salvage is measured against (issue 19).

The CLI is built by ``.ci/build-sqlite-oracle`` from the amalgamation inside the npm package
``sqlite3`` with ``SQLITE_ENABLE_DBPAGE_VTAB`` (Debian's build lacks ``sqlite_dbpage``, so its
``.recover`` fails on every file), cached under ``~/.cache/acore-doctor/sqlite-oracle/``.
``ACORE_DOCTOR_SQLITE_ORACLE`` names another build.
"""

from __future__ import annotations

import functools
import os
import subprocess
from pathlib import Path

ENV = "ACORE_DOCTOR_SQLITE_ORACLE"
CACHED = Path.home() / ".cache" / "acore-doctor" / "sqlite-oracle" / "sqlite3"


@functools.cache
def oracle() -> Path | None:
    """The oracle CLI, when built and able to ``.recover``."""
    for candidate in (os.environ.get(ENV), str(CACHED)):
        if not candidate or not Path(candidate).is_file():
            continue
        probe = subprocess.run(
            [candidate, ":memory:", "SELECT count(*) FROM sqlite_dbpage"],
            capture_output=True,
            timeout=30,
            check=False,
        )
        if probe.returncode == 0:
            return Path(candidate)
    return None


SKIP_REASON = (
    f"SQLite's .recover oracle is not built: run .ci/build-sqlite-oracle (CI does), or set {ENV}"
)


def recover(damaged: Path, out: Path) -> bool:
    """``sqlite3 damaged .recover | sqlite3 out``; False when .recover gave nothing."""
    cli = oracle()
    assert cli is not None, SKIP_REASON
    out.unlink(missing_ok=True)
    dump = subprocess.run(
        [str(cli), "-readonly", str(damaged), ".recover"],
        capture_output=True,
        timeout=120,
        check=False,
    )
    if not dump.stdout:
        return False
    load = subprocess.run(
        [str(cli), str(out)], input=dump.stdout, capture_output=True, timeout=120, check=False
    )
    return load.returncode == 0 or out.exists()
