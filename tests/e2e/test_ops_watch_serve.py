"""watch (runs in their own processes, never overlapping) and serve (cache, single flight)."""

from __future__ import annotations

import concurrent.futures
import json
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

from acore_doctor.ops.history import read_trend
from acore_doctor.ops.watch import run_lock
from tests.support.runs import SUITE_ROOT, clean_env

TOKEN_CHECK = "health_tests/test_config.py::test_discord_token_shape"


def cli(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "acore_doctor.cli", *args],
        cwd=SUITE_ROOT,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


# -- watch ---------------------------------------------------------------------------------
def test_watch_runs_each_run_in_a_fresh_process(bot, tmp_path):
    reports = tmp_path / "reports"
    proc = cli("watch", f"--bot-dir={bot.root}", f"--report-dir={reports}", "--interval=0",
               "--count=2", "--no-alerts", TOKEN_CHECK)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.count("HEALTHY (exit 0)") == 2
    runs = read_trend(reports)
    assert len(runs) == 2 and all(r["status"] == "healthy" for r in runs)


def test_watch_once_returns_the_verdict_for_timers(bot, tmp_path):
    bot.set_env(DISCORD_TOKEN="nope")
    proc = cli("watch", "--once", f"--bot-dir={bot.root}", f"--report-dir={tmp_path}", TOKEN_CHECK)
    assert proc.returncode == 2
    assert "alerts off (ERROR_REPORT_WEBHOOK is not set)" in proc.stdout


def test_watch_never_overlaps_another_run(bot, tmp_path):
    with run_lock(tmp_path):
        proc = cli("watch", "--once", f"--bot-dir={bot.root}", f"--report-dir={tmp_path}",
                   "--no-alerts", TOKEN_CHECK)  # fmt: skip
    assert proc.returncode == 3
    assert "skipped: another suite run holds" in proc.stdout
    assert not (tmp_path / "latest.json").exists()


def test_watch_interval_is_start_to_start(bot, tmp_path):
    started = time.monotonic()
    proc = cli("watch", f"--bot-dir={bot.root}", f"--report-dir={tmp_path}", "--interval=1",
               "--count=2", "--no-alerts", TOKEN_CHECK)  # fmt: skip
    assert proc.returncode == 0
    assert time.monotonic() - started >= 1.0


def test_watch_run_timeout_is_unknown(bot, tmp_path):
    proc = cli("watch", "--once", f"--bot-dir={bot.root}", f"--report-dir={tmp_path}",
               "--run-timeout=0.01", "--no-alerts", TOKEN_CHECK)  # fmt: skip
    assert proc.returncode == 3
    assert "UNKNOWN (exit 3)" in proc.stdout and "timed out after 0.01 s" in proc.stdout


