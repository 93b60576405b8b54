"""The engine's rules, run through a real pytest in a child process (pytester)."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support.builder import make_token

HEADER = "import pytest\nfrom acore_doctor import check, Blocked\n"


def checks_file(pytester: pytest.Pytester, body: str, name: str = "test_checks") -> Path:
    pytester.mkdir("health_tests") if not (pytester.path / "health_tests").exists() else None
    path = pytester.path / "health_tests" / f"{name}.py"
    path.write_text(HEADER + body)
    return path


def run(
    pytester: pytest.Pytester, *args: str, bot_dir: Path | None = None
) -> tuple[pytest.RunResult, dict]:
    bot = bot_dir or pytester.path / "bot"
    bot.mkdir(exist_ok=True)
    reports = pytester.path / "reports"
    result = pytester.runpytest_subprocess(
        f"--bot-dir={bot}", f"--report-dir={reports}", "-p", "no:cacheprovider", *args
    )
    latest = reports / "latest.json"
    report = json.loads(latest.read_text()) if latest.exists() else {}
    return result, report


def crit(name: str, body: str, title: str = "A critical check", rec: str = "Fix it.") -> str:
    return f"""
@pytest.mark.critical
@check({title!r}, {rec!r}, guide="guides/common_issues.md#bot-not-responding")
def {name}():
{body}
"""


def warn(name: str, body: str, title: str = "A warning check", rec: str = "Look at it.") -> str:
    return f"""
@pytest.mark.warning
@check({title!r}, {rec!r})
def {name}():
{body}
"""


PASS = "    assert True\n"
FAIL = "    assert 1 == 2, 'expected one, found two'\n"


# -- outcome -> finding --------------------------------------------------------------------
def test_all_passed_is_healthy(pytester):
    checks_file(pytester, crit("test_a", PASS) + warn("test_b", PASS))
    result, report = run(pytester)
    assert result.ret == 0
    assert report["summary"]["overall_status"] == "healthy"
    assert report["summary"]["exit_code"] == 0
    assert report["summary"]["total_info"] == 2
    assert report["issues"] == [] and report["warnings"] == []


def test_failed_warning_is_a_warning_and_exit_1(pytester):
    checks_file(pytester, crit("test_a", PASS) + warn("test_b", FAIL))
    result, report = run(pytester)
    assert result.ret == 1
    assert report["summary"]["overall_status"] == "warning"
    [warning] = report["warnings"]
    assert warning["message"] == "expected one, found two"
    assert warning["severity"] == "warning"


def test_failed_critical_is_an_issue_and_exit_2(pytester):
    checks_file(pytester, crit("test_a", FAIL) + warn("test_b", FAIL))
    result, report = run(pytester)
    assert result.ret == 2
    assert report["summary"] == {
        "total_issues": 1,
        "total_warnings": 1,
        "total_info": 0,
        "overall_status": "critical",
        "exit_code": 2,
        "reason": "",
    }
    assert report["issues"][0]["guide"] == "guides/common_issues.md#bot-not-responding"


def test_skip_is_info_with_its_reason(pytester):
    checks_file(pytester, crit("test_a", "    pytest.skip('not applicable: voice disabled')\n"))
    result, report = run(pytester)
    assert result.ret == 0
    [info] = report["info"]
    assert info["outcome"] == "skipped"
    assert info["message"] == "not applicable: voice disabled"


def test_a_domain_error_is_a_finding_at_its_severity_without_traceback(pytester):
    checks_file(pytester, warn("test_a", "    raise PermissionError('data/bot.db')\n"))
    result, report = run(pytester)
    assert result.ret == 1
    [warning] = report["warnings"]
    assert warning["message"] == "check crashed: PermissionError: data/bot.db"
    assert report["checks"][0]["outcome"] == "crashed"
    assert "Traceback" not in result.stdout.str() and "raise PermissionError" not in (
        result.stdout.str()
    )


def test_a_check_that_crashes_is_a_suite_bug_not_a_verdict(pytester):
    checks_file(pytester, crit("test_a", "    raise KeyError('bot_id')\n") + warn("test_b", PASS))
    result, report = run(pytester)
    assert result.ret == 3, result.stdout.str()
    assert report["summary"]["overall_status"] == "unknown"
    assert report["issues"] == [] and report["warnings"] == []
    [bug] = [c for c in report["checks"] if c["outcome"] == "error"]
    assert bug["message"] == (
        "the suite could not check this: KeyError: 'bot_id' at health_tests/test_checks.py:7 "
        "in test_a"
    )
    assert "could not check 1 check(s)" in report["summary"]["reason"]
    out = result.stdout.str()
    assert "The suite could not check" in out and "health_tests/test_checks.py:7" in out
    assert "Traceback" not in out


def test_a_suite_bug_beside_a_real_critical_is_critical(pytester):
    checks_file(pytester, crit("test_a", "    raise KeyError('bot_id')\n") + crit("test_b", FAIL))
    result, report = run(pytester)
    assert result.ret == 2
    assert [i["check"].split("::")[1] for i in report["issues"]] == ["test_b"]
    assert "could not check 1 check(s)" in report["summary"]["reason"]


def test_crash_shows_traceback_with_verbose(pytester):
    checks_file(pytester, crit("test_a", "    raise RuntimeError('boom')\n"))
    result, report = run(pytester, "-v")
    assert result.ret == 3
    assert "raise RuntimeError('boom')" in result.stdout.str()
    assert report["info"][0]["message"].startswith(
        "the suite could not check this: RuntimeError: boom at health_tests/"
    )


def test_crash_in_fixture_setup_is_marked_as_such(pytester):
    body = (
        """
