"""Output plugin for pytest-html, loaded in health runs only: the report's title, the doctor
summary above the results table (:func:`acore_doctor.report.html.summary_html`) and a
Severity column."""

from __future__ import annotations

from typing import Any

import pytest

from acore_doctor.report.html import summary_html
from acore_doctor.run_state import state_of


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
    severity = getattr(report, "severity", "")
    cells.insert(1, f'<td class="col-severity">{severity}</td>')
