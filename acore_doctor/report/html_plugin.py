"""Output plugin for pytest-html, loaded in health runs only: the report's title, the doctor
summary above the results table (:func:`acore_doctor.report.html.summary_html`), a coloured
Severity column, a guide link per row, and rows whose skip reasons read as sentences and whose
long texts are cut with a count."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import pytest

from acore_doctor.report.html import guide_link, results_log, severity_cell, summary_html
from acore_doctor.run_state import is_xdist_worker, state_of


@pytest.hookimpl(optionalhook=True)
def pytest_html_report_title(report: Any) -> None:
    report.title = f"acore-doctor: {state_of(report.config).deployment.bot_dir}"


@pytest.hookimpl(optionalhook=True)
def pytest_html_results_summary(
    prefix: list[str], summary: list[str], postfix: list[str], session: pytest.Session
) -> None:
    report = state_of(session.config).report
    if report is not None:
        prefix.append(summary_html(report))


@pytest.hookimpl(optionalhook=True)
def pytest_html_results_table_header(cells: list[str]) -> None:
    cells.insert(1, '<th class="sortable" data-column-type="severity">Severity</th>')


@pytest.hookimpl(optionalhook=True)
def pytest_html_results_table_row(report: pytest.TestReport, cells: list[str]) -> None:
    cells.insert(1, severity_cell(getattr(report, "severity", "")))
    guide = getattr(report, "doctor_guide", None)
    for index, cell in enumerate(cells):
        if guide and cell.startswith('<td class="col-links">') and cell.endswith("</td>"):
            cells[index] = cell.removesuffix("</td>") + guide_link(guide, "guide") + "</td>"


@pytest.hookimpl(optionalhook=True)
def pytest_html_results_table_html(report: pytest.TestReport, data: list[str]) -> None:
    if getattr(report, "severity", None):  # a check of a health run
        results_log(report, data)


def pytest_sessionstart(session: pytest.Session) -> None:
    """pytest-metadata's table (CI variables such as a GIT_URL with a token, ``--metadata``)
    goes into the HTML report and the console header: redact it like everything else."""
    try:
        from pytest_metadata.plugin import metadata_key
    except ImportError:
        return
    metadata = session.config.stash.get(metadata_key, None)
    if metadata:
        redact = state_of(session.config).redact
        clean = redact.document(metadata)
        metadata.clear()
        metadata.update(clean)


def pytest_sessionfinish(session: pytest.Session) -> None:
    """The guides as HTML beside the report (its guide links are relative), so they travel
    with it as a CI artifact."""
    config = session.config
    html_path = getattr(config.option, "htmlpath", None)
    if not html_path or is_xdist_worker(config):
        return
    from acore_doctor.report.guides_html import write_guides
    from acore_doctor.suite import suite_root

    target = Path(os.path.expanduser(html_path))
    target = target if target.is_absolute() else config.invocation_params.dir / target
    try:
        write_guides(suite_root() / "guides", target.parent)
    except OSError as exc:
        sys.stderr.write(f"acore-doctor: guides not written beside the HTML report: {exc}\n")
