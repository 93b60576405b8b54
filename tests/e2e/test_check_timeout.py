"""A check that hangs (here: opening a FIFO nobody writes, the way a naive read of a hostile
.env would) is reported as 'check timed out' at its severity, and the run goes on."""

from __future__ import annotations

import json
import os
import time

import pytest

CHECKS = """
import os
import pytest
from acore_doctor import check

@pytest.fixture
def stuck_fixture():
    open(os.environ["HANG_FIFO"], "rb").read()

@pytest.mark.critical
@check("Reads the FIFO in the check", "Fix it.")
def test_hangs_in_call():
    open(os.environ["HANG_FIFO"], "rb").read()

@pytest.mark.warning
@check("Reads the FIFO in a fixture", "Fix it.")
def test_hangs_in_setup(stuck_fixture):
    pass

@pytest.mark.warning
@check("Swallows every Exception", "Fix it.")
def test_swallows_exceptions():
    try:
        open(os.environ["HANG_FIFO"], "rb").read()
    except Exception:
        pass

@pytest.mark.critical
@check("Runs after the stuck ones", "Nothing.")
def test_after():
    assert True
"""


def run(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, *args: str) -> dict:
    fifo = pytester.path / "fifo"
    os.mkfifo(fifo)
    monkeypatch.setenv("HANG_FIFO", str(fifo))
    pytester.mkdir("health_tests")
    (pytester.path / "health_tests" / "test_checks.py").write_text(CHECKS)
    bot = pytester.mkdir("bot")
    reports = pytester.path / "reports"
    result = pytester.runpytest_subprocess(
        f"--bot-dir={bot}", f"--report-dir={reports}", "-p", "no:cacheprovider", *args,
        timeout=120,
    )  # fmt: skip
    report = json.loads((reports / "latest.json").read_text())
    report["exit"] = result.ret
    return report


def by_name(report: dict) -> dict[str, dict]:
    return {c["nodeid"].rsplit("::", 1)[1]: c for c in report["checks"]}


def test_a_hanging_check_times_out_at_its_severity_and_the_run_goes_on(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    started = time.monotonic()
    report = run(pytester, monkeypatch, "--check-timeout=1")
    assert time.monotonic() - started < 60
    checks = by_name(report)
    for name, severity in (
        ("test_hangs_in_call", "critical"),
        ("test_hangs_in_setup", "warning"),
        ("test_swallows_exceptions", "warning"),
    ):
        assert checks[name]["outcome"] == "failed", checks[name]
        assert checks[name]["severity"] == severity
        assert checks[name]["message"].startswith("check timed out"), checks[name]
    assert "took longer than 1 s" in checks["test_hangs_in_call"]["message"]
    assert checks["test_after"]["outcome"] == "passed"
    assert report["exit"] == 2


def test_the_limit_is_an_ini_key(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makeini("[pytest]\ncheck_timeout = 0.5\n")
    report = run(pytester, monkeypatch, "-k", "hangs_in_call or after")
    checks = by_name(report)
    assert "took longer than 0.5 s" in checks["test_hangs_in_call"]["message"]
    assert checks["test_after"]["outcome"] == "passed"
