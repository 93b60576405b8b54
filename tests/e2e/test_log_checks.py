"""The log health checks, run as an operator runs them: the real suite in a child process on
a deployment whose logs the generator wrote with one failure mode each."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from acore_doctor.demo import start_standin_bot, stop_standin_bot
from acore_doctor.logs.signatures import SIGNATURES
from tests.support.builder import DeploymentBuilder
from tests.support.loggen import SIGNATURE_LINES, LogGen, write_rotated

CHECKS = "health_tests/test_logs.py"


def outcomes(run) -> dict[str, str]:
    return {c["nodeid"].split("::", 1)[1]: c["outcome"] for c in run.report["checks"]}


def write_log(bot: DeploymentBuilder, *gens: LogGen) -> Path:
    logs = bot.root / "logs"
    for old in logs.glob("bot.log*"):
        old.unlink()
    write_rotated(logs, list(gens))
    return logs / "bot.log"


def test_demo_logs_show_debug_level_and_the_webhook_limit(bot, run_suite):
    run = run_suite(bot.root, CHECKS)
    assert run.finding("test_log_level_not_debug")["outcome"] == "failed"
    webhook = run.finding("test_known_signature[webhook_limit]")
    assert webhook["outcome"] == "failed" and webhook["severity"] == "warning"
    assert "Maximum number of webhooks reached (15)" in webhook["message"]
    # The crash loop sits in the rotated segment, before the recent window.
    assert run.finding("test_no_crash_loop")["outcome"] == "passed"
    assert run.code == 1


def test_crash_loop_flood_and_every_signature_at_its_severity(bot, run_suite):
    bot.set_env(LOG_LEVEL="INFO")
    gen = LogGen(start=time.time() - 1800).crash_loop(6).flood(300, 30)
    for key in SIGNATURE_LINES:
        gen.signature(key, count=5 if key == "character_break" else 1)
    write_log(bot, gen)
    run = run_suite(bot.root, CHECKS)
    assert run.code == 2
    crash = run.finding("test_no_crash_loop")
    assert crash["outcome"] == "failed" and crash["severity"] == "critical"
    assert "expected at most 3 starts in 10 min, found 6" in crash["message"]
    flood = run.finding("test_no_error_flood")
    assert flood["outcome"] == "failed" and "OpenRouterService.generate()" in flood["message"]
    assert run.finding("test_error_share")["outcome"] == "failed"
    for signature in SIGNATURES:
        if not signature.own_check:
            continue
        finding = run.finding(f"test_known_signature[{signature.key}]")
        assert finding["outcome"] == "failed", signature.key
        assert finding["severity"] == signature.severity
        assert finding["recommendation"] == signature.recommendation
        assert finding["guide"] == signature.guide


def test_a_healthy_log_passes_every_log_check(bot, run_suite):
    bot.set_env(LOG_LEVEL="INFO")
    gen = LogGen(start=time.time() - 3000).start().chat(60, every=40)
    gen.signature("character_break", count=2)  # below its rate: background noise
    write_log(bot, LogGen(start=time.time() - 30 * 3600).start().chat(5), gen)
    run = run_suite(bot.root, CHECKS)
    failed = {k: v for k, v in outcomes(run).items() if v not in ("passed", "skipped")}
    assert not failed, run.stdout
    assert run.finding("test_log_rotation_sane")["outcome"] == "passed"
    assert run.finding("test_error_share")["outcome"] == "passed"
    assert run.code == 0


def test_flood_threshold_is_configurable(bot, run_suite):
    bot.set_env(LOG_LEVEL="INFO")
    write_log(bot, LogGen(start=time.time() - 600).start().chat(100, every=2).flood(50, 40))
    default = run_suite(bot.root, CHECKS, "-k", "flood")
    assert default.finding("test_no_error_flood")["outcome"] == "passed"
    strict = run_suite(bot.root, CHECKS, "-k", "flood", "--log-flood-per-minute=20")
    assert strict.finding("test_no_error_flood")["outcome"] == "failed"
    assert "at most 20 copies" in strict.finding("test_no_error_flood")["message"]


def test_rotation_beyond_backup_count_broken_gz_and_hourly_rotation(bot, run_suite):
    bot.set_env(LOG_LEVEL="INFO", LOG_BACKUP_COUNT="2", LOG_MAX_BYTES="9000")
    now = time.time()
    # Each rotated segment filled LOG_MAX_BYTES in about an hour (85 lines 40 s apart).
    gens = [LogGen(start=now - 3700 * (4 - n)).heartbeats(85, every=40) for n in range(3)]
    log = write_log(bot, *gens, LogGen(start=now - 300).start().chat(3))
    (log.parent / "bot.log.2.gz").write_bytes(b"\x1f\x8b\x08\x00truncated")
    run = run_suite(bot.root, CHECKS, "-k", "rotation")
    sane = run.finding("test_log_rotation_sane")
    assert sane["outcome"] == "failed" and sane["severity"] == "warning"
    assert "beyond LOG_BACKUP_COUNT=2 (bot.log.3.gz)" in sane["message"]
    assert "bot.log.2.gz is not a valid gzip file" in sane["message"]
    interval = run.finding("test_log_rotation_interval")
    assert (
        interval["outcome"] == "failed" and "at least 6 h between rotations" in interval["message"]
    )


@pytest.fixture
def running_bot(bot):
    proc = start_standin_bot(bot.root, seconds=120)
    yield proc
    stop_standin_bot(proc)


def test_running_bot_with_a_stale_log_and_no_ready_marker(bot, run_suite, running_bot):
    bot.set_env(LOG_LEVEL="INFO")
    old = time.time() - 8 * 3600
    log = write_log(bot, LogGen(start=old).start().chat(3))
    os.utime(log, (old + 200, old + 200))
    run = run_suite(bot.root, CHECKS, "--log-ready-grace-minutes=0")
    stale = run.finding("test_log_written_recently")
    assert stale["outcome"] == "failed" and stale["severity"] == "critical"
    assert f"pid {running_bot.pid}" not in stale["message"]  # it exists: the age is the problem
    assert "written within 360 min while the bot runs" in stale["message"]
    ready = run.finding("test_ready_since_start")
    assert ready["outcome"] == "failed" and f"pid {running_bot.pid}" in ready["message"]


def test_running_bot_that_logged_ready_after_its_start_passes(bot, run_suite, running_bot):
    bot.set_env(LOG_LEVEL="INFO")
    gen = LogGen(start=time.time() - 3600).start().chat(10, every=60)
    gen.clock = time.time() - 10  # within the minute of slack before the process start
    gen.start()
    write_log(bot, gen)
    run = run_suite(bot.root, CHECKS, "--log-ready-grace-minutes=0")
    assert run.finding("test_log_written_recently")["outcome"] == "passed"
    assert run.finding("test_ready_since_start")["outcome"] == "passed"


def test_runtime_path_skips_file_checks_and_reads_the_journal(bot, run_suite, tmp_path: Path):
    gen = LogGen(start=time.time() - 900, millis=True).crash_loop(5)
    base = int((time.time() - 900) * 1_000_000)
    export = tmp_path / "journal.json"
    export.write_text(
        "\n".join(
            json.dumps({"__REALTIME_TIMESTAMP": str(base + n), "MESSAGE": line.decode()})
            for n, line in enumerate(gen.lines)
        )
    )
    run = run_suite(bot.root, CHECKS, "--entrypoint=runtime", f"--log-journal-file={export}")
    for name in (
        "test_log_written_recently",
        "test_log_rotation_sane",
        "test_logs_not_world_readable",
    ):
        finding = run.finding(name)
        assert finding["outcome"] == "skipped"
        assert "launcher.py logs only to stderr/journald" in finding["message"]
    # LOG_LEVEL is ignored on this path, but the journal itself is evidence of the level.
    assert run.finding("test_log_level_not_debug")["outcome"] == "passed"
    assert run.finding("test_no_crash_loop")["outcome"] == "failed"


def test_unreadable_log_content_is_a_finding_not_a_crash(bot, run_suite):
    bot.set_env(LOG_LEVEL="INFO")
    log = write_log(bot, LogGen())
    log.write_bytes(os.urandom(200_000))
    run = run_suite(bot.root, CHECKS)
    assert "crashed" not in outcomes(run).values()
    assert run.finding("test_no_crash_loop")["outcome"] == "skipped"
    assert "no timestamped record" in run.finding("test_no_crash_loop")["message"]


def test_log_to_file_false_skips_the_file_checks(bot, run_suite):
    bot.set_env(LOG_TO_FILE="false")
    run = run_suite(bot.root, CHECKS, "--log-journal-unit=acore-doctor-no-such-unit")
    for name in ("test_log_written_recently", "test_log_rotation_sane"):
        assert run.finding(name)["outcome"] == "skipped"
        assert "LOG_TO_FILE=false" in run.finding(name)["message"]
    assert run.finding("test_log_level_not_debug")["outcome"] == "failed"  # stdout still at DEBUG
    assert run.finding("test_no_crash_loop")["outcome"] == "skipped"


def test_five_percent_debug_records_at_log_level_info_warn_with_their_count(bot, run_suite):
    """Issue 18 point 7: at LOG_LEVEL=INFO the bot writes no DEBUG record, so 5 % is proof."""
    bot.set_env(LOG_LEVEL="INFO")
    gen = LogGen(start=time.time() - 3000).start(level="INFO").chat(95, every=15)
    gen.heartbeats(10, every=20)  # 10 of ~205 records: under the old 10 % share
    write_log(bot, gen)
    for path in (bot.root / "logs").iterdir():
        path.chmod(0o600)
    run = run_suite(bot.root, CHECKS)
    debug = run.finding("test_log_level_not_debug")
    assert debug["outcome"] == "failed" and debug["severity"] == "warning", run.stdout
    assert "10 DEBUG record(s) since the last start at" in debug["message"]
    assert "the bot logged 'Level=INFO' at its start" in debug["message"]
    failed = {k for k, v in outcomes(run).items() if v not in ("passed", "skipped")}
    assert failed == {"test_log_level_not_debug"}, run.stdout
    assert run.code == 1


def test_a_world_readable_rotated_gz_with_discord_user_objects_warns(bot, run_suite):
    """Issue 18 point 7: the newest hour is clean; bot.log.1.gz from a DEBUG run is 0644."""
    bot.set_env(LOG_LEVEL="INFO")
    old = LogGen(start=time.time() - 30 * 3600).start(level="DEBUG")
    for _ in range(20):
        old.huge_payload(1500)
    recent = LogGen(start=time.time() - 3000).start().chat(60, every=40)
    write_log(bot, old, recent)
    logs = bot.root / "logs"
    for path in logs.iterdir():
        path.chmod(0o600)
    (logs / "bot.log.1.gz").chmod(0o644)
    run = run_suite(bot.root, CHECKS)
    private = run.finding("test_logs_not_world_readable")
    assert private["outcome"] == "failed" and private["severity"] == "warning", run.stdout
    assert "bot.log.1.gz: Discord user objects in a sample of the file" in private["message"]
    assert "found bot.log.1.gz 0644" in private["message"]
    assert "my secret plan" not in json.dumps(run.report)  # the kind is named, not the text
    failed = {k for k, v in outcomes(run).items() if v not in ("passed", "skipped")}
    assert failed == {"test_logs_not_world_readable"}, run.stdout
    # the same segment private: nothing to say
    (logs / "bot.log.1.gz").chmod(0o600)
    again = run_suite(bot.root, CHECKS)
    assert again.finding("test_logs_not_world_readable")["outcome"] == "passed"
    assert again.code == 0, again.stdout
