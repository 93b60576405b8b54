"""Run history: new/resolved since the previous run in console, JSON and HTML; the trend file."""

from __future__ import annotations

import json

import pytest

from acore_doctor.ops.history import TREND_FILE, read_trend

CHECKS = """
import pytest
from acore_doctor import check


@pytest.mark.critical
@check("Widget A is intact", "Restore widget A.")
def test_widget_a(bot_dir):
    assert not (bot_dir / "broken_a").exists(), "expected widget A intact, found broken_a"


@pytest.mark.warning
@check("Widget B is intact", "Restore widget B.")
def test_widget_b(bot_dir):
    assert not (bot_dir / "broken_b").exists(), "expected widget B intact, found broken_b"
"""


@pytest.fixture
def suite(pytester: pytest.Pytester):
    pytester.mkdir("health_tests")
    (pytester.path / "health_tests" / "test_widgets.py").write_text(CHECKS)
    bot = pytester.mkdir("bot")
    reports = pytester.path / "reports"

    def run(*args: str, env: dict[str, str] | None = None):
        for key, value in (env or {}).items():
            pytester._monkeypatch.setenv(key, value)
        result = pytester.runpytest_subprocess(
            f"--bot-dir={bot}", f"--report-dir={reports}", "-p", "no:cacheprovider", *args
        )
        return result, json.loads((reports / "latest.json").read_text())

    run.bot = bot  # type: ignore[attr-defined]
    run.reports = reports  # type: ignore[attr-defined]
    return run


def test_new_and_resolved_since_last_run_in_console_json_and_html(suite, pytester):
    (suite.bot / "broken_a").touch()
    _, first = suite()
    assert first["history"]["previous"] is None
    assert first["history"]["new"] == [] and first["history"]["resolved"] == []
    (suite.bot / "broken_a").unlink()
    (suite.bot / "broken_b").touch()
    result, second = suite(f"--html={pytester.path / 'report.html'}", "--self-contained-html")

    history = second["history"]
    assert history["previous"] == first["timestamp"]
    assert history["previous_status"] == "critical"
    assert [e["check"] for e in history["new"]] == ["health_tests/test_widgets.py::test_widget_b"]
    assert [e["check"] for e in history["resolved"]] == [
        "health_tests/test_widgets.py::test_widget_a"
    ]
    out = result.stdout.str()
    assert "Since the last run" in out and "1 new, 1 resolved" in out
    assert "+ new [warning] Widget B is intact" in out
    assert "- resolved [critical] Widget A is intact" in out
    html = (pytester.path / "report.html").read_text()
    assert (
        "Since the last run" in html and "history-resolved" in html and "Widget A is intact" in html
    )


def test_unchanged_or_unselected_failures_are_neither_new_nor_resolved(suite):
    (suite.bot / "broken_a").touch()
    (suite.bot / "broken_b").touch()
    suite()
    _, unchanged = suite()
    assert unchanged["history"]["new"] == [] and unchanged["history"]["resolved"] == []
    _, partial = suite("-k", "widget_b")  # widget A not run: not resolved
    assert partial["history"]["resolved"] == [] and partial["history"]["new"] == []


def test_previous_run_of_another_deployment_is_not_compared(suite, pytester):
    (suite.bot / "broken_a").touch()
    suite()
    other = pytester.mkdir("other_bot")
    result = pytester.runpytest_subprocess(
        f"--bot-dir={other}", f"--report-dir={suite.reports}", "-p", "no:cacheprovider"
    )
    report = json.loads((suite.reports / "latest.json").read_text())
    assert report["history"]["note"] == "the previous run checked another deployment"
    assert report["history"]["resolved"] == []
    assert result.ret == 0


def test_trend_records_runs_with_durations_and_disk_within_the_retention_limit(suite):
    keep = {"ACORE_DOCTOR_HISTORY_KEEP": "2"}
    suite(env=keep)
    (suite.bot / "broken_b").touch()
    suite(env=keep)
    (suite.bot / "broken_a").touch()
    suite(env=keep)
    runs = read_trend(suite.reports)
    assert [r["status"] for r in runs] == ["warning", "critical"]
    assert len((suite.reports / TREND_FILE).read_text().splitlines()) == 2
    assert runs[-1]["duration_s"] >= 0
    assert set(runs[-1]["durations"]) <= {
        "health_tests/test_widgets.py::test_widget_a",
        "health_tests/test_widgets.py::test_widget_b",
    }
    assert 0 < runs[-1]["metrics"]["disk_used_pct"] <= 100


def test_recorded_metric_reaches_report_and_trend_despite_a_foreign_previous_report(
    suite, pytester
):
    suite.reports.mkdir()
    (suite.reports / "latest.json").write_text('{"summary": {}, "environment": [1], "issues": "x"}')
    (pytester.path / "health_tests" / "test_latency.py").write_text(
        "import pytest\nfrom acore_doctor import check\n\n"
        "@pytest.mark.warning\n@check('Latency recorded', 'n/a')\n"
        "def test_latency(doctor_metric):\n    doctor_metric('ollama latency ms', 12.5)\n"
    )
    result, report = suite()
    assert result.ret == 0
    assert report["history"]["previous"] is None
    assert report["metrics"]["ollama_latency_ms"] == 12.5
    assert read_trend(suite.reports)[-1]["metrics"]["ollama_latency_ms"] == 12.5


def test_a_subset_run_updates_only_the_checks_it_ran(suite):
    """Rerunning one check must not make the next full run call the others new."""
    (suite.bot / "broken_a").touch()
    (suite.bot / "broken_b").touch()
    suite()
    _, only_b = suite("-k", "widget_b")
    assert only_b["history"]["subset"] is True
    assert only_b["history"]["new"] == [] and only_b["history"]["resolved"] == []
    _, full = suite()
    assert full["history"]["subset"] is False
    assert full["history"]["new"] == [], "widget A failed the last time it ran: not new"
    assert full["history"]["resolved"] == []


def test_each_check_is_compared_with_its_own_last_result(suite):
    (suite.bot / "broken_a").touch()
    (suite.bot / "broken_b").touch()
    suite()
    (suite.bot / "broken_a").unlink()
    _, only_b = suite("health_tests/test_widgets.py::test_widget_b")
    assert only_b["history"]["subset"] is True
    assert only_b["history"]["resolved"] == [], "widget A did not run"
    _, full = suite()
    assert [e["check"] for e in full["history"]["resolved"]] == [
        "health_tests/test_widgets.py::test_widget_a"
    ], "widget A failed when it last ran and passes now"
    (suite.bot / "broken_a").touch()
    _, only_a = suite("-k", "widget_a")
    assert [e["check"] for e in only_a["history"]["new"]] == [
        "health_tests/test_widgets.py::test_widget_a"
    ]


def test_trend_view_shows_full_runs_only(suite):
    suite()
    (suite.bot / "broken_b").touch()
    suite()
    suite("-k", "widget_a")
    result, last = suite()
    out = result.stdout.str()
    assert "Trend, last 3 full runs" in out and "  status    oww  (o healthy" in out
    runs = read_trend(suite.reports)
    assert [bool(r.get("subset")) for r in runs] == [False, False, True, False]
    trend = last["history"]["trend"]
    assert [point["status"] for point in trend] == ["healthy", "warning", "warning"]
    assert trend[-1]["t"] == last["timestamp"]
    assert trend[-1]["warnings"] == 1 and trend[-1]["passed"] == 1
