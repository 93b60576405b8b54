"""pytest-xdist: workers run the checks, the controller writes the one report and exit code."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("xdist")

CHECKS = """
import pytest
from acore_doctor import Blocked, check


@pytest.mark.critical
@check("Ollama answers", "Start Ollama.", root="ollama")
def test_root():
    assert False, "expected HTTP 200 from /api/version, found connection refused"


@pytest.mark.critical
@check("Model is pulled", "Pull the model.")
def test_model():
    raise Blocked("ollama", "Ollama did not answer")


@pytest.mark.warning
@check("Disk has room", "Free some space.")
def test_disk(doctor_metric):
    doctor_metric("disk_probe_ms", 7)
    assert False, "expected 10 % free, found 3 %"


@pytest.mark.warning
@check("Token is set", "Set the token.")
@pytest.mark.parametrize("n", range(6))
def test_passes(n):
    assert True
"""


def run(pytester: pytest.Pytester, name: str, *args: str) -> tuple[pytest.RunResult, Path]:
    bot = pytester.path / "bot"
    bot.mkdir(exist_ok=True)
    reports = pytester.path / name
    result = pytester.runpytest_subprocess(
        f"--bot-dir={bot}", f"--report-dir={reports}", "-p", "no:cacheprovider", *args
    )
    return result, reports


def test_xdist_run_gives_the_serial_verdict_in_one_report(pytester):
    pytester.mkdir("health_tests")
    (pytester.path / "health_tests" / "test_checks.py").write_text(CHECKS)
    serial, serial_dir = run(pytester, "serial")
    parallel, parallel_dir = run(pytester, "parallel", "-n", "2")

    assert parallel.ret == serial.ret == 2
    assert len(list(parallel_dir.glob("diagnostic_*.json"))) == 1
    one = json.loads((serial_dir / "latest.json").read_text())
    two = json.loads((parallel_dir / "latest.json").read_text())
    assert two["summary"] == one["summary"]
    assert [(c["nodeid"], c["outcome"]) for c in two["checks"]] == [
        (c["nodeid"], c["outcome"]) for c in one["checks"]
    ]
    assert two["issues"] == one["issues"]  # the blocked check filed under its root
    assert two["issues"][0]["symptoms"] == [
        "Model is pulled: blocked by ollama: Ollama did not answer"
    ]
    assert two["metrics"]["disk_probe_ms"] == 7.0
    out = parallel.stdout.str()
    assert out.count("acore-doctor summary") == 1
    assert "Overall status: CRITICAL (exit code 2)" in out


def test_xdist_nothing_selected_is_unknown(pytester):
    pytester.mkdir("health_tests")
    (pytester.path / "health_tests" / "test_checks.py").write_text(CHECKS)
    result, reports = run(pytester, "reports", "-n", "2", "-k", "nomatch")
    assert result.ret == 3
    assert not (reports / "latest.json").exists()
    [path] = reports.glob("diagnostic_*.json")
    report = json.loads(path.read_text())
    assert report["summary"]["reason"].startswith("no check selected: no check matches -k")


def test_xdist_stopping_at_the_first_failure_is_not_an_interrupt(pytester):
    """-x makes pytest-xdist raise its own Interrupted: a verdict, not exit 130."""
    pytester.mkdir("health_tests")
    (pytester.path / "health_tests" / "test_checks.py").write_text(CHECKS)
    result, reports = run(pytester, "reports", "-n", "2", "-x")
    report = json.loads((reports / "latest.json").read_text())
    assert result.ret in (1, 2)
    assert report["summary"]["overall_status"] in ("warning", "critical")


def test_xdist_blocked_check_run_alone_is_filed_under_its_root(pytester):
    pytester.mkdir("health_tests")
    (pytester.path / "health_tests" / "test_checks.py").write_text(CHECKS)
    result, reports = run(pytester, "reports", "-n", "2", "health_tests/test_checks.py::test_model")
    assert result.ret == 2
    assert "INTERNALERROR" not in result.stdout.str() + result.stderr.str()
    [issue] = json.loads((reports / "latest.json").read_text())["issues"]
    assert issue["title"] == "Ollama answers"
    assert issue["symptoms"] == ["Model is pulled: blocked by ollama: Ollama did not answer"]
