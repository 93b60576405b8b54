"""watch follows the bot's log between full runs (issue 23): a new ERROR runs its area's
checks at once, alerts within seconds to a local webhook receiver, keeps a bundle with
AUTO_DIAGNOSTIC_ON_ERROR, and the same area is checked at most once per cooldown."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from tests.support.local_suite import make_healthy
from tests.support.runs import SUITE_ROOT, clean_env, everything_on

LOGIN_FAILURE = (
    "{stamp},000 - discord.client - ERROR - Attempting a login failed: "
    "Improper token has been passed.\n"
)


def stamp() -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S")


def wait_for(predicate, timeout: float, step: float = 0.1) -> float | None:
    """Seconds until ``predicate()`` held, or None after ``timeout``."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if predicate():
            return time.monotonic() - start
        time.sleep(step)
    return None


def test_an_error_in_the_log_triggers_its_checks_and_an_alert_at_once(bot, sim, tmp_path):
    make_healthy(bot)
    hook = sim.discord.add_webhook()
    bot.set_env(
        ERROR_REPORT_WEBHOOK=sim.discord.webhook_url(hook.id), AUTO_DIAGNOSTIC_ON_ERROR="true"
    )
    log = bot.root / "logs" / "bot.log"
    out = tmp_path / "watch.out"
    with out.open("w") as sink:
        watch = subprocess.Popen(
            [sys.executable, "-m", "acore_doctor.cli", "watch", f"--bot-dir={bot.root}",
             f"--report-dir={tmp_path / 'reports'}", "--interval=3600", "--error-cooldown=600",
             "health_tests/test_logs.py"],
            cwd=SUITE_ROOT, env=clean_env(**everything_on(sim)), stdout=sink, stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            assert wait_for(lambda: "warning(s)" in out.read_text(), 120), out.read_text()
            assert "following" in out.read_text()
            assert sim.discord.webhook_messages(hook.id) == []  # one run is no confirmed streak
            with log.open("a") as bot_log:
                bot_log.write(LOGIN_FAILURE.format(stamp=stamp()))
            took = wait_for(lambda: sim.discord.webhook_messages(hook.id), 60)
            assert took is not None, out.read_text()
            [message] = sim.discord.webhook_messages(hook.id)
            embed = message["embeds"][0]
            assert embed["title"].startswith("CRITICAL:")
            trigger = embed["description"].splitlines()[0]
            assert (
                trigger == "Triggered by an ERROR from discord.client (login_failure) in the log."
            )
            assert wait_for(lambda: "diagnostic saved" in out.read_text(), 120), out.read_text()
            bundles = list((tmp_path / "reports" / "diagnostics").glob("error_*"))
            assert len(bundles) == 1 and (bundles[0] / "report.json").is_file()

            with log.open("a") as bot_log:  # same area within the cooldown: no second run
                bot_log.write(LOGIN_FAILURE.format(stamp=stamp()))
            time.sleep(3)
            assert out.read_text().count("triggered run:") == 1
        finally:
            watch.terminate()
            watch.wait(timeout=30)
    report_dir = tmp_path / "reports"
    assert (report_dir / "triggered").is_dir()
    print(f"log line -> alert: {took:.2f} s")


def test_no_follow_leaves_errors_to_the_next_run(bot, tmp_path):
    make_healthy(bot)
    out = subprocess.run(
        [sys.executable, "-m", "acore_doctor.cli", "watch", f"--bot-dir={bot.root}",
         f"--report-dir={tmp_path}", "--once", "--no-alerts", "health_tests/test_logs.py"],
        cwd=SUITE_ROOT, env=clean_env(), capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert "following" not in out.stdout and not Path(tmp_path / "triggered").exists()


FAKE_JOURNALCTL = """#!/bin/sh
# A stand-in for journalctl (no systemd here): -f follows the export file, else prints it.
for arg in "$@"; do
  if [ "$arg" = "-f" ]; then exec tail -n 0 -F "$FAKE_JOURNAL" 2>/dev/null; fi
done
cat "$FAKE_JOURNAL"
"""


def test_a_bot_that_logs_to_the_journal_is_followed_there(bot, sim, tmp_path):
    import json as jsonlib

    make_healthy(bot)
    hook = sim.discord.add_webhook()
    bot.set_env(ERROR_REPORT_WEBHOOK=sim.discord.webhook_url(hook.id), LOG_TO_FILE="false")
    tools = tmp_path / "bin"
    tools.mkdir()
    (tools / "journalctl").write_text(FAKE_JOURNALCTL)
    (tools / "journalctl").chmod(0o755)
    journal = tmp_path / "journal.jsonl"
    journal.write_text("")
    env = clean_env(**everything_on(sim), FAKE_JOURNAL=str(journal))
    env["PATH"] = f"{tools}:{env['PATH']}"
    out = tmp_path / "watch.out"
    with out.open("w") as sink:
        watch = subprocess.Popen(
            [sys.executable, "-m", "acore_doctor.cli", "watch", f"--bot-dir={bot.root}",
             f"--report-dir={tmp_path / 'reports'}", "--interval=3600", "health_tests/test_logs.py"],
            cwd=SUITE_ROOT, env=env, stdout=sink, stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            assert wait_for(lambda: "(exit" in out.read_text(), 120), out.read_text()
            assert "following journalctl -u discordbot" in out.read_text()
            time.sleep(1.5)  # tail -F is reading
            entry = {
                "MESSAGE": LOGIN_FAILURE.format(stamp=stamp()).rstrip("\n"),
                "PRIORITY": "3",
                "__REALTIME_TIMESTAMP": str(int(time.time() * 1e6)),
            }
            with journal.open("a") as export:
                export.write(jsonlib.dumps(entry) + "\n")
            assert wait_for(lambda: "triggered run:" in out.read_text(), 60), out.read_text()
            assert "ERROR from discord.client (login_failure)" in out.read_text()
        finally:
            watch.terminate()
            watch.wait(timeout=30)


def test_warnings_are_reported_and_the_critical_switch_only_gates_criticals(bot, sim, tmp_path):
    make_healthy(bot)
    hook = sim.discord.add_webhook()
    bot.set_env(ERROR_REPORT_WEBHOOK=sim.discord.webhook_url(hook.id),
                CRITICAL_ERROR_NOTIFICATIONS="false", LOG_LEVEL="DEBUG")  # fmt: skip

    def once(report_dir: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "acore_doctor.cli", "watch", "--once", f"--bot-dir={bot.root}",
             f"--report-dir={tmp_path / report_dir}", "--alert-after=1", "health_tests/test_logs.py",
             "health_tests/test_config.py::test_discord_token_shape"],
            cwd=SUITE_ROOT, env=clean_env(), capture_output=True, text=True, timeout=120,
        )  # fmt: skip

    first = once("a")
    assert "alert sent" in first.stdout, first.stdout + first.stderr
    [message] = sim.discord.webhook_messages(hook.id)
    assert message["embeds"][0]["title"].startswith("WARNING:")
    bot.set_env(DISCORD_TOKEN="not-a-token")  # a critical now: not sent with the switch off
    once("a")
    assert len(sim.discord.webhook_messages(hook.id)) == 1
    bot.set_env(ERROR_REPORTING_ENABLED="false", CRITICAL_ERROR_NOTIFICATIONS=None)
    off = once("b")
    assert "alerts off (ERROR_REPORTING_ENABLED=false)" in off.stdout
    assert len(sim.discord.webhook_messages(hook.id)) == 1
