"""Enrichment and output plugin: the run history (:mod:`acore_doctor.ops.history`).

Before anything is written, the report gets its ``history`` block (compared with the
previous ``latest.json``); after the JSON report, the run is appended to the trend file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from acore_doctor.ops import history


@pytest.hookimpl(trylast=True)
def pytest_doctor_enrich_report(report: dict[str, Any], report_dir: Path) -> None:
    """Last: the comparison sees every other block, and ``history`` ends the document."""
    try:
        history.annotate(report, report_dir)
    except Exception as exc:  # the history is a comfort: it must never cost the verdict
        report["history"] = {
            "previous": None,
            "new": [],
            "resolved": [],
            "note": f"history unavailable: {type(exc).__name__}: {exc}",
        }


def pytest_doctor_write_outputs(report: dict[str, Any], report_dir: Path) -> list[str]:
    """Append the run to the trend; a problem is returned as text, never raised."""
    try:
        history.record_trend(report, report_dir)
    except OSError as exc:
        return [f"(run history not written: {exc.strerror or exc})"]
    return []
