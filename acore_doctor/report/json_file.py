"""Write the report as JSON: a timestamped file plus ``latest.json``, atomically."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

KEEP_REPORTS = 50
REPORT_GLOB = "diagnostic_*.json"


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` so readers see the old file or the new one, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_json_report(report: dict[str, Any], report_dir: Path, stamp: str) -> Path:
    """Write ``diagnostic_<stamp>.json`` and ``latest.json``; prune to the newest 50."""
    text = json.dumps(report, indent=2, ensure_ascii=False, default=str) + "\n"
    path = report_dir / f"diagnostic_{stamp}.json"
    suffix = 1
    while path.exists():
        suffix += 1
        path = report_dir / f"diagnostic_{stamp}_{suffix}.json"
    atomic_write_text(path, text)
    atomic_write_text(report_dir / "latest.json", text)
    prune_reports(report_dir)
    return path


def prune_reports(report_dir: Path, keep: int = KEEP_REPORTS) -> list[Path]:
    reports = sorted(report_dir.glob(REPORT_GLOB), key=lambda p: (p.stat().st_mtime, p.name))
    removed = reports[:-keep] if len(reports) > keep else []
    for old in removed:
        old.unlink(missing_ok=True)
    return removed
