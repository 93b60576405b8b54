"""What the operations layer adds to every health run's report (called by the plugin)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from acore_doctor.ops import history
from acore_doctor.ops.metrics import run_metrics


def before_write(
    config: pytest.Config, report: dict[str, Any], report_dir: Path, bot_dir: Path
) -> dict[str, Any]:
    """Metrics and the comparison with the previous run, before ``latest.json`` is replaced."""
    report["metrics"] = run_metrics(config, bot_dir)
    try:
        return history.annotate(report, report_dir)
    except Exception as exc:  # the history is a comfort: it must never cost the verdict
        report["history"] = {
            "previous": None,
            "new": [],
            "resolved": [],
            "note": f"history unavailable: {type(exc).__name__}: {exc}",
        }
        return report


def after_write(report: dict[str, Any], report_dir: Path) -> str | None:
    """Append the run to the trend; a problem is returned as text, never raised."""
    try:
        history.record_trend(report, report_dir)
    except OSError as exc:
        return f"(run history not written: {exc.strerror or exc})"
    return None
