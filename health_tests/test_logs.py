"""The bot's logs: written while it runs, rotated sanely, and free of crash loops, floods and
known failure signatures in the recent window (reference §8 checks 2, 3, 26-28)."""

from __future__ import annotations

import time

import pytest

from acore_doctor import check
from acore_doctor.log_fixtures import LogSource, LogThresholds, ReadyFacts
from acore_doctor.logs.parse import format_local
from acore_doctor.logs.rotation import RotationFacts, rotation_facts
from acore_doctor.logs.signatures import SIGNATURES, Signature
from acore_doctor.logs.sources import LogFiles
from acore_doctor.logs.window import WindowFacts
from acore_doctor.probes.bot_process import BotProcess
from acore_doctor.settings import BotSettings


def _needs_file(source: LogSource) -> None:
    if source.no_file_reason:
        pytest.skip(f"not applicable: {source.no_file_reason}")


def _needs_window(window: WindowFacts) -> None:
    if window.problem:
        pytest.skip(f"not applicable: {window.problem}")


def _span(window: WindowFacts) -> str:
    return f"{format_local(window.start)} to {format_local(window.end)} ({window.source})"


@pytest.mark.critical
@check(
    "Log file is written while the bot runs",
    "Check LOG_FILE_PATH and that the bot's user can write there; a running bot whose log "
    "stopped is usually hung (see 'acore-doctor logs' for its last lines) and needs a restart.",
    guide="guides/common_issues.md#log-not-written",
)
def test_log_written_recently(
    log_source: LogSource,
    log_files: LogFiles,
    bot_processes: list[BotProcess],
    settings: BotSettings,
    log_thresholds: LogThresholds,
) -> None:
    _needs_file(log_source)
    if not bot_processes:
        pytest.skip("not applicable: no bot process runs from this deployment")
    assert log_files.live_exists, (
        f"expected the running bot (pid {bot_processes[-1].pid}) to write {log_files.live}, "
        f"found {log_files.live_error or 'no such file'}"
    )
    debug = settings.get("LOG_LEVEL").strip().upper() == "DEBUG"
    limit = log_thresholds.log_stale_debug_minutes if debug else log_thresholds.log_stale_minutes
    age_min = (time.time() - (log_files.live_mtime or 0)) / 60
    assert age_min <= limit, (
        f"expected {log_files.live} written within {limit:g} min while the bot runs "
        f"(LOG_LEVEL={'DEBUG' if debug else 'INFO or above'}), found its last write "
        f"{age_min:.0f} min ago ({format_local(log_files.live_mtime)})"
    )


@pytest.fixture(scope="module")
def rotation(log_files: LogFiles, settings: BotSettings) -> RotationFacts:
    return rotation_facts(
        log_files, settings.get("LOG_BACKUP_COUNT"), settings.get("LOG_MAX_BYTES")
    )


@pytest.mark.warning
@check(
    "Log rotation is sane",
    "Let the bot rotate its own log (no external logrotate on bot.log); move away uncompressed "
    "or extra bot.log.N files and replace broken .gz segments; keep LOG_BACKUP_COUNT and "
    "LOG_MAX_BYTES at their defaults unless disk is short.",
    guide="guides/common_issues.md#log-rotation-broken",
)
def test_log_rotation_sane(log_source: LogSource, rotation: RotationFacts) -> None:
    _needs_file(log_source)
    if not rotation.any_file:
        pytest.skip("not applicable: no log file yet")
    assert not rotation.problems, (
        "expected rotation within the bot's settings, found: " + "; ".join(rotation.problems)
    )


@pytest.mark.warning
@check(
    "Log does not rotate every few hours",
    "Find the template that fills the log in 'acore-doctor logs --all' (usually a retry loop or "
    "INFO spam such as 'KnowledgeTransfer initialized') and fix it; until then the history a "
    "diagnosis needs is rotated away within hours.",
    guide="guides/common_issues.md#error-flood",
)
def test_log_rotation_interval(
    log_source: LogSource, rotation: RotationFacts, log_thresholds: LogThresholds
) -> None:
    _needs_file(log_source)
    if rotation.shortest_interval_h is None:
        pytest.skip("not applicable: fewer than two rotations to compare")
    assert rotation.shortest_interval_h >= log_thresholds.log_rotation_min_hours, (
        f"expected at least {log_thresholds.log_rotation_min_hours:g} h between rotations, "
        f"found {rotation.shortest_interval_h:.1f} h ({rotation.shortest_interval_between})"
    )


@pytest.mark.warning
@check(
    "LOG_LEVEL is not DEBUG in production",
    "Set LOG_LEVEL=INFO in .env and restart: at DEBUG the gateway heartbeats and payload dumps "
    "make half the log, rotate it away fast and write users' messages to disk.",
    guide="guides/common_issues.md#debug-logging-in-production",
)
def test_log_level_not_debug(
    log_source: LogSource, settings: BotSettings, log_window: WindowFacts
) -> None:
    if log_source.runtime:
        pytest.skip(f"not applicable: {log_source.no_file_reason}")
    level = settings.get("LOG_LEVEL").strip().upper()
    analysis = log_window.analysis
    share = analysis.records_by_level["DEBUG"] / analysis.records if analysis.records else 0.0
    assert level != "DEBUG", (
        f"expected LOG_LEVEL=INFO (or WARNING) in production, found LOG_LEVEL={level} "
        f"(from {settings.source('LOG_LEVEL')}); {share:.0%} of the recent window's records "
        "are DEBUG"
    )


