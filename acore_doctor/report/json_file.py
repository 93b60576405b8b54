"""Write the report as JSON: a timestamped file plus ``latest.json``, atomically."""

from __future__ import annotations

import itertools
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from acore_doctor.fsio import fsync_dir, private_dir, write_atomic

KEEP_REPORTS = 50
REPORT_GLOB = "diagnostic_*.json"


def write_json_report(report: dict[str, Any], report_dir: Path, stamp: str) -> Path:
    """Write ``diagnostic_<stamp>.json`` (``_2``, ``_3``... when runs share the second) and
    ``latest.json``; prune to the newest 50. A run that checked nothing (``-k nomatch``)
    keeps its own file but leaves ``latest.json`` as it was (:func:`empty_selection`)."""
    text = json.dumps(report, indent=2, ensure_ascii=False, default=str) + "\n"
    private_dir(report_dir)
    path = _write_new(report_dir, f"diagnostic_{stamp}", text)
    if not empty_selection(report):
        write_atomic(report_dir / "latest.json", text, make_parents=True)
    prune_reports(report_dir)
    return path


#: The reason of a run whose selection matched no check (``-k nomatch``).
NO_CHECK_SELECTED = "no check selected"


def empty_selection(report: dict[str, Any]) -> bool:
    """A run that selected no check: it says nothing about the deployment, so it never
    becomes ``latest.json`` (a run that could not decide for another reason does)."""
    summary = report.get("summary") or {}
    reason = str(summary.get("reason") or "")
    return not report.get("checks") and reason.startswith(NO_CHECK_SELECTED)


def _write_new(report_dir: Path, stem: str, text: str) -> Path:
    """``text`` complete under the first free name ``<stem>.json``, ``<stem>_2.json``...:
    written to a temporary file, then hard-linked to the name, which fails if another run
    took it meanwhile (two runs in the same second never overwrite each other)."""
    fd, name = tempfile.mkstemp(prefix=f".{stem}.", suffix=".tmp", dir=report_dir)
    partial = Path(name)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        for suffix in itertools.count(1):
            path = report_dir / (f"{stem}.json" if suffix == 1 else f"{stem}_{suffix}.json")
            try:
                os.link(partial, path)
            except FileExistsError:
                continue
            fsync_dir(report_dir)
            return path
    finally:
        partial.unlink(missing_ok=True)
    raise AssertionError("unreachable")


def prune_reports(report_dir: Path, keep: int = KEEP_REPORTS) -> list[Path]:
    reports = sorted(report_dir.glob(REPORT_GLOB), key=lambda p: (p.stat().st_mtime, p.name))
    removed = reports[:-keep] if len(reports) > keep else []
    for old in removed:
        old.unlink(missing_ok=True)
    return removed