def test_watch_stops_on_sigterm(bot, tmp_path):
    proc = subprocess.Popen(
        [sys.executable, "-m", "acore_doctor.cli", "watch", f"--bot-dir={bot.root}",
         f"--report-dir={tmp_path}", "--interval=60", "--no-alerts", TOKEN_CHECK],
        cwd=SUITE_ROOT, env=clean_env(), stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while not (tmp_path / "latest.json").exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(0.3)
        proc.terminate()
        assert proc.wait(timeout=10) == 0
    finally:
        proc.kill()


# -- serve ---------------------------------------------------------------------------------
@pytest.fixture
def server(bot, tmp_path):
    procs = []

    def start(*args: str) -> str:
        proc = subprocess.Popen(
            [sys.executable, "-m", "acore_doctor.cli", "serve", f"--bot-dir={bot.root}",
             f"--report-dir={tmp_path / 'reports'}", "--port=0", *args, TOKEN_CHECK],
            cwd=SUITE_ROOT, env=clean_env(), stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        procs.append(proc)
        line = proc.stdout.readline()
        match = re.search(r"http://127\.0\.0\.1:\d+", line)
        assert match, line
        return match.group(0)

    yield start
    for proc in procs:
        proc.terminate()
        assert proc.wait(timeout=10) == 0


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=60) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def test_serve_single_flight_under_concurrent_requests(server, bot, tmp_path):
    bot.set_env(DISCORD_TOKEN="nope")
    base = server("--cache-seconds=60")
    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        answers = list(pool.map(lambda _: get(base + "/healthz"), range(16)))
    assert {status for status, _ in answers} == {503}
    bodies = [json.loads(body) for _, body in answers]
    assert len({b["timestamp"] for b in bodies}) == 1
    assert bodies[0]["status"] == "critical"
    assert bodies[0]["issues"][0]["check"] == TOKEN_CHECK
    assert len(read_trend(tmp_path / "reports")) == 1, "16 requests, one suite run"
    status, metrics = get(base + "/metrics")
    assert status == 200
    assert re.search(r"acore_doctor_serve_runs_total\{deployment=\"[^\"]+\"\} 1\n", metrics)
    assert re.search(r'acore_doctor_status\{deployment="[^"]+"\} 2\n', metrics)


def test_serve_cache_expires_and_reports_healthy_as_200(server, tmp_path):
    base = server("--cache-seconds=0.5")
    status, body = get(base + "/healthz")
    assert status == 200 and json.loads(body)["cached"] is False
    status, body = get(base + "/healthz")
    assert json.loads(body)["cached"] is True
    time.sleep(0.7)
    status, body = get(base + "/healthz")
    assert json.loads(body)["cached"] is False
    assert len(read_trend(tmp_path / "reports")) == 2


def test_serve_warning_is_200(server):
    # The demo's CHAT_HISTORY_MAX_MESSAGES=twenty fails this warning check.
    base = server("health_tests/test_config.py::test_values_bot_understands")
    status, body = get(base + "/healthz")
    assert status == 200 and json.loads(body)["status"] == "warning"


def test_serve_unknown_is_500(server):
    base = server("--cache-seconds=0", "-k", "no_such_check")
    status, body = get(base + "/healthz")
    assert status == 500 and json.loads(body)["status"] == "unknown"


def test_auto_diagnostic_on_error_keeps_a_bundle_when_a_run_turns_critical(bot, tmp_path):
    secret = "sk-or-v1-0123456789abcdefghijklmnopqrstuv"
    bot.set_env(DISCORD_TOKEN=f"Bot {secret}", AUTO_DIAGNOSTIC_ON_ERROR="true")
    proc = cli("watch", f"--bot-dir={bot.root}", f"--report-dir={tmp_path}", "--interval=0",
               "--count=2", "--no-alerts", "-rA", TOKEN_CHECK)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    [bundle] = (tmp_path / "diagnostics").iterdir()  # the second critical run is no change
    assert proc.stdout.count("diagnostic saved to") == 1
    report = json.loads((bundle / "report.json").read_text())
    assert report["summary"]["overall_status"] == "critical"
    output = (bundle / "suite_output.txt").read_text()
    assert "test_discord_token_shape" in output
    assert (bundle / "logs.txt").read_text().strip()
    for path in bundle.iterdir():
        assert secret not in path.read_text() and secret[-10:] not in path.read_text()


def test_no_diagnostic_bundle_unless_enabled(bot, tmp_path):
    bot.set_env(DISCORD_TOKEN="nope")
    cli("watch", "--once", f"--bot-dir={bot.root}", f"--report-dir={tmp_path}", "--no-alerts",
        TOKEN_CHECK)  # fmt: skip
    assert not (tmp_path / "diagnostics").exists()


# -- the bot's switches ----------------------------------------------------------------------
def test_diagnostics_off_makes_watch_idle_and_say_so(bot, tmp_path):
    bot.set_env(DIAGNOSTIC_ENABLED="false")
    proc = cli("watch", f"--bot-dir={bot.root}", f"--report-dir={tmp_path}", "--interval=0",
               "--count=3", "--no-alerts", TOKEN_CHECK)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.count("idle: DIAGNOSTIC_ENABLED=false") == 1, proc.stdout
    assert not (tmp_path / "latest.json").exists(), "a suite run happened while disabled"
    once = cli("watch", "--once", f"--bot-dir={bot.root}", f"--report-dir={tmp_path}",
               "--no-alerts", TOKEN_CHECK)  # fmt: skip
    assert once.returncode == 3 and "diagnostics are off" in once.stdout


def test_diagnostics_off_makes_serve_answer_disabled_without_running(server, bot, tmp_path):
    bot.set_env(DIAGNOSTIC_ENABLED="false")
    base = server("--cache-seconds=0")
    status, body = get(base + "/healthz")
    assert status == 200, body
    answer = json.loads(body)
    assert answer["status"] == "disabled" and "DIAGNOSTIC_ENABLED=false" in answer["reason"]
    assert not (tmp_path / "reports" / "latest.json").exists()


def test_resource_monitoring_off_leaves_the_resource_checks_out_of_watch(bot, tmp_path):
    from acore_doctor.ops.switches import RESOURCE_CHECKS

    files = sorted({check.split("::")[0] for check in RESOURCE_CHECKS})
    bot.set_env(RESOURCE_MONITORING_ENABLED="false")
    cli("watch", "--once", f"--bot-dir={bot.root}", f"--report-dir={tmp_path / 'off'}",
        "--no-alerts", *files)  # fmt: skip
    ran = {
        c["nodeid"] for c in json.loads((tmp_path / "off" / "latest.json").read_text())["checks"]
    }
    assert ran and not ran & set(RESOURCE_CHECKS), ran
    bot.set_env(RESOURCE_MONITORING_ENABLED=None)
    cli("watch", "--once", f"--bot-dir={bot.root}", f"--report-dir={tmp_path / 'on'}",
        "--no-alerts", *files)  # fmt: skip
    ran = {c["nodeid"] for c in json.loads((tmp_path / "on" / "latest.json").read_text())["checks"]}
    assert set(RESOURCE_CHECKS) <= ran, "a resource check the switch names does not exist"
