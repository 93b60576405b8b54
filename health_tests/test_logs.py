"""The bot's logs: written while it runs, rotated sanely, and free of crash loops, floods and
known failure signatures in the recent window (reference §8 checks 2, 3, 26-28).

Each check asserts that one rule of :mod:`acore_doctor.rules.logs` finds nothing; the rule
writes the expected/found message, so ``acore-doctor logs`` says the same."""

from __future__ import annotations

import time
from collections.abc import Mapping

import pytest

from acore_doctor import check
from acore_doctor.log_fixtures import LogSource
from acore_doctor.logs.parse import format_local
from acore_doctor.logs.rotation import RotationFacts, rotation_facts
from acore_doctor.logs.signatures import Signature
from acore_doctor.logs.sources import LogFiles
from acore_doctor.logs.window import WindowFacts
from acore_doctor.probes.bot_process import BotProcess
from acore_doctor.probes.readiness import ReadyEvidence
from acore_doctor.rules import logs as rules
from acore_doctor.rules.logs import LogProblem, LogThresholds, Rule
from acore_doctor.rules.readiness import (
    NOT_CONNECTED,
    UNVERIFIED,
    Readiness,
    judge_readiness,
)
from acore_doctor.settings import BotSettings


def declared(rule: Rule):  # noqa: ANN201 - a decorator
    """The rule's claim as the check's declaration (one wording for the check and the tool)."""
    return check(rule.title, rule.recommendation, guide=rule.guide)


def details(problems: list[LogProblem]) -> str:
    return "; ".join(p.detail for p in problems)


def _env_level(settings: BotSettings) -> str:
    return settings.get("LOG_LEVEL").strip().upper()


def _needs_file(source: LogSource) -> None:
    if source.no_file_reason:
        pytest.skip(f"not applicable: {source.no_file_reason}")


def _needs_window(window: WindowFacts) -> None:
    if window.problem:
        pytest.skip(f"not applicable: {window.problem}")


def _span(window: WindowFacts) -> str:
    return f"{format_local(window.start)} to {format_local(window.end)} ({window.source})"


@pytest.mark.critical
@declared(rules.LOG_WRITTEN)
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
    age_min = (time.time() - (log_files.live_mtime or 0)) / 60
    where = f"{log_files.live} (last write {format_local(log_files.live_mtime)})"
    problems = rules.log_written(age_min, _env_level(settings) == "DEBUG", where, log_thresholds)
    assert not problems, details(problems)


@pytest.fixture(scope="module")
def rotation(log_files: LogFiles, settings: BotSettings) -> RotationFacts:
    return rotation_facts(
        log_files, settings.get("LOG_BACKUP_COUNT"), settings.get("LOG_MAX_BYTES")
    )


@pytest.mark.warning
@declared(rules.ROTATION_SANE)
def test_log_rotation_sane(log_source: LogSource, rotation: RotationFacts) -> None:
    _needs_file(log_source)
    if not rotation.any_file:
        pytest.skip("not applicable: no log file yet")
    problems = rules.rotation_sane(rotation.problems)
    assert not problems, details(problems)


@pytest.mark.warning
@declared(rules.ROTATION_INTERVAL)
def test_log_rotation_interval(
    log_source: LogSource, rotation: RotationFacts, log_thresholds: LogThresholds
) -> None:
    _needs_file(log_source)
    if rotation.shortest_interval_h is None:
        pytest.skip("not applicable: no full rotated segment to time")
    problems = rules.rotation_interval(
        rotation.shortest_interval_h, rotation.shortest_interval_between, log_thresholds
    )
    assert not problems, details(problems)


@pytest.mark.warning
@declared(rules.DEBUG_LOGGING)
def test_log_level_not_debug(
    log_source: LogSource,
    settings: BotSettings,
    log_window: WindowFacts,
    log_thresholds: LogThresholds,
) -> None:
    analysis = None if log_window.problem else log_window.analysis
    # launcher.py ignores LOG_LEVEL: only the log itself is evidence there.
    env_level = None if log_source.runtime else _env_level(settings)
    if env_level is None and analysis is None:
        pytest.skip(f"not applicable: {log_source.no_file_reason}; {log_window.problem}")
    problems = rules.debug_logging(
        env_level, settings.source("LOG_LEVEL"), analysis, log_thresholds
    )
    assert not problems, details(problems)