@pytest.fixture
def fact():
    raise OSError('disk gone')

@pytest.fixture
def buggy():
    return {}['no such key']
"""
        + crit("test_a", "    pass\n").replace("def test_a():", "def test_a(fact):")
        + crit("test_b", "    pass\n").replace("def test_b():", "def test_b(buggy):")
    )
    checks_file(pytester, body)
    result, report = run(pytester)
    assert result.ret == 2  # the domain error keeps its verdict
    assert report["issues"][0]["message"] == "check crashed during setup: OSError: disk gone"
    [bug] = [c for c in report["checks"] if c["outcome"] == "error"]
    assert bug["message"] == (
        "the suite could not check this (its setup): KeyError: 'no such key' at "
        "health_tests/test_checks.py:10 in buggy"
    )


def test_missing_fixture_is_a_suite_bug_and_unknown(pytester):
    checks_file(
        pytester,
        crit("test_a", PASS)
        + warn("test_b", PASS).replace("def test_b():", "def test_b(no_such_fact):"),
    )
    result, report = run(pytester)
    assert result.ret == 3
    assert report["summary"]["overall_status"] == "unknown"
    assert report["warnings"] == [] and report["issues"] == []
    assert "suite bug" in report["summary"]["reason"]
    assert "'no_such_fact'" in report["summary"]["reason"]


def test_bare_assert_still_says_what_was_found(pytester):
    checks_file(pytester, warn("test_a", "    value = 3\n    assert value == 4\n"))
    result, report = run(pytester)
    assert result.ret == 1
    assert "assert 3 == 4" in report["warnings"][0]["message"]


def test_pytest_fail_message_is_the_finding(pytester):
    checks_file(pytester, crit("test_a", "    pytest.fail('expected 3 guilds, found 0')\n"))
    result, report = run(pytester)
    assert result.ret == 2
    assert report["issues"][0]["message"] == "expected 3 guilds, found 0"


def test_blocked_checks_become_symptoms_of_their_root(pytester):
    body = """
@pytest.mark.critical
@check("Ollama answers", "Start Ollama.", root="ollama")
def test_root():
    assert False, "expected HTTP 200 from /api/version, found connection refused"

@pytest.mark.critical
@check("Model is pulled", "Pull the model.")
def test_model():
    raise Blocked("ollama", "Ollama did not answer")

@pytest.mark.warning
@check("Vision model is pulled", "Pull the vision model.")
def test_vision():
    raise Blocked("ollama", "Ollama did not answer")
"""
    checks_file(pytester, body)
    result, report = run(pytester)
    assert result.ret == 2
    assert report["summary"]["total_issues"] == 1
    assert report["summary"]["total_warnings"] == 0
    [issue] = report["issues"]
    assert issue["symptoms"] == [
        "Model is pulled: blocked by ollama: Ollama did not answer",
        "Vision model is pulled: blocked by ollama: Ollama did not answer",
    ]
    outcomes = {c["nodeid"].split("::")[1]: c["outcome"] for c in report["checks"]}
    assert outcomes == {"test_root": "failed", "test_model": "blocked", "test_vision": "blocked"}
    assert "symptom: Model is pulled" in result.stdout.str()
    # pytest's own tally shows the symptoms as skipped, not as two more failures
    result.assert_outcomes(failed=1, skipped=2)


ROOT_AND_SYMPTOM = """
@pytest.mark.critical
@check("Discord API answers", "Check DNS and outbound HTTPS.", root="discord")
def test_root():
    assert False, "expected discord.com to answer, found DNS failure"

