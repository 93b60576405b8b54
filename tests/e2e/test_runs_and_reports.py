"""Run bookkeeping an operator relies on: report names that never collide, the bot's .env
choosing where reports go, runs that checked nothing or stopped early never counting as full
runs, watch taking its run down with it on Ctrl-C, each subcommand's own usage, a coloured
summary only where colour is asked for, and a console settings object that behaves like a
mapping."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import textwrap
import time

import psutil

from acore_doctor import suite
from acore_doctor.ops.history import read_trend
from tests.support.runs import SUITE_ROOT, clean_env, run_suite_process

ONE_CHECK = "health_tests/test_config.py::test_env_file_present"
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def cli(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "acore_doctor.cli", *args],
        cwd=SUITE_ROOT,
        env=clean_env(**env),
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_twenty_runs_in_the_same_second_keep_twenty_reports(tmp_path):
    writer = textwrap.dedent(
        f"""
        import sys
        from pathlib import Path
        from acore_doctor.report.json_file import write_json_report
        n = int(sys.argv[1])
        report = {{"run": n, "checks": [{{"nodeid": "x"}}]}}
        write_json_report(report, Path({str(tmp_path / "reports")!r}), "20261208_010000")
        """
    )
    procs = [
        subprocess.Popen([sys.executable, "-c", writer, str(n)], cwd=SUITE_ROOT, env=clean_env())
        for n in range(20)
    ]
    assert [p.wait(timeout=120) for p in procs] == [0] * 20
    files = sorted((tmp_path / "reports").glob("diagnostic_*.json"))
    runs = sorted(json.loads(f.read_text())["run"] for f in files)
    assert runs == list(range(20)), [f.name for f in files]


def test_reports_path_from_the_bots_env_file(bot, tmp_path):
    target = tmp_path / "from_env_file"
    bot.set_env(DIAGNOSTIC_REPORTS_PATH=str(target))
    cmd = suite.pytest_command(bot.root, ["-p", "no:cacheprovider", ONE_CHECK])
    done = subprocess.run(
        cmd, cwd=SUITE_ROOT, env=clean_env(), capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    report = json.loads((target / "latest.json").read_text())
    assert [c["nodeid"] for c in report["checks"]] == [ONE_CHECK]


def test_empty_and_stopped_runs_never_pass_for_full_runs(bot, tmp_path):
    reports = tmp_path / "reports"
    full = run_suite_process(bot.root, reports, "--offline", "--allow-stopped")
    assert full.code in (1, 2), full.stdout[-2000:]
    latest = (reports / "latest.json").read_text()

    empty = run_suite_process(bot.root, reports, "--offline", "-k", "no_such_check")
    assert empty.code == 3
    assert (reports / "latest.json").read_text() == latest, "an empty run replaced latest.json"

    stopped = run_suite_process(bot.root, reports, "--offline", "--allow-stopped", "-x")
    assert stopped.code in (1, 2)
    runs = read_trend(reports)
    assert [bool(r.get("subset")) for r in runs] == [False, True, True], runs


def test_watch_stops_its_run_on_ctrl_c(bot, tmp_path):
    watch = subprocess.Popen(
        [
            sys.executable, "-m", "acore_doctor.cli", "watch", f"--bot-dir={bot.root}",
            f"--report-dir={tmp_path / 'reports'}", "--interval=600",
        ],
        cwd=SUITE_ROOT,
        env=clean_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )  # fmt: skip
    try:
        children: list[psutil.Process] = []
        deadline = time.monotonic() + 60
        while not children and time.monotonic() < deadline:
            time.sleep(0.2)
            children = psutil.Process(watch.pid).children(recursive=True)
        assert children, "watch started no suite run"
        watch.send_signal(signal.SIGINT)  # what Ctrl-C sends watch (its run has its own session)
        assert watch.wait(timeout=60) == 130
        gone, alive = psutil.wait_procs(children, timeout=20)
        assert not alive, f"the suite run outlived watch: {alive}"
    finally:
        if watch.poll() is None:
            watch.kill()
            watch.wait()


def test_a_subcommand_usage_error_prints_its_own_usage():
    for command in ("memory", "backup", "logs"):
        done = cli(command, "--no-such-option")
        assert done.returncode == 3
        assert f"usage: acore-doctor {command}" in done.stderr, done.stderr


def test_summary_is_coloured_only_when_asked(bot, tmp_path):
    plain = run_suite_process(bot.root, tmp_path / "a", "--offline", ONE_CHECK)
    assert "Overall status: HEALTHY" in plain.stdout and not ANSI.search(plain.stdout)
    coloured = run_suite_process(bot.root, tmp_path / "b", "--offline", "--color=yes", ONE_CHECK)
    status = next(line for line in coloured.stdout.splitlines() if "Overall status" in line)
    assert ANSI.search(status), status


def test_console_settings_support_in_and_iteration(bot):
    done = subprocess.run(
        [
            sys.executable, "-m", "acore_doctor.cli", "console", f"--bot-dir={bot.root}", "-c",
            "print('DISCORD_TOKEN' in settings, 'NOPE_NOT_SET' in settings, "
            "len(list(settings)) == len(settings.keys()) > 0)",
        ],
        cwd=SUITE_ROOT,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["True", "False", "True"], done.stdout
