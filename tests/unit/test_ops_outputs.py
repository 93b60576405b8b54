"""Monitoring outputs: --nagios line and exit codes, --prometheus textfile, JUnit severity."""

from __future__ import annotations

from acore_doctor.ops.nagios import nagios_line
from acore_doctor.ops.prometheus import render


def test_nagios_line_is_unknown_for_interrupted_runs():
    report = {"summary": {"exit_code": 130, "reason": "interrupted"}, "checks": []}
    assert nagios_line(report, 130).startswith("ACORE-DOCTOR UNKNOWN - interrupted |")


def test_prometheus_label_values_are_escaped():
    report = {
        "timestamp": "2026-01-01T00:00:00",
        "summary": {"overall_status": "healthy", "exit_code": 0},
        "checks": [
            {"nodeid": 'a"b\\c\nd', "title": "t", "severity": "warning", "outcome": "passed"}
        ],
    }
    text = render(report)
    assert 'check="a\\"b\\\\c\\nd"' in text
