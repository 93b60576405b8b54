"""Write the report as JSON: a timestamped file plus ``latest.json``, atomically."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from acore_doctor.fsio import write_atomic

KEEP_REPORTS = 50
REPORT_GLOB = "diagnostic_*.json"


def write_json_report(report: dict[str, Any], report_dir: Path, stamp: str) -> Path:
    """Write ``diagnostic_<stamp>.json`` and ``latest.json``; prune to the newest 50."""
    text = json.dumps(report, indent=2, ensure_ascii=False, default=str) + "\n"
    path = report_dir / f"diagnostic_{stamp}.json"
    suffix = 1
    while path.exists():
        suffix += 1
        path = report_dir / f"diagnostic_{stamp}_{suffix}.json"
    write_atomic(path, text, make_parents=True)
    write_atomic(report_dir / "latest.json", text, make_parents=True)
    prune_reports(report_dir)
    return path


def prune_reports(report_dir: Path, keep: int = KEEP_REPORTS) -> list[Path]:
    reports = sorted(report_dir.glob(REPORT_GLOB), key=lambda p: (p.stat().st_mtime, p.name))
    removed = reports[:-keep] if len(reports) > keep else []
    for old in removed:
        old.unlink(missing_ok=True)
    return removed
