"""Monitoring outputs: --nagios line and exit codes, --prometheus textfile, JUnit severity."""

from __future__ import annotations

import html
import json
import re
import time
import xml.etree.ElementTree as ET

import pytest

SECRET = "sk-or-v1-abcdefghijklmnopqrstuvwxyz0123456789"
CHECKS = f"""
import pytest
from acore_doctor import check


@pytest.mark.critical
@check("Widget A is intact", "Restore widget A.")
def test_widget_a(bot_dir):
    assert not (bot_dir / "broken_a").exists(), "expected widget A intact, found broken_a"


@pytest.mark.warning
@check("Widget B | pipes are fine", "Restore widget B.")
def test_widget_b(bot_dir):
    assert not (bot_dir / "broken_b").exists(), "expected B intact, key {SECRET} leaked"


@pytest.mark.warning
@check("Voice is configured", "n/a")
def test_voice():
    pytest.skip("not applicable: voice disabled")
"""
NAGIOS = re.compile(
    r"^ACORE-DOCTOR (OK|WARNING|CRITICAL|UNKNOWN) - [^|\n]+ \| ('[^']+'=[\d.]+(s|%|B|MB)?(;[\d.]*){0,4} ?)+$"
)
SAMPLE = re.compile(r'^[a-z_]+(\{([a-z]+="([^"\\]|\\.)*",?)+\})? -?[0-9.e+]+$')


@pytest.fixture
def suite(pytester: pytest.Pytester):
    pytester.mkdir("health_tests")
    (pytester.path / "health_tests" / "test_widgets.py").write_text(CHECKS)
    bot = pytester.mkdir("bot")
    (bot / ".env").write_text(f"OPENROUTER_API_KEY={SECRET}\n")

    def run(*args: str) -> pytest.RunResult:
        return pytester.runpytest_subprocess(
            f"--bot-dir={bot}",
            f"--report-dir={pytester.path / 'reports'}",
            "-p",
            "no:cacheprovider",
            *args,
        )

    run.bot = bot  # type: ignore[attr-defined]
    return run


@pytest.mark.parametrize(
    ("broken", "code", "state"),
    [((), 0, "OK"), (("broken_b",), 1, "WARNING"), (("broken_a", "broken_b"), 2, "CRITICAL")],
)
def test_nagios_prints_one_line_and_keeps_exit_code(suite, broken, code, state):
    for name in broken:
        (suite.bot / name).touch()
    result = suite("--nagios")
    lines = result.stdout.lines
    assert result.ret == code
    # One status line, then the long output: one line per finding (none when healthy).
    assert len(lines) == 1 + len(broken), lines
    assert all(line.startswith(("CRITICAL: ", "WARNING: ")) for line in lines[1:]), lines
    assert NAGIOS.match(lines[0]), lines[0]
    assert lines[0].startswith(f"ACORE-DOCTOR {state} - ")
    assert f"'critical'={1 if 'broken_a' in broken else 0};" in lines[0]
    assert SECRET not in lines[0] and SECRET[:10] not in lines[0]
    assert lines[0].count("|") == 1, "a title must not fake the perfdata separator"
    if "broken_b" in broken:
        assert "Widget B / pipes are fine" in lines[0]


def test_nagios_unknown_when_nothing_selected(suite):
    result = suite("--nagios", "-k", "no_such_check")
    assert result.ret == 3
    assert result.stdout.lines[0].startswith("ACORE-DOCTOR UNKNOWN - no check selected")


def test_prometheus_textfile(suite, pytester):
    (suite.bot / "broken_a").touch()
    (suite.bot / "broken_b").touch()
    target = pytester.path / "textfile" / "acore_doctor.prom"
    before = time.time()
    result = suite(f"--prometheus={target}")
    assert result.ret == 2
    text = target.read_text()
    assert SECRET not in text
    families = re.findall(r"^# TYPE (\S+) gauge$", text, re.M)
    assert len(families) == len(set(families))
    for line in text.splitlines():
        assert line.startswith("# ") or SAMPLE.match(line), line
    deployment = f'deployment="{suite.bot.name}"'
    assert (
        f'acore_doctor_check_status{{{deployment},check="health_tests/test_widgets.py::'
        'test_widget_a",severity="critical"} 2'
    ) in text
    assert 'severity="warning"} 1' in text
    assert (
        f'acore_doctor_check_info{{{deployment},check="health_tests/test_widgets.py::'
        'test_widget_a",title="Widget A is intact"} 1'
    ) in text
    assert f"acore_doctor_status{{{deployment}}} 2" in text
    stamp = float(
        re.search(r"^acore_doctor_last_run_timestamp_seconds\{.*\} (\S+)$", text, re.M)[1]
    )
    assert before - 5 <= stamp <= time.time()
    durations = re.findall(r"^acore_doctor_check_duration_seconds\{.*\} (\S+)$", text, re.M)
    assert len(durations) == 3 and all(float(d) >= 0 for d in durations)
    assert not list(target.parent.glob(".*.tmp")), "the textfile is written atomically"


