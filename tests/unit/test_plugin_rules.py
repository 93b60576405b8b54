"""The engine's two small judges, called directly: how one phase's result becomes a finding
(``plugin.classify``) and what makes a test a valid health check (``declaration_problem``)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from pathlib import Path

import psutil
import pytest

from acore_doctor.findings import Blocked, ExitCode, Finding, decide, is_suite_bug
from acore_doctor.plugin import classify, declaration_problem


def phase(when: str, body: Callable[[], object]) -> tuple[pytest.CallInfo, pytest.TestReport]:
    """A real CallInfo of ``body`` and the report pytest would make of it."""
    call = pytest.CallInfo.from_call(body, when)  # type: ignore[arg-type]
    excinfo = call.excinfo
    if excinfo is None:
        outcome, longrepr = "passed", None
    elif excinfo.errisinstance(pytest.skip.Exception):
        outcome, longrepr = "skipped", ("check.py", 1, f"Skipped: {excinfo.value.msg}")
    else:
        outcome, longrepr = "failed", str(excinfo.value)
    report = pytest.TestReport(
        "health_tests/test_x.py::test_y", ("check.py", 1, "test_y"), {}, outcome, longrepr, when
    )
    return call, report


def fail_with(error: BaseException) -> Callable[[], object]:
    def body() -> object:
        raise error

    return body


def test_a_passing_call_passes_and_other_passing_phases_say_nothing() -> None:
    assert classify(*phase("call", lambda: None)) == ("passed", "")
    assert classify(*phase("setup", lambda: None)) == (None, "")
    assert classify(*phase("teardown", lambda: None)) == (None, "")


def test_a_skip_keeps_its_reason_without_the_prefix() -> None:
    def body() -> None:
        pytest.skip("voice is disabled")

    assert classify(*phase("call", body)) == ("skipped", "voice is disabled")


def test_an_assertion_is_a_failure_with_the_checks_own_message() -> None:
    error = AssertionError("expected 0600, found 0644\nassert 420 == 384")
    assert classify(*phase("call", fail_with(error))) == ("failed", "expected 0600, found 0644")


def test_pytest_fail_is_a_failure_with_its_message() -> None:
    def body() -> None:
        pytest.fail("the token was rejected")

    assert classify(*phase("call", body)) == ("failed", "the token was rejected")


def test_blocked_is_a_symptom_of_its_root() -> None:
    outcome, message = classify(*phase("call", fail_with(Blocked("ollama", "not reachable"))))
    assert outcome == "blocked"
    assert message == "blocked by ollama: not reachable"


def test_a_domain_error_is_a_crash_naming_type_phase_and_first_line() -> None:
    """What the deployment or host did (a file, a database, bytes that are not text): the
    check's verdict at its severity, as before."""
    during_setup = classify(*phase("setup", fail_with(OSError("disk gone\nmore detail"))))
    assert during_setup == ("crashed", "check crashed during setup: OSError: disk gone")
    corrupt = classify(*phase("call", fail_with(sqlite3.DatabaseError("file is not a database"))))
    assert corrupt == ("crashed", "check crashed: DatabaseError: file is not a database")
    not_text = fail_with(UnicodeDecodeError("utf-8", b"\xff", 0, 1, "invalid start byte"))
    assert classify(*phase("call", not_text))[0] == "crashed"


def test_any_other_exception_is_a_suite_bug_naming_type_phase_and_place() -> None:
    here = f"tests/unit/{Path(__file__).name}"
    line = fail_with.__code__.co_firstlineno + 2  # its `raise`
    bug = classify(*phase("call", fail_with(KeyError("OLLAMA_MODEL"))))
    assert bug == (
        "error",
        f"the suite could not check this: KeyError: 'OLLAMA_MODEL' at {here}:{line} in body",
    )
    during_setup = classify(*phase("setup", fail_with(TypeError("bad\nmore"))))
    assert during_setup == (
        "error",
        f"the suite could not check this (its setup): TypeError: bad at {here}:{line} in body",
    )
    bare = classify(*phase("call", fail_with(RuntimeError())))
    assert bare == (
        "error",
        f"the suite could not check this: RuntimeError at {here}:{line} in body",
    )


@pytest.mark.parametrize(
    ("error", "bug"),
    [
        (KeyError("x"), True),
        (AttributeError("x"), True),
        (ValueError("x"), True),
        (AssertionError("x"), False),
        (Blocked("ollama", "x"), False),
        (PermissionError("x"), False),
        (sqlite3.OperationalError("x"), False),
        (json.JSONDecodeError("x", "doc", 0), False),
        (psutil.NoSuchProcess(1), False),
    ],
)
def test_what_counts_as_a_suite_bug(error: BaseException, bug: bool) -> None:
    assert is_suite_bug(error) is bug


def finding(outcome: str, severity: str = "critical") -> Finding:
    return Finding(f"t::{outcome}", outcome, severity, outcome, message="m")


def test_a_suite_bug_makes_the_run_unknown_unless_a_real_critical_is_found() -> None:
    unknown = decide([finding("passed"), finding("error"), finding("failed", "warning")])
    assert unknown.code == ExitCode.UNKNOWN and "could not check 1 check(s)" in unknown.reason
    critical = decide([finding("error"), finding("failed")])
    assert critical.code == ExitCode.CRITICAL and "could not check" in critical.reason
    # a crash on a domain error keeps its severity, as it did
    assert decide([finding("crashed")]).code == ExitCode.CRITICAL
    assert decide([finding("passed")]).code == ExitCode.HEALTHY


VALID = """
import pytest
from acore_doctor import check

@pytest.mark.critical
@check("Token is set", "Set DISCORD_TOKEN.")
def test_ok():
    pass
"""


def items_of(pytester: pytest.Pytester, source: str) -> dict[str, pytest.Item]:
    # The severity markers are registered only in a health run; this inner session is not one.
    pytester.makeini(
        "[pytest]\nasyncio_default_fixture_loop_scope = function\n"
        "markers =\n    critical: c\n    warning: w\n    doctor: d\n"
    )
    return {item.name: item for item in pytester.getitems(source)}


def test_a_declared_check_with_one_severity_is_valid(pytester: pytest.Pytester) -> None:
    [item] = items_of(pytester, VALID).values()
    assert declaration_problem(item) is None


def test_severity_markers_must_be_exactly_one(pytester: pytest.Pytester) -> None:
    items = items_of(
        pytester,
        """
import pytest
from acore_doctor import check

@check("No severity", "Add one.")
def test_none():
    pass

@pytest.mark.critical
@pytest.mark.warning
@check("Both severities", "Pick one.")
def test_both():
    pass
""",
    )
    none = declaration_problem(items["test_none"])
    both = declaration_problem(items["test_both"])
    assert none is not None and "exactly one severity marker" in none and "found: none" in none
    assert both is not None and "found: critical, warning" in both


def test_title_and_recommendation_are_required(pytester: pytest.Pytester) -> None:
    items = items_of(
        pytester,
        """
import pytest
from acore_doctor import check

@pytest.mark.warning
def test_undeclared():
    pass

@pytest.mark.warning
@check("", "A recommendation without a title.")
def test_no_title():
    pass

@pytest.mark.critical
@check("A title without a recommendation", "")
def test_no_recommendation():
    pass
""",
    )
    for name, item in items.items():
        problem = declaration_problem(item)
        assert problem is not None, name
        assert "must declare a title and a recommendation" in problem
        assert item.nodeid in problem
