"""Enrichment and output plugin: the run history (:mod:`acore_doctor.ops.history`).

Before anything is written, the report gets its ``history`` block (each check compared
with its own last result, whether this run selected a subset, the recent trend); after the
JSON report, the run is appended to the trend file and its checks' results are kept.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from acore_doctor.ops import history

#: Options that narrow a run to part of the suite.
SELECTING_OPTIONS = ("keyword", "markexpr", "deselect", "lf", "stepwise")


def selects_subset(config: pytest.Config, report: dict[str, Any] | None = None) -> bool:
    """The run checks part of the suite: a node id, a file, or a -k/-m/--lf/--deselect
    selection (a check directory as a whole is not a subset), a run that stops at a failure
    (-x, --maxfail), or one that checked nothing."""
    if any(config.getoption(name, None) for name in SELECTING_OPTIONS):
        return True
    if config.getoption("maxfail", 0) or (report is not None and not report.get("checks")):
        return True
    for arg in config.args:
        path, _, node = arg.partition("::")
        target = Path(path)
        if not target.is_absolute():
            target = config.invocation_params.dir / target
        if node or target.is_file():
            return True
    return False


@pytest.hookimpl(trylast=True)
def pytest_doctor_enrich_report(
    report: dict[str, Any], report_dir: Path, config: pytest.Config
) -> None:
    """Last: the comparison sees every other block, and ``history`` ends the document."""
    try:
        history.annotate(report, report_dir, subset=selects_subset(config, report))
        report["history"]["trend"] = history.recent_runs(
            history.read_trend_tail(report_dir), report
        )
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
        history.record_results(report, report_dir)
    except OSError as exc:
        return [f"(run history not written: {exc.strerror or exc})"]
    return []