@pytest.mark.critical
@check("Bot has its channel permissions", "Reset the token and invite the bot again.")
def test_permissions():
    raise Blocked("discord", "DNS failure")

@pytest.mark.warning
@check("Unrelated", "Nothing.")
def test_other():
    assert True
"""


@pytest.mark.parametrize(
    "selection", [("health_tests/test_checks.py::test_permissions",), ("-k", "permissions")]
)
def test_blocked_check_run_alone_runs_its_root_and_files_under_it(pytester, selection):
    checks_file(pytester, ROOT_AND_SYMPTOM)
    result, report = run(pytester, *selection)
    assert result.ret == 2
    [issue] = report["issues"]
    assert issue["title"] == "Discord API answers"
    assert issue["symptoms"] == ["Bot has its channel permissions: blocked by discord: DNS failure"]
    assert [r["text"] for r in report["recommendations"]] == ["Check DNS and outbound HTTPS."]
    assert {c["nodeid"].split("::")[1] for c in report["checks"]} == {
        "test_root",
        "test_permissions",
    }


def test_blocked_check_run_alone_reports_on_its_own(pytester):
    body = """
@pytest.mark.warning
@check("Vision model is pulled", "Pull the vision model.")
def test_vision():
    raise Blocked("ollama", "Ollama did not answer")