@pytest.mark.warning
@declared(rules.LOGS_PRIVATE)
def test_logs_not_world_readable(
    log_source: LogSource,
    log_files: LogFiles,
    settings: BotSettings,
    log_window: WindowFacts,
    log_readable_content: Mapping[str, str],
) -> None:
    _needs_file(log_source)
    if not log_files.live_exists and not log_files.segments:
        pytest.skip("not applicable: no log file yet")
    analysis = None if log_window.problem else log_window.analysis
    evidence = rules.user_content_evidence(analysis, _env_level(settings) == "DEBUG")
    problems = rules.logs_private(log_files.modes(), evidence, log_readable_content)
    assert not problems, details(problems)


@pytest.mark.critical
@declared(rules.CRASH_LOOP)
def test_no_crash_loop(log_window: WindowFacts, log_thresholds: LogThresholds) -> None:
    _needs_window(log_window)
    problems = rules.crash_loop(log_window.analysis, _span(log_window), log_thresholds)
    assert not problems, details(problems)


def _readiness(
    evidence: ReadyEvidence | None, log_thresholds: LogThresholds, record_details
) -> Readiness:
    if evidence is None:
        pytest.skip("not applicable: no bot process runs from this deployment")
    verdict = judge_readiness(evidence, time.time(), log_thresholds.log_ready_grace_minutes * 60)
    record_details(verdict.message)
    return verdict


@pytest.mark.critical
@declared(rules.READY_SINCE_START)
def test_ready_since_start(
    bot_readiness: ReadyEvidence | None, log_thresholds: LogThresholds, record_details
) -> None:
    # Ready, not merely running: a ready line in any log the bot writes, else its gateway
    # connection (rules/readiness.py). No evidence at all is the warning below, never a skip.
    verdict = _readiness(bot_readiness, log_thresholds, record_details)
    assert verdict.status != NOT_CONNECTED, verdict.message


@pytest.mark.warning
@check(
    "The running bot's Discord connection could be verified",
    "Let the suite see the bot's log: run it with LOG_TO_FILE=true (main.py), under systemd "
    "(journal), or redirect launcher.py's stderr to a file ('launcher.py 2>>logs/launcher.log'); "
    "or run the suite as root so it can read the bot's connections.",
    guide="guides/common_issues.md#bot-not-responding",
)
def test_ready_could_be_verified(
    bot_readiness: ReadyEvidence | None, log_thresholds: LogThresholds, record_details
) -> None:
    verdict = _readiness(bot_readiness, log_thresholds, record_details)
    assert verdict.status != UNVERIFIED, verdict.message


@pytest.mark.critical
@declared(rules.ERROR_FLOOD)
def test_no_error_flood(log_window: WindowFacts, log_thresholds: LogThresholds) -> None:
    _needs_window(log_window)
    problems = rules.error_floods(log_window.analysis, log_thresholds)
    assert not problems, details(problems)


@pytest.mark.warning
@declared(rules.ERROR_SHARE)
def test_error_share(log_window: WindowFacts, log_thresholds: LogThresholds) -> None:
    _needs_window(log_window)
    analysis = log_window.analysis
    if not rules.error_share_applies(analysis, log_thresholds):
        pytest.skip(
            f"not applicable: only {analysis.records} records in the window "
            f"(at least {log_thresholds.log_min_records:g} needed)"
        )
    problems = rules.error_share(analysis, _span(log_window), log_thresholds)
    assert not problems, details(problems)


def _signature_params() -> list[object]:
    return [
        pytest.param(
            signature,
            id=signature.key,
            marks=[
                getattr(pytest.mark, signature.severity),
                declared(rules.signature_rule(signature)),
            ],
        )
        for signature in rules.judged_signatures()
    ]


@pytest.mark.parametrize("signature", _signature_params())
def test_known_signature(signature: Signature, log_window: WindowFacts) -> None:
    _needs_window(log_window)
    problems = rules.signature_hits(log_window.analysis, signature, _span(log_window))
    assert not problems, details(problems)
