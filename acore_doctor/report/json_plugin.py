"""Output plugin: the run's JSON report, ``diagnostic_<stamp>.json`` plus ``latest.json``."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from acore_doctor.report.json_file import write_json_report


def report_stamp(report: dict[str, Any]) -> str:
    """``20261129_101500`` from the report's start time, for its file name."""
    return datetime.fromisoformat(report["timestamp"]).strftime("%Y%m%d_%H%M%S")


@pytest.hookimpl(tryfirst=True)
def pytest_doctor_write_outputs(report: dict[str, Any], report_dir: Path) -> list[str]:
    """First of the outputs: the others and the next run read ``latest.json``."""
    try:
        path = write_json_report(report, report_dir, report_stamp(report))
    except OSError as exc:
        return [
            f"(JSON report not written to {report_dir}: {exc.strerror or exc}; give "
            "--report-dir (or DIAGNOSTIC_REPORTS_PATH) a directory this user can write)"
        ]
    return [str(path), str(report_dir / "latest.json")]