"""
    checks_file(pytester, body)
    result, report = run(pytester)
    assert result.ret == 1
    assert report["warnings"][0]["message"] == "blocked by ollama: Ollama did not answer"


# -- declarations --------------------------------------------------------------------------
def test_check_without_severity_is_a_collection_error(pytester):
    checks_file(
        pytester,
        crit("test_ok", PASS)
        + "\n@check('No severity', 'x')\ndef test_unmarked():\n    assert True\n",
    )
    result, report = run(pytester)
    assert result.ret == 3
    out = result.stdout.str()
    assert "must carry exactly one severity marker" in out
    assert "test_unmarked" in out
    assert report["summary"]["overall_status"] == "unknown"
    assert "during collection" in report["summary"]["reason"]


def test_check_with_both_severities_is_a_collection_error(pytester):
    checks_file(
        pytester,
        "\n@pytest.mark.critical\n@pytest.mark.warning\n@check('Both', 'x')\n"
        "def test_both():\n    assert True\n",
    )
    result, _ = run(pytester)
    assert result.ret == 3
    assert "found: critical, warning" in result.stdout.str()


def test_check_without_declaration_is_a_collection_error(pytester):
    checks_file(pytester, "\n@pytest.mark.critical\ndef test_bare():\n    assert True\n")
    result, _ = run(pytester)
    assert result.ret == 3
    assert "must declare a title and a recommendation" in result.stdout.str()


def test_unknown_marker_is_rejected(pytester):
    checks_file(
        pytester, crit("test_a", PASS).replace("@pytest.mark.critical", "@pytest.mark.critcal")
    )
    result, _ = run(pytester, "--strict-markers")
    assert result.ret == 3


# -- exit codes ---------------------------------------------------------------------------
def test_syntax_error_in_a_check_module_is_unknown(pytester):
    checks_file(pytester, crit("test_a", PASS))
    checks_file(pytester, "def broken(:\n", name="test_broken")
    result, report = run(pytester)
    assert result.ret == 3
    assert report["summary"]["exit_code"] == 3


def test_nothing_selected_is_unknown(pytester):
    checks_file(pytester, crit("test_a", FAIL) + warn("test_b", PASS))
    result, report = run(pytester, "-m", "critical", "-k", "nomatch")
    assert result.ret == 3
    assert report == {}, "a run that checked nothing never becomes latest.json"
    [path] = (pytester.path / "reports").glob("diagnostic_*.json")
    report = json.loads(path.read_text())
    assert report["summary"]["overall_status"] == "unknown"
    assert report["summary"]["reason"].startswith("no check selected: no check matches -k")


def test_marker_selection_runs_only_critical(pytester):
    checks_file(pytester, crit("test_a", PASS) + warn("test_b", FAIL))
    result, report = run(pytester, "-m", "critical")
    assert result.ret == 0
    assert [c["nodeid"].split("::")[1] for c in report["checks"]] == ["test_a"]
    assert report["environment"]["selected_markers"] == "critical"


def test_usage_error_is_unknown(pytester):
    checks_file(pytester, crit("test_a", PASS))
    result = pytester.runpytest_subprocess("--bot-dir", str(pytester.path))
    assert result.ret == 3
    assert "--bot-dir=PATH" in result.stderr.str() + result.stdout.str()


def test_bad_command_line_is_unknown_in_a_health_run_only(pytester):
    checks_file(pytester, crit("test_a", PASS))
    result, _ = run(pytester, "--no-such-option")
    assert result.ret == 3
    assert "unrecognized arguments: --no-such-option" in result.stderr.str()
    result, _ = run(pytester, "--probe-timeout=soon")
    assert result.ret == 3
    plain = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--no-such-option")
    assert plain.ret == pytest.ExitCode.USAGE_ERROR


def test_sigint_exits_130_and_reports_interrupted(pytester):
    checks_file(
        pytester,
        crit("test_a", PASS)
        + warn(
            "test_slow",
            "    import pathlib, time\n    pathlib.Path('started').touch()\n    time.sleep(30)\n",
        ),
    )
    bot = pytester.path / "bot"
    bot.mkdir()
    reports = pytester.path / "reports"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pytest",
            f"--bot-dir={bot}",
            f"--report-dir={reports}",
            "-p",
            "no:cacheprovider",
        ],
        cwd=pytester.path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    deadline = time.monotonic() + 60
    while not (pytester.path / "started").exists():
        assert time.monotonic() < deadline and proc.poll() is None, proc.communicate()[0]
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 130, out
    report = json.loads((reports / "latest.json").read_text())
    assert report["summary"]["overall_status"] == "interrupted"
    assert report["summary"]["exit_code"] == 130


def test_our_own_test_runs_keep_pytest_exit_codes(pytester):
    pytester.makepyfile(test_plain="def test_fails():\n    assert False\n")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    assert "acore-doctor summary" not in result.stdout.str()
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-k", "nomatch")
    assert result.ret == pytest.ExitCode.NO_TESTS_COLLECTED


# -- reports -------------------------------------------------------------------------------
def test_json_report_shape(pytester):
    checks_file(pytester, crit("test_a", FAIL, title="Token valid") + warn("test_b", PASS))
    result, report = run(pytester)
    assert set(report) >= {
        "timestamp",
        "summary",
        "issues",
        "warnings",
        "info",
        "recommendations",
        "checks",
        "environment",
    }
    check = report["checks"][0]
    assert set(check) >= {
        "nodeid",
        "title",
        "severity",
        "outcome",
        "duration_s",
        "message",
        "recommendation",
        "guide",
    }
    assert check["title"] == "Token valid" and check["severity"] == "critical"
    assert set(report["environment"]) >= {
        "bot_dir",
        "host",
        "python",
        "suite_version",
        "selected_markers",
    }
    reports = pytester.path / "reports"
    stamped = sorted(reports.glob("diagnostic_*.json"))
    assert len(stamped) == 1
    assert stamped[0].name.startswith("diagnostic_") and len(stamped[0].stem) == len(
        "diagnostic_20261129_101500"
    )
    assert json.loads(stamped[0].read_text()) == report
    assert not list(reports.glob("*.tmp")) and not list(reports.glob(".*.tmp"))


def test_report_dir_from_environment_variable(pytester, monkeypatch):
    checks_file(pytester, crit("test_a", PASS))
    target = pytester.path / "elsewhere"
    monkeypatch.setenv("DIAGNOSTIC_REPORTS_PATH", str(target))
    bot = pytester.path / "bot"
    bot.mkdir()
    result = pytester.runpytest_subprocess(f"--bot-dir={bot}", "-p", "no:cacheprovider")
    assert result.ret == 0
    assert (target / "latest.json").exists()


def test_only_newest_50_reports_are_kept(pytester):
    checks_file(pytester, crit("test_a", PASS))
    reports = pytester.path / "reports"
    reports.mkdir()
    for i in range(55):
        old = reports / f"diagnostic_20250101_0000{i:02d}.json"
        old.write_text("{}")
        past = time.time() - 10_000 + i
        import os

        os.utime(old, (past, past))
    run(pytester)
    kept = sorted(reports.glob("diagnostic_*.json"))
    assert len(kept) == 50
    assert "diagnostic_20250101_000000.json" not in {p.name for p in kept}


def test_recommendations_are_deduplicated_and_ordered_by_severity(pytester):
    body = (
        warn("test_w1", FAIL, rec="Warn fix.")
        + crit("test_c1", FAIL, rec="Shared fix.")
        + warn("test_w2", FAIL, rec="Shared fix.")
        + crit("test_c2", FAIL, rec="Critical fix.")
    )
    checks_file(pytester, body)
    _, report = run(pytester)
    texts = [(r["severity"], r["text"]) for r in report["recommendations"]]
    assert texts == [
        ("critical", "Shared fix."),
        ("critical", "Critical fix."),
        ("warning", "Warn fix."),
    ]
    assert len(report["recommendations"][0]["checks"]) == 2


def test_console_summary_is_plain_ascii(pytester):
    checks_file(
        pytester,
        crit("test_a", "    assert False, 'expected caf\\u00e9, found th\\u00e9 \\u2713'\n")
        + warn("test_b", FAIL),
    )
    result, _ = run(pytester)
    out = result.stdout.str()
    summary = out[out.index("acore-doctor summary") :]
    summary = summary[: summary.index("Reports:")]
    assert summary.isascii()
    assert "Overall status: CRITICAL (exit code 2)" in summary
    assert "Critical issues:\n  1. A critical check" in summary
    assert "Warnings:\n  - A warning check" in summary
    assert (
        "Recommendations:\n  1. [critical] Fix it. (see guides/common_issues.md#bot-not-responding)"
        in summary
    )


def test_html_report_has_summary_and_severity_column(pytester):
    checks_file(pytester, crit("test_a", FAIL, rec="Restart the thing.") + warn("test_b", PASS))
    html = pytester.path / "report.html"
    result, _ = run(pytester, f"--html={html}", "--self-contained-html")
    assert result.ret == 2
    text = html.read_text()
    assert "Overall status: CRITICAL (exit code 2)" in text
    assert f'<h1 id="title">acore-doctor: {pytester.path / "bot"}</h1>' in text
    assert "Restart the thing." in text
    assert "Severity" in text
    assert "col-severity" in text and "critical" in text


def test_junit_xml_carries_severity(pytester):
    checks_file(pytester, crit("test_a", PASS) + warn("test_b", FAIL))
    xml = pytester.path / "junit.xml"
    run(pytester, f"--junitxml={xml}")
    text = xml.read_text()
    assert '<property name="severity:health_tests/test_checks.py::test_a" value="critical"' in text
    assert '<property name="severity:health_tests/test_checks.py::test_b" value="warning"' in text


def test_token_check_end_to_end(bot, run_suite):
    bot.set_env(DISCORD_TOKEN="your_token_here")
    result = run_suite(bot.root, "health_tests/test_config.py::test_discord_token_shape")
    assert result.code == 2
    assert "placeholder" in result.finding("test_discord_token_shape")["message"]
    bot.set_env(DISCORD_TOKEN=make_token())
    assert run_suite(bot.root, "health_tests/test_config.py::test_discord_token_shape").code == 0


def test_internal_error_is_unknown(pytester):
    checks_file(pytester, crit("test_a", PASS))
    pytester.makeconftest(
        "def pytest_runtestloop(session):\n    raise RuntimeError('plugin bug')\n"
    )
    result, report = run(pytester)
    assert result.ret == 3
    assert report["summary"]["overall_status"] == "unknown"
    assert report["summary"]["reason"] == "internal error in the suite"


def test_missing_test_path_is_unknown(pytester):
    checks_file(pytester, crit("test_a", PASS))
    result, report = run(pytester, "health_tests/test_nope.py")
    assert result.ret == 3
    assert "file or directory not found" in result.stderr.str()
    assert report["summary"]["overall_status"] == "unknown"
    reason = report["summary"]["reason"]  # pytest's own words, and what to do
    assert reason.startswith("file or directory not found: health_tests/"), reason
    assert "--collect-only -q" in reason


def test_collect_only_lists_checks_without_a_verdict(pytester):
    checks_file(pytester, crit("test_a", FAIL))
    result, report = run(pytester, "--collect-only", "-q")
    assert result.ret == 0
    assert report == {}
    assert "acore-doctor summary" not in result.stdout.str()


def test_missing_bot_dir_is_a_usage_error(pytester, monkeypatch):
    checks_file(pytester, crit("test_a", PASS))
    reports = pytester.path / "reports"
    result = pytester.runpytest_subprocess(
        f"--bot-dir={pytester.path / 'typo'}", f"--report-dir={reports}"
    )
    assert result.ret == 3
    assert "is not a directory" in result.stderr.str()
    reason = json.loads((reports / "latest.json").read_text())["summary"]["reason"]
    assert "is not a directory" in reason, reason  # the cause, not only "usage error"
    # a run that is not a health run does not care, even with ACORE_BOT_DIR set
    pytester.makepyfile(test_plain="def test_ok():\n    pass\n")
    monkeypatch.setenv("ACORE_BOT_DIR", str(pytester.path / "typo"))
    plain = pytester.runpytest_subprocess("test_plain.py")
    assert plain.ret == 0
