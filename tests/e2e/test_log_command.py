"""``acore-doctor logs`` end to end: a child process on a generated deployment."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support.builder import tree_digest
from tests.support.loggen import CHANNEL, USER, USER_TEXT, LogGen, write_rotated
from tests.support.runs import SUITE_ROOT, clean_env


def logs_command(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "acore_doctor.cli", "logs", *args],
        cwd=SUITE_ROOT,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def flooded(bot) -> Path:
    logs = bot.root / "logs"
    for old in logs.glob("bot.log*"):
        old.unlink()
    now = time.time()
    older = LogGen(start=now - 5 * 3600).start().chat(20).crash_loop(5)
    recent = LogGen(start=now - 1800).start().chat(20).flood(500, 30).dns_outage(2)
    recent.huge_payload(20_000).binary_junk().signature("webhook_limit")
    recent.line("cogs.chat.main", "WARNING", f"Message from {USER}: '{USER_TEXT}'", dt=1)
    write_rotated(logs, [older, recent])
    return bot.root


def test_json_output_for_the_last_hour(flooded: Path, tmp_path: Path):
    before = tree_digest(flooded)
    run = logs_command(
        f"--bot-dir={flooded}", "--since", "1h", "--json", f"--report-dir={tmp_path}"
    )
    assert run.returncode == 2, run.stderr
    doc = json.loads(run.stdout)
    assert doc["records_by_level"]["ERROR"] >= 500 and doc["starts"] == 1
    keys = {f["key"] for f in doc["findings"]}
    assert {"error_flood", "webhook_limit", "dns_failure"} <= keys
    assert "crash_loop" not in keys  # older than an hour
    assert doc["tracebacks"] == {"aiohttp.client_exceptions.ClientConnectorDNSError": 2}
    assert doc["parse"]["binary_lines"] == 1 and doc["parse"]["huge_lines"] >= 1
    assert USER_TEXT not in run.stdout and USER not in run.stdout and CHANNEL not in run.stdout
    assert tree_digest(flooded) == before, "the command must not write into the deployment"
    assert list((tmp_path / "log-state").glob("templates-*.json"))


def test_all_reads_rotated_segments_and_finds_the_old_crash_loop(flooded: Path, tmp_path: Path):
    run = logs_command(f"--bot-dir={flooded}", "--all", "--json", "--no-state")
    doc = json.loads(run.stdout)
    assert doc["starts"] == 7 and doc["max_starts_in_crash_window"] == 5
    assert "crash_loop" in {f["key"] for f in doc["findings"]}
    assert len(doc["sources"]) == 2


def test_text_output_and_new_templates_since_the_previous_run(flooded: Path, tmp_path: Path):
    first = logs_command(f"--bot-dir={flooded}", f"--report-dir={tmp_path}")
    assert "first analysis of this deployment" in first.stdout
    assert "Top error templates:" in first.stdout
    assert "[critical] No error flood in the recent log: expected at most 100" in first.stdout
    assert "\r" not in first.stderr  # no progress indicator without a terminal
    with (flooded / "logs" / "bot.log").open("a") as out:
        out.write(LogGen(start=time.time()).signature("rate_limited").data().decode())
    second = logs_command(f"--bot-dir={flooded}", f"--report-dir={tmp_path}", "--json")
    doc = json.loads(second.stdout)
    assert len(doc["new_templates"]) == 1 and doc["new_templates"][0].startswith("WARNING We are")


def test_journal_export_and_explicit_files(flooded: Path, tmp_path: Path):
    gen = LogGen(start=time.time() - 300, millis=True).crash_loop(4)
    export = tmp_path / "journal.json"
    export.write_text(
        "\n".join(
            json.dumps({"__REALTIME_TIMESTAMP": "0", "MESSAGE": line.decode()})
            for line in gen.lines
        )
    )
    journal = logs_command(f"--journal-file={export}", "--json", "--no-state")
    assert json.loads(journal.stdout)["starts"] == 4 and journal.returncode == 2
    files = logs_command(
        "--file", str(flooded / "logs" / "bot.log"), "--all", "--json", "--no-state"
    )
    assert json.loads(files.stdout)["starts"] == 1


def test_no_log_and_bad_since_exit_3(tmp_path: Path):
    missing = logs_command(f"--bot-dir={tmp_path}")
    assert missing.returncode == 3 and "no log file" in missing.stderr
    bad = logs_command(f"--bot-dir={tmp_path}", "--since", "lunchtime")
    assert bad.returncode == 3 and "expected e.g. 30m" in bad.stderr


def test_secret_values_from_env_never_appear(bot, tmp_path: Path):
    secret = "planted-secret-value-998877"
    bot.set_env(ANALYTICS_API_KEY=secret, LOG_LEVEL="INFO")
    gen = LogGen(start=time.time() - 60)
    gen.line("services.analytics", "ERROR", f"auth failed with key {secret} for dashboard", dt=1)
    write_rotated(bot.root / "logs", [gen])
    for extra in ((), ("--json",)):
        run = logs_command(f"--bot-dir={bot.root}", "--no-state", *extra)
        assert "auth failed with key" in run.stdout and secret not in run.stdout


def test_stopped_bots_log_is_anchored_at_its_newest_record(bot, tmp_path: Path):
    """No --since: the hour before the newest record, however old, and the age said plainly."""
    logs = bot.root / "logs"
    for old in logs.glob("bot.log*"):
        old.unlink()
    gen = LogGen(start=time.time() - 3 * 86400).start().chat(30, every=60)
    write_rotated(logs, [gen])
    text = logs_command(f"--bot-dir={bot.root}", "--no-state")
    assert "Newest record:" in text.stdout and "2d 23h ago" in text.stdout, text.stdout
    assert "60 min before the newest record" in text.stdout
    assert "[warning] The log has recent records" in text.stdout
    assert text.returncode == 1
    doc = json.loads(logs_command(f"--bot-dir={bot.root}", "--no-state", "--json").stdout)
    assert doc["records"] > 50 and doc["newest_record_age_seconds"] > 3 * 86400 - 3600
