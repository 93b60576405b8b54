"""Nagios always gets its one line on stdout, saying why (usage errors and a bad bot dir
too), then long output listing the findings (Nagios plugin guidelines)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.support.runs import SUITE_ROOT, clean_env


def nagios_run(*args: str, cwd=SUITE_ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--nagios", *args],
        cwd=cwd,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.parametrize(
    ("args", "why"),
    [
        (("--bot-dir=/nonexistent/acore_bot",), "/nonexistent/acore_bot, is not a directory"),
        (("--bot-dir={bot}", "--no-such-option"), "unrecognized arguments: --no-such-option"),
        (("--bot-dir={bot}", "--probe-timeout=soon"), "invalid float value: 'soon'"),
        ((), "which deployment should be checked?"),
    ],
    ids=["missing-bot-dir", "unknown-option", "bad-value", "no-bot-dir"],
)
def test_every_failure_still_prints_one_line_with_the_cause(bot, tmp_path, args, why):
    args = tuple(a.format(bot=bot.root) for a in args)
    done = nagios_run(f"--report-dir={tmp_path}", *args)
    assert done.returncode == 3, done.stdout + done.stderr
    first = done.stdout.splitlines()[0] if done.stdout else ""
    assert first.startswith("ACORE-DOCTOR UNKNOWN - "), done.stdout + done.stderr
    assert why in first, first


def test_a_file_given_as_bot_dir_says_so(tmp_path):
    a_file = tmp_path / "acore_bot"
    a_file.write_text("not a directory\n")
    done = nagios_run(f"--bot-dir={a_file}", f"--report-dir={tmp_path / 'r'}")
    assert done.returncode == 3
    assert "is not a directory" in done.stdout.splitlines()[0], done.stdout


def test_long_output_lists_every_finding(bot, tmp_path):
    bot.set_env(DISCORD_TOKEN="nope")
    reports = tmp_path / "reports"
    done = nagios_run(
        f"--bot-dir={bot.root}", f"--report-dir={reports}", "--offline", "--allow-stopped"
    )
    lines = done.stdout.splitlines()
    report = json.loads((reports / "latest.json").read_text())
    assert done.returncode == report["summary"]["exit_code"] == 2, done.stdout + done.stderr
    assert lines[0].startswith("ACORE-DOCTOR CRITICAL - ") and " | " in lines[0]
    expected = [f"CRITICAL: {e['title']}" for e in report["issues"]] + [
        f"WARNING: {e['title']}" for e in report["warnings"]
    ]
    assert [line.split(" - ", 1)[0] for line in lines[1:]] == expected
    assert all("|" not in line for line in lines[1:])
