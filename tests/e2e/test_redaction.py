"""Secrets from the deployment's settings never leave the process in clear."""

from __future__ import annotations

from pathlib import Path

import pytest

from acore_doctor.redact import MASK
from tests.support.secrets import SECRETS, TOKEN

LEAKY_CHECKS = """
import logging
import pytest
from acore_doctor import check

KEYS = {keys!r}

@pytest.mark.critical
@check("Leaks through assertion and locals", "Nothing.")
def test_assert_leak(settings, record_details):
    values = {{k: settings.raw(k) for k in KEYS}}
    token = settings.raw("DISCORD_TOKEN")
    webhook = settings.raw("ERROR_REPORT_WEBHOOK")
    record_details(f"token {{token}} webhook {{webhook}}")
    print("stdout:", values)
    logging.getLogger("leak").error("log: %s %s", token, webhook)
    assert token == "something else", f"expected another token, found {{token}} and {{values}}"

@pytest.mark.warning
@check("Leaks through a crash", "Nothing.")
def test_crash_leak(settings):
    raise RuntimeError("crash with " + settings.raw("OPENROUTER_API_KEY") + " " + settings.raw("ANALYTICS_PASSWORD"))

@pytest.mark.warning
@check("Leaks through a skip", "Nothing.")
def test_skip_leak(settings):
    pytest.skip("skip with " + settings.raw("CLIENT_SECRET") + " " + settings.raw("GESTALT_API_TOKEN"))
"""


def _fragments(secret: str) -> list[str]:
    if "://" in secret:
        return [secret, secret[-10:]]
    return [secret, secret[:10], secret[-10:]]


@pytest.mark.parametrize("extra", [[], ["-vv", "--showlocals", "--tb=long"]])
def test_no_output_contains_a_planted_secret(pytester: pytest.Pytester, extra: list[str]):
    bot = pytester.path / "bot"
    bot.mkdir()
    (bot / ".env").write_text("".join(f"{k}={v}\n" for k, v in SECRETS.items()))
    (pytester.path / "health_tests").mkdir()
    (pytester.path / "health_tests" / "test_leaks.py").write_text(
        LEAKY_CHECKS.format(keys=list(SECRETS))
    )
    reports = pytester.path / "reports"
    outputs = pytester.path / "out"
    outputs.mkdir()
    result = pytester.runpytest_subprocess(
        f"--bot-dir={bot}",
        f"--report-dir={reports}",
        f"--html={outputs / 'report.html'}",
        "--self-contained-html",
        f"--junitxml={outputs / 'junit.xml'}",
        f"--log-file={outputs / 'suite.log'}",
        "-rA",
        "-p",
        "no:cacheprovider",
        *extra,
    )
    assert result.ret == 2
    console = result.stdout.str() + result.stderr.str()
    assert MASK in console
    files = {
        p: p.read_text(errors="replace")
        for p in [*reports.iterdir(), *outputs.iterdir()]
        if p.is_file()
    }
    assert {p.suffix for p in files} >= {".json", ".html", ".xml", ".log"}
    for name, text in {"console": console, **{str(p): t for p, t in files.items()}}.items():
        for key, secret in SECRETS.items():
            for fragment in _fragments(secret):
                assert fragment not in text, f"{key} leaked into {name}"


def test_real_suite_never_prints_the_deployment_token(bot, run_suite):
    bot.set_env(DISCORD_TOKEN=f"Bot {TOKEN}")  # the token check fails and describes it
    result = run_suite(bot.root, "-vv", "--showlocals")
    assert result.code == 2
    texts = [result.stdout, result.stderr] + [
        p.read_text() for p in Path(result.report_dir).iterdir()
    ]
    for text in texts:
        for fragment in _fragments(TOKEN):
            assert fragment not in text


WARNING_CHECK = """
import warnings
import pytest
from acore_doctor import check

@pytest.mark.warning
@check("Warns with a secret", "Nothing.")
def test_warns(settings):
    warnings.warn("deprecated setting, value " + settings.raw("CLIENT_SECRET") + " {shaped}")
"""
SHAPED = "ghp_" + "Z9y8X7w6V5u4T3s2R1q0P9o8N7m6L5k4J3i2"


def test_pytest_warnings_summary_is_redacted_in_a_health_run(pytester: pytest.Pytester):
    bot = pytester.path / "bot"
    bot.mkdir()
    (bot / ".env").write_text("".join(f"{k}={v}\n" for k, v in SECRETS.items()))
    (pytester.path / "health_tests").mkdir()
    (pytester.path / "health_tests" / "test_warns.py").write_text(
        WARNING_CHECK.format(shaped=SHAPED)
    )
    result = pytester.runpytest_subprocess(
        f"--bot-dir={bot}", f"--report-dir={pytester.path / 'reports'}", "-p", "no:cacheprovider"
    )
    printed = result.stdout.str() + result.stderr.str()
    assert "warnings summary" in printed and "deprecated setting, value" in printed
    assert SECRETS["CLIENT_SECRET"] not in printed
    assert SHAPED not in printed


def test_pytest_warnings_summary_is_untouched_outside_a_health_run(pytester: pytest.Pytester):
    """The plugin stays inert: another project's warning text is printed as it was."""
    pytester.makepyfile(
        test_theirs=f"""
import warnings

def test_warns():
    warnings.warn("their own text {SHAPED}")
"""
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    assert f"their own text {SHAPED}" in result.stdout.str()