@pytest.mark.critical
@check(
    "Bot is not in a crash loop",
    "Read the 'Fatal error' or traceback before the restarts ('acore-doctor logs'), fix its "
    "cause, then 'systemctl restart discordbot' once; add StartLimitBurst to the unit so systemd "
    "stops a loop instead of restarting forever.",
    guide="guides/common_issues.md#crash-loop",
)
def test_no_crash_loop(log_window: WindowFacts, log_thresholds: LogThresholds) -> None:
    _needs_window(log_window)
    analysis = log_window.analysis
    limit = int(log_thresholds.log_crash_starts)
    minutes = log_thresholds.log_crash_minutes
    assert analysis.max_starts_in_crash_window <= limit, (
        f"expected at most {limit} starts in {minutes:g} min, found "
        f"{analysis.max_starts_in_crash_window} (up to {format_local(analysis.max_starts_window_end)}; "
        f"{len(analysis.starts)} starts and {analysis.ready_markers} ready markers in "
        f"{_span(log_window)})"
    )
    fatal = analysis.fatal_since_last_start
    assert fatal.count == 0, (
        f"expected no 'Fatal error' since the last start ({format_local(analysis.last_start)}), "
        f"found {fatal.count}, last at {format_local(fatal.last)}: {fatal.sample}"
    )


@pytest.mark.critical
@check(
    "Running bot reached Discord (ready marker since its start)",
    "The process runs but never logged 'Bot is ready!' / 'Discord bot ready as': look for "
    "LoginFailure or PrivilegedIntentsRequired in 'acore-doctor logs', fix the token or the "
    "intents, and restart. launcher.py keeps running when Discord login fails.",
    guide="guides/common_issues.md#bot-not-responding",
)
def test_ready_since_start(bot_ready: ReadyFacts | None) -> None:
    if bot_ready is None:
        pytest.skip("not applicable: no bot process runs from this deployment")
    if bot_ready.problem:
        pytest.skip(f"not applicable: {bot_ready.problem}")
    started = bot_ready.process.create_time
    waited = time.time() - started
    if bot_ready.ready_at is None and waited < bot_ready.grace_s:
        pytest.skip(
            f"not applicable: pid {bot_ready.process.pid} started {waited:.0f} s ago, the "
            f"ready marker may take up to {bot_ready.grace_s / 60:g} min"
        )
    assert bot_ready.ready_at is not None, (
        f"expected a ready marker within {bot_ready.grace_s / 60:g} min of pid "
        f"{bot_ready.process.pid}'s start at {format_local(started)}, found none "
        f"({bot_ready.starts_seen} start marker(s) logged since)"
    )


@pytest.mark.critical
@check(
    "No error flood in the recent log",
    "A retry loop without back-off is repeating one error: find it under 'error flood' in "
    "'acore-doctor logs', stop or fix the feature it names (e.g. BOT_CONVERSATION_ENABLED), "
    "and restart.",
    guide="guides/common_issues.md#error-flood",
)
def test_no_error_flood(log_window: WindowFacts, log_thresholds: LogThresholds) -> None:
    _needs_window(log_window)
    limit = int(log_thresholds.log_flood_per_minute)
    floods = log_window.analysis.flooding_templates(limit)
    assert not floods, (
        f"expected at most {limit} copies of one error per minute, found "
        + "; ".join(
            f"{t.peak_per_minute}/min at {format_local(t.peak_minute)[:16]} of '{t.template}' "
            f"({t.logger}, {t.count} in all)"
            for t in floods[:3]
        )
    )


@pytest.mark.warning
@check(
    "Error share of the recent log is below 1 %",
    "Look at the top error templates in 'acore-doctor logs' and fix the most frequent; a "
    "healthy bot logs well under 1 % errors.",
    guide="guides/common_issues.md#error-flood",
)
def test_error_share(log_window: WindowFacts, log_thresholds: LogThresholds) -> None:
    _needs_window(log_window)
    analysis = log_window.analysis
    if analysis.records < log_thresholds.log_min_records:
        pytest.skip(
            f"not applicable: only {analysis.records} records in the window "
            f"(at least {log_thresholds.log_min_records:g} needed)"
        )
    limit = log_thresholds.log_error_share_percent
    top = analysis.top_templates("ERROR", 1)
    assert analysis.error_share * 100 <= limit, (
        f"expected at most {limit:g} % ERROR/CRITICAL records, found "
        f"{analysis.error_share:.1%} ({analysis.error_records} of {analysis.records} in "
        f"{_span(log_window)})" + (f"; most frequent: '{top[0].template}'" if top else "")
    )


def _signature_params() -> list[object]:
    params = []
    for signature in SIGNATURES:
        if not signature.own_check:
            continue
        params.append(
            pytest.param(
                signature,
                id=signature.key,
                marks=[
                    getattr(pytest.mark, signature.severity),
                    check(signature.title, signature.recommendation, guide=signature.guide),
                ],
            )
        )
    return params


@pytest.mark.parametrize("signature", _signature_params())
def test_known_signature(signature: Signature, log_window: WindowFacts) -> None:
    _needs_window(log_window)
    hits = log_window.analysis.signature_hits(signature)
    assert hits is None, (
        f"expected no '{signature.key}' lines in {_span(log_window)}, found {hits.count} "
        f"(first {format_local(hits.first)}, last {format_local(hits.last)}): {hits.sample}; "
        f"cause: {signature.cause}"
    )
