"""The HTML summary and rows: linked guides, coloured severities, cut texts, sentences, trend."""

from __future__ import annotations

from html.parser import HTMLParser
from types import SimpleNamespace

from acore_doctor.report.html import (
    MAX_LINES,
    results_log,
    sentence,
    severity_cell,
    summary_html,
    truncate,
)
from acore_doctor.suite import suite_root

GUIDE = "guides/deployment_issues.md#database-damaged"
INTEGRITY = "expected quick_check 'ok', found: bot.db: *** in database main ***\n" + "\n".join(
    f"On tree page {n} cell 3: Rowid {n} out of order" for n in range(40)
)


class Elements(HTMLParser):
    """Every start tag with its attributes, and the text, of an HTML fragment."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.text: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, {k: v or "" for k, v in attrs}))

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def all(self, tag: str, cls: str | None = None) -> list[dict[str, str]]:
        return [
            attrs
            for name, attrs in self.tags
            if name == tag and (cls is None or cls in attrs.get("class", "").split())
        ]


def entry(check: str, severity: str, message: str = "expected x, found y") -> dict:
    return {
        "check": check,
        "title": f"Title of {check}",
        "severity": severity,
        "message": message,
        "guide": GUIDE,
    }


def report(trend: list[dict] | None = None) -> dict:
    return {
        "summary": {
            "overall_status": "critical",
            "exit_code": 2,
            "total_issues": 1,
            "total_warnings": 1,
            "total_info": 2,
        },
        "issues": [entry("db", "critical", INTEGRITY)],
        "warnings": [entry("tmp", "warning")],
        "info": [
            {**entry("voice", "warning", "not applicable: voice disabled"), "outcome": "skipped"},
            {**entry("ok", "warning", ""), "outcome": "passed"},
        ],
        "checks": [{"outcome": o} for o in ("failed", "failed", "skipped", "passed")],
        "recommendations": [
            {"text": "Recover the database.", "severity": "critical", "guide": GUIDE}
        ],
        "history": {"trend": trend or []},
    }


def test_guide_references_are_relative_links_to_the_guides_beside_the_report():
    page = Elements(summary_html(report()))
    links = page.all("a", "guide")
    assert (suite_root() / "guides" / "deployment_issues.md").is_file()
    expected = "guides/deployment_issues.html#database-damaged"
    assert len(links) == 3 and {link["href"] for link in links} == {expected}


def test_severities_carry_their_colour_class():
    page = Elements(summary_html(report()))
    badges = [attrs["class"] for attrs in page.all("span", "sev")]
    assert badges == ["sev sev-critical", "sev sev-warning", "sev sev-critical"]
    style = "".join(page.text)
    assert ".acore-doctor-summary .sev-critical{background:#c62828}" in style
    assert severity_cell("critical") == '<td class="col-severity sev-critical">critical</td>'
    assert "td.col-severity.sev-warning{color:#b34700" in style  # 5.5:1 on white


def test_a_long_raw_output_is_cut_with_a_count():
    html = summary_html(report())
    assert "On tree page 10 cell" in html and "On tree page 11 cell" not in html
    assert f"... {41 - MAX_LINES} more lines not shown (the JSON report has the full text)" in html
    kept, note = truncate("x" * 5000)
    assert len(kept) == 1200 and note.startswith("... 3800 more characters not shown")
    assert truncate("short") == ("short", "")


def test_skipped_checks_are_listed_with_their_reason_as_a_sentence():
    page = Elements(summary_html(report()))
    text = "".join(page.text)
    assert "1 check(s) not applicable or blocked" in text
    assert "Title of voice: Not applicable: voice disabled." in text
    assert "1 passed, 1 not applicable or blocked" in text
    assert sentence("Skipped: blocked by ollama: down") == "Blocked by ollama: down."
    assert sentence("not applicable (voice off)") == "Not applicable (voice off)"


def test_the_results_row_of_a_skipped_check_reads_as_a_sentence_not_a_tuple():
    row = SimpleNamespace(
        skipped=True,
        longrepr=("/x/health_tests/test_voice.py", 30, "Skipped: not applicable: voice off"),
        doctor_title="Voice answers",
        severity="warning",
    )
    log = [str(row.longrepr) + "\n"]
    results_log(row, log)
    assert log == ["[skipped] Voice answers\n  Not applicable: voice off.\n"]


def test_the_results_row_of_a_failure_starts_no_line_with_e():
    """pytest-html paints lines that start with "E" red, as in a traceback."""
    row = SimpleNamespace(
        skipped=False,
        longrepr="Every file parses: expected <ok>\nEverything else",
        doctor_title="Every file parses",
        severity="critical",
    )
    log = ["ignored\n"]
    results_log(row, log)
    assert log == ["[critical] Every file parses\n  expected &lt;ok&gt;\n  Everything else\n"]


def test_a_long_traceback_in_a_row_is_cut_without_breaking_an_entity():
    row = SimpleNamespace(skipped=False, longrepr="traceback", doctor_title="T", severity="x")
    log = ["a&amp;b\n" * 1000]
    results_log(row, log)
    assert log[0].endswith("lines not shown (the JSON report has the full text)\n")
    assert log[0].count("\n") < 30


def test_trend_chart_draws_each_run_per_status():
    runs = [
        {"t": f"t{n}", "status": s, "issues": i, "warnings": 2, "passed": 9, "skipped": 1}
        for n, (s, i) in enumerate([("healthy", 0), ("critical", 3), ("warning", 0)])
    ]
    page = Elements(summary_html(report(runs)))
    assert len(page.all("svg", "trend")) == 1
    assert len(page.all("rect", "verdict")) == 3
    critical = page.all("rect", "bar-critical")
    assert len(critical) == 3
    heights = [float(bar["height"]) for bar in critical]
    assert heights[1] > heights[0] == heights[2] == 1.0
    assert "Trend: the last 3 full runs" in "".join(page.text)
    assert page.all("svg") and not Elements(summary_html(report(runs[:1]))).all("svg")
