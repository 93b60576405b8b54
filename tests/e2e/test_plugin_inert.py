"""Outside a health run the plugin does nothing: an unrelated project keeps pytest's behaviour.

Each test runs a real pytest in a child process with the plugin installed (as it is in this
venv), in a throw-away project that is not acore-doctor's checkout.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.builder import make_token

SUITE_ROOT = Path(__file__).resolve().parents[2]
TOKEN = make_token()


def unrelated(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    """pytest in an unrelated project: its own folder named health_tests/, no --bot-dir."""
    pytester.mkdir("health_tests")
    (pytester.path / "health_tests" / "test_theirs.py").write_text(
        "import logging\n\n"
        "def test_logged_message(caplog):\n"
        "    caplog.set_level(logging.INFO)\n"
        f"    logging.getLogger('app').info('token is {TOKEN}')\n"
        f"    assert '{TOKEN}' in caplog.text\n\n"
        "def test_heavy_modules_not_loaded():\n"
        "    import sys\n"
        "    loaded = [m for m in ('aiohttp', 'psutil', 'acore_doctor.deployment',\n"
        "              'acore_doctor.service_fixtures', 'acore_doctor.local_fixtures')\n"
        "              if m in sys.modules]\n"
        "    assert loaded == []\n\n"
        "def test_fails():\n"
        "    assert 1 == 2\n\n"
        "def test_no_child_process_of_ours():\n"
        "    import psutil\n"
        "    ours = [c for c in psutil.Process().children(recursive=True)\n"
        "            if 'acore_doctor' in ' '.join(c.cmdline())]\n"
        "    assert ours == []\n"
    )
    return pytester.runpytest_subprocess("-p", "no:cacheprovider", *args)


def test_unrelated_project_keeps_pytest_behaviour(pytester, monkeypatch):
    monkeypatch.setenv("ACORE_BOT_DIR", str(pytester.path))
    result = unrelated(pytester)
    # pytest's own exit code, failure section and short summary; no verdict of ours
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.assert_outcomes(passed=3, failed=1)
    out = result.stdout.str()
    assert "acore-doctor summary" not in out
    assert "FAILURES" in out and "FAILED health_tests/test_theirs.py::test_fails" in out
    assert not (pytester.path / "reports").exists()


def test_unrelated_project_html_report_has_no_severity_column(pytester):
    html = pytester.path / "theirs.html"
    result = unrelated(pytester, f"--html={html}")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    text = html.read_text()
    assert "col-severity" not in text and "Severity" not in text
    assert "acore-doctor:" not in text  # our title (the plugin list names us anyway)


def test_help_lists_our_options():
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "--help"],
        cwd=SUITE_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    for option in ("--bot-dir", "--cpu-warning-percent", "--log-error-share-percent", "--nagios"):
        assert option in proc.stdout
    assert "fuller (%)" in proc.stdout


def test_plain_pytest_in_the_checkout_says_what_to_do():
    env = {k: v for k, v in __import__("os").environ.items() if k != "ACORE_BOT_DIR"}
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider"],
        cwd=SUITE_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 3, proc.stdout + proc.stderr
    assert "--bot-dir=/path/to/acore_bot" in proc.stderr
    assert "acore-doctor summary" not in proc.stdout


def test_our_checks_by_path_are_a_health_run_without_bot_dir(bot, tmp_path, monkeypatch):
    """Collecting this package's own health_tests/ (from anywhere) makes a health run."""
    monkeypatch.setenv("ACORE_BOT_DIR", str(bot.root))
    reports = tmp_path / "reports"
    check = SUITE_ROOT / "health_tests" / "test_config.py"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            f"--report-dir={reports}",
            f"{check}::test_discord_token_shape",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode in (0, 1, 2), proc.stdout + proc.stderr
    assert "acore-doctor summary" in proc.stdout
    assert (reports / "latest.json").exists()


def test_unrelated_project_with_a_long_marker_expression(pytester):
    """Option values longer than a file name may be are no paths to us (the plugin reads the
    raw command line of every session)."""
    expression = " or ".join(["slow"] * 100)
    result = unrelated(pytester, "-m", expression)
    assert result.ret == pytest.ExitCode.NO_TESTS_COLLECTED
    assert "Traceback" not in result.stderr.str() + result.stdout.str()