#: What pytest's JUnit schema (xunit2, the Jenkins junit-10.xsd) lets each element contain.
JUNIT_CHILDREN = {
    "testsuites": {"testsuite"},
    "testsuite": {"testsuite", "properties", "testcase", "system-out", "system-err"},
    "properties": {"property"},
    "property": set(),
    "testcase": {"skipped", "error", "failure", "system-out", "system-err"},
    "skipped": set(),
    "error": set(),
    "failure": set(),
    "system-out": set(),
    "system-err": set(),
}
JUNIT_REQUIRED = {
    "testsuite": {"name", "tests", "failures", "errors"},
    "testcase": {"name"},
    "property": {"name", "value"},
}


def junit_structure_problems(root: ET.Element) -> list[str]:
    problems = []
    for parent in root.iter():
        missing = JUNIT_REQUIRED.get(parent.tag, set()) - set(parent.attrib)
        if missing:
            problems.append(f"<{parent.tag}> lacks {sorted(missing)}")
        for child in parent:
            if child.tag not in JUNIT_CHILDREN.get(parent.tag, set()):
                problems.append(f"<{child.tag}> inside <{parent.tag}>")
    return problems


def test_junit_xml_is_valid_xunit2_and_carries_severity_per_check(suite, pytester):
    """xunit2 allows no properties on a test case: the severities are the suite's."""
    (suite.bot / "broken_a").touch()
    xml_path = pytester.path / "junit.xml"
    result = suite(f"--junitxml={xml_path}", "-W", "error:record_property:pytest.PytestWarning")
    assert result.ret == 2
    assert "incompatible with junit_family" not in result.stdout.str()
    root = ET.parse(xml_path).getroot()
    assert root.tag == "testsuites"
    assert junit_structure_problems(root) == []
    [properties] = root.iter("properties")
    severities = {p.get("name"): p.get("value") for p in properties.iter("property")}
    prefix = "severity:health_tests/test_widgets.py::"
    assert severities == {
        f"{prefix}test_widget_a": "critical",
        f"{prefix}test_widget_b": "warning",
        f"{prefix}test_voice": "warning",
    }
    assert len(list(root.iter("testcase"))) == 3


def test_recorded_details_reach_the_report_and_not_the_junit_cases(pytester):
    pytester.mkdir("health_tests")
    (pytester.path / "health_tests" / "test_details.py").write_text(
        "import pytest\nfrom acore_doctor import check\n\n"
        "@pytest.mark.warning\n@check('Disk is fine', 'n/a')\n"
        "def test_disk(record_details):\n    record_details('12 % used')\n"
    )
    bot = pytester.mkdir("bot")
    xml_path = pytester.path / "junit.xml"
    result = pytester.runpytest_subprocess(
        f"--bot-dir={bot}", f"--report-dir={pytester.path / 'reports'}", f"--junitxml={xml_path}"
    )
    assert result.ret == 0
    report = json.loads((pytester.path / "reports" / "latest.json").read_text())
    assert report["checks"][0]["details"] == "12 % used"
    assert junit_structure_problems(ET.parse(xml_path).getroot()) == []


def test_nagios_collection_error_is_unknown(suite, pytester):
    (pytester.path / "health_tests" / "test_broken.py").write_text("def broken(:\n")
    result = suite("--nagios")
    assert result.ret == 3
    assert result.stdout.lines[0].startswith(
        "ACORE-DOCTOR UNKNOWN - 1 error(s) during collection: health_tests/test_broken.py"
    )


def test_nagios_missing_test_path_is_unknown_not_4(suite):
    result = suite("--nagios", "health_tests/no_such_file.py")
    assert result.ret == 3
    assert result.stdout.lines[0].startswith(  # the cause, not only "usage error"
        "ACORE-DOCTOR UNKNOWN - file or directory not found: health_tests/no_such_file.py"
    )
    assert "no_such_file.py" in result.stderr.str()


def test_html_rows_show_coloured_severity_guide_links_and_skip_sentences(suite, pytester):
    (suite.bot / "broken_a").touch()
    html_path = pytester.path / "report.html"
    suite(f"--html={html_path}", "--self-contained-html")
    blob = re.search(r'data-jsonblob="([^"]*)"', html_path.read_text())
    rows = {
        nodeid.rsplit("::", 1)[-1]: run
        for nodeid, [run] in json.loads(html.unescape(blob[1]))["tests"].items()
    }
    assert (
        '<td class="col-severity sev-critical">critical</td>'
        in rows["test_widget_a"]["resultsTableRow"]
    )
    assert (
        '<td class="col-severity sev-warning">warning</td>' in rows["test_voice"]["resultsTableRow"]
    )
    assert (
        rows["test_voice"]["log"]
        == "[skipped] Voice is configured\n  Not applicable: voice disabled.\n"
    )
    assert rows["test_widget_a"]["log"].startswith(
        "[critical] Widget A is intact\n  expected widget A intact, found broken_a"
    )
