"""Output plugin for pytest-html: the doctor summary above the results
table (:func:`acore_doctor.report.html.summary_html`) and a Severity column."""

from __future__ import annotations

import pytest

from acore_doctor.report.html import summary_html
from acore_doctor.run_state import is_health_run, state_of


@pytest.hookimpl(optionalhook=True)
def pytest_html_results_summary(
    prefix: list[str], summary: list[str], postfix: list[str], session: pytest.Session
) -> None:
    if not is_health_run(session.config):
        return
    report = state_of(session.config).report
    if report is not None:
        prefix.append(summary_html(report))


@pytest.hookimpl(optionalhook=True)
def pytest_html_results_table_header(cells: list[str]) -> None:
    cells.insert(1, '<th class="sortable" data-column-type="severity">Severity</th>')


@pytest.hookimpl(optionalhook=True)
def pytest_html_results_table_row(report: pytest.TestReport, cells: list[str]) -> None:
    severity = getattr(report, "severity", "")
    cells.insert(1, f'<td class="col-severity">{severity}</td>')
