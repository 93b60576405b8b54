"""Hooks the engine calls at the end of a health run (registered with ``pytest_addhooks``).

The engine builds the report document, then asks every plugin to add to it
(:func:`pytest_doctor_enrich_report`: metrics, history), then to write it
(:func:`pytest_doctor_write_outputs`: JSON file, run trend, Prometheus, Nagios). Each output
is a plugin module of its own; none reads the engine's state. See ARCHITECTURE.md.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pluggy import HookspecMarker

hookspec = HookspecMarker("pytest")


@hookspec
def pytest_doctor_enrich_report(
    report: dict[str, Any], report_dir: Path, config: pytest.Config
) -> None:
    """Add blocks to the (already redacted) report document in place, before anything is
    written: ``latest.json`` is still the previous run's. Must not raise for bad data."""


@hookspec
def pytest_doctor_write_outputs(
    report: dict[str, Any], report_dir: Path, session: pytest.Session
) -> list[str] | None:
    """Write the finished report somewhere. Return lines for the summary's "Reports:" list
    (paths written, or a problem as text); never raise for an unwritable place.

    ``session.exitstatus`` already holds the verdict's exit code; an output that speaks a
    protocol with its own codes (Nagios) may change it.
    """
