"""The log rules: pure functions from log facts to problems, and their thresholds, defined once.

``health_tests/test_logs.py`` asserts that a rule finds no problem; ``acore-doctor logs`` prints
the problems the same rules find, so the suite and the tool cannot disagree. Every threshold is
in :data:`LOG_THRESHOLDS` (:mod:`acore_doctor.rules.log_thresholds`, light enough for the
options module: an option and an ini key in a health run, the default in the tool).
"""

from __future__ import annotations

import stat
from collections.abc import Mapping
from dataclasses import asdict, dataclass

from acore_doctor.logs.analyzer import LogAnalysis
from acore_doctor.logs.parse import format_local
from acore_doctor.logs.signatures import SIGNATURES, SIGNATURES_BY_KEY, Signature
from acore_doctor.rules.log_thresholds import LOG_THRESHOLDS, LogThresholds

__all__ = ["LOG_THRESHOLDS", "LogProblem", "LogThresholds", "Rule", "assess"]


@dataclass(frozen=True)
class Rule:
    """What a rule claims, as a check declares it and the tool prints it."""

    key: str
    severity: str  # "critical" | "warning"
    title: str
    recommendation: str
    guide: str


@dataclass(frozen=True)
class LogProblem:
    severity: str
    key: str
    title: str
    #: "expected ..., found ..." (a check's assertion message, the tool's line)
    detail: str
    recommendation: str
    guide: str

    def to_dict(self) -> dict[str, str]:
        return asdict(self)


def _problem(rule: Rule, detail: str) -> LogProblem:
    return LogProblem(rule.severity, rule.key, rule.title, detail, rule.recommendation, rule.guide)


LOG_WRITTEN = Rule(
    "log_written",
    "critical",
    "Log file is written while the bot runs",
    "Check LOG_FILE_PATH and that the bot's user can write there; a running bot whose log "
    "stopped is usually hung (see 'acore-doctor logs' for its last lines) and needs a restart.",
    "guides/common_issues.md#log-not-written",
)
LOG_STALE = Rule(
    "log_stale",
    "warning",
    "The log has recent records",
    "The bot has not logged for longer than a running bot would: check 'systemctl status "
    "discordbot'; if it runs, it is hung and needs a restart.",
    "guides/common_issues.md#log-not-written",
)
ROTATION_SANE = Rule(
    "rotation_sane",
    "warning",
    "Log rotation is sane",
    "Let the bot rotate its own log (no external logrotate on bot.log); move away uncompressed "
    "or extra bot.log.N files and replace broken .gz segments; keep LOG_BACKUP_COUNT and "
    "LOG_MAX_BYTES at their defaults unless disk is short.",
    "guides/common_issues.md#log-rotation-broken",
)
ROTATION_INTERVAL = Rule(
    "rotation_interval",
    "warning",
    "Log does not rotate every few hours",
    "Find the template that fills the log in 'acore-doctor logs --all' (usually a retry loop or "
    "INFO spam such as 'KnowledgeTransfer initialized') and fix it; until then the history a "
    "diagnosis needs is rotated away within hours.",
    "guides/common_issues.md#error-flood",
)
DEBUG_LOGGING = Rule(
    "debug_logging",
    "warning",
    "LOG_LEVEL is not DEBUG in production",
    "Set LOG_LEVEL=INFO in .env (and in the unit's Environment= if it sets one) and restart: "
    "at DEBUG the gateway heartbeats and payload dumps make half the log, rotate it away fast "
    "and write users' messages to disk.",
    "guides/common_issues.md#debug-logging-in-production",
)
LOGS_PRIVATE = Rule(
    "logs_private",
    "warning",
    "Logs with user content are not world-readable",
    "chmod 600 the log file and its bot.log.N.gz segments (and chmod 700 the logs directory): "
    "they carry users' messages. Setting LOG_LEVEL=INFO stops the payload dumps.",
    "guides/common_issues.md#debug-logging-in-production",
)
CRASH_LOOP = Rule(
    "crash_loop",
    "critical",
    "Bot is not in a crash loop",
    "Read the 'Fatal error' or traceback before the restarts ('acore-doctor logs'), fix its "
    "cause, then 'systemctl restart discordbot' once; add StartLimitBurst to the unit so systemd "
    "stops a loop instead of restarting forever.",
    "guides/common_issues.md#crash-loop",
)
FATAL_SINCE_START = Rule(
    "fatal_since_last_start",
    "critical",
    "No 'Fatal error' since the last start",
    SIGNATURES_BY_KEY["fatal_error"].recommendation,
    "guides/common_issues.md#crash-loop",
)
READY_SINCE_START = Rule(
    "ready_since_start",
    "critical",
    "Running bot reached Discord (ready marker since its start)",
    "The process runs but never logged 'Bot is ready!' / 'Discord bot ready as': look for "
    "LoginFailure or PrivilegedIntentsRequired in 'acore-doctor logs', fix the token or the "
    "intents, and restart. launcher.py keeps running when Discord login fails.",
    "guides/common_issues.md#bot-not-responding",
)
ERROR_FLOOD = Rule(
    "error_flood",
    "critical",
    "No error flood in the recent log",
    "A retry loop without back-off is repeating one error: find it under 'error flood' in "
    "'acore-doctor logs', stop or fix the feature it names (e.g. BOT_CONVERSATION_ENABLED), "
    "and restart.",
    "guides/common_issues.md#error-flood",
)
ERROR_SHARE = Rule(
    "error_share",
    "warning",
    "Error share of the recent log is below the limit",
    "Look at the top error templates in 'acore-doctor logs' and fix the most frequent; a "
    "healthy bot logs well under 1 % errors.",
    "guides/common_issues.md#error-flood",
)


def signature_rule(signature: Signature) -> Rule:
    return Rule(
        signature.key,
        signature.severity,
        signature.title,
        signature.recommendation,
        signature.guide,
    )


# -- rules ------------------------------------------------------------------------------------
def log_written(
    age_minutes: float, debug: bool, where: str, thresholds: LogThresholds
) -> list[LogProblem]:
    """A running bot's log file must have been written recently (sooner at DEBUG)."""
    limit = thresholds.log_stale_debug_minutes if debug else thresholds.log_stale_minutes
    if age_minutes <= limit:
        return []
    return [
        _problem(
            LOG_WRITTEN,
            f"expected {where} written within {limit:g} min while the bot runs "
            f"(LOG_LEVEL={'DEBUG' if debug else 'INFO or above'}), found its last write "
            f"{age_minutes:.0f} min ago",
        )
    ]


def log_stale(newest_age_s: float, debug: bool, thresholds: LogThresholds) -> list[LogProblem]:
    """The newest record of a log is older than a running bot would leave it (the tool's rule:
    it does not know whether the bot runs; the check for a running bot is :func:`log_written`)."""
    limit = thresholds.log_stale_debug_minutes if debug else thresholds.log_stale_minutes
    if newest_age_s <= limit * 60:
        return []
    # here, not at the top: bot_process imports psutil, which `acore-doctor logs` never needs
    from acore_doctor.probes.bot_process import format_duration

    return [
        _problem(
            LOG_STALE,
            f"expected a record within the last {limit:g} min, found the newest record "
            f"{format_duration(newest_age_s)} old: the bot is stopped or hung",
        )
    ]


def rotation_sane(problems: list[str]) -> list[LogProblem]:
    if not problems:
        return []
    return [
        _problem(
            ROTATION_SANE,
            "expected rotation within the bot's settings, found: " + "; ".join(problems),
        )
    ]


def rotation_interval(
    shortest_hours: float | None, between: str, thresholds: LogThresholds
) -> list[LogProblem]:
    """A rotated segment that filled in less than the limit (from its records' times)."""
    limit = thresholds.log_rotation_min_hours
    if shortest_hours is None or shortest_hours >= limit:
        return []
    return [
        _problem(
            ROTATION_INTERVAL,
            f"expected at least {limit:g} h between rotations, found {shortest_hours:.1f} h "
            f"({between})",
        )
    ]


def debug_share(analysis: LogAnalysis) -> float:
    return analysis.records_by_level["DEBUG"] / analysis.records if analysis.records else 0.0


#: Levels at which the bot's logging cannot write a DEBUG record.
_ABOVE_DEBUG = frozenset({"INFO", "WARNING", "WARN", "ERROR", "CRITICAL", "FATAL"})


def debug_logging(
    env_level: str | None,
    env_source: str,
    analysis: LogAnalysis | None,
    thresholds: LogThresholds,
) -> list[LogProblem]:
    """DEBUG logging, judged from the log first: the level the bot logged at its last start
    (``Logging configured: Level=...``), else ``.env``'s (the process environment or a unit's
    ``Environment=`` override it). At DEBUG: found. At INFO or higher: any DEBUG record since
    that start is found, with its count (the bot cannot write one then: something else set
    DEBUG). With no level known (``env_level`` None: the path ignores LOG_LEVEL, and the log
    names none), the DEBUG share of the recent records is the only evidence."""
    logged = analysis.logged_level if analysis is not None else None
    found = []
    if logged is not None:
        if logged == "DEBUG":
            found.append(
                f"the bot logged 'Level=DEBUG' at its start at {format_local(analysis.logged_level_at)}"  # type: ignore[union-attr]
            )
    elif env_level == "DEBUG":
        found.append(f"LOG_LEVEL=DEBUG (from {env_source})")
    configured = (
        (f"the bot logged 'Level={logged}' at its start", logged)
        if logged is not None
        else (f"LOG_LEVEL={env_level} in {env_source}", env_level)
    )
    since_start = analysis.debug_since_last_start if analysis is not None else 0
    if since_start and (configured[1] or "").upper() in _ABOVE_DEBUG:
        start = analysis.last_start if analysis is not None else None
        when = f"since the last start at {format_local(start)}" if start else "in the window"
        found.append(
            f"{since_start:,} DEBUG record(s) {when} although {configured[0]}: at that level "
            "the bot writes none, so something else (the unit's Environment=, a logging "
            "config, a library) turned DEBUG on"
        )
    elif configured[1] is None and analysis is not None:
        # No level known (launcher.py ignores LOG_LEVEL and logs none): only a share is
        # evidence. With a known level the count above is exact, and DEBUG records from
        # before a restart at INFO are no evidence against the run that follows.
        share = debug_share(analysis)
        enough = analysis.records >= thresholds.log_min_records
        if enough and share * 100 > thresholds.log_debug_share_percent:
            found.append(
                f"{share:.0%} of the recent {analysis.records:,} records are DEBUG "
                f"(above {thresholds.log_debug_share_percent:g} %)"
            )
    if not found:
        return []
    return [
        _problem(
            DEBUG_LOGGING,
            "expected LOG_LEVEL=INFO (or WARNING) in production, found " + "; ".join(found),
        )
    ]


def user_content_evidence(analysis: LogAnalysis | None, env_debug: bool) -> str | None:
    """Why the log holds users' words (DEBUG payloads, reply previews), or None."""
    reasons = []
    if analysis is not None and analysis.user_content.count:
        reasons.append(
            f"{analysis.user_content.count} line(s) with conversation text such as "
            f"'{analysis.user_content.sample}'"
        )
    if analysis is not None and analysis.records_by_level["DEBUG"]:
        reasons.append(f"{analysis.records_by_level['DEBUG']:,} DEBUG records (payload dumps)")
    elif env_debug:
        reasons.append("LOG_LEVEL=DEBUG (payload dumps)")
    return "; ".join(reasons) or None


def logs_private(
    modes: list[tuple[str, int]],
    evidence: str | None,
    sampled: Mapping[str, str] | None = None,
) -> list[LogProblem]:
    """Log files that hold user content must not be readable by others.

    ``evidence``: user content in the recent window (it holds for every file of the log);
    ``sampled``: file name -> the user content a sample of that very file showed (rotated and
    compressed segments included), so old segments count whatever the newest hour says.
    """
    sampled = sampled or {}
    readable = [
        (name, mode)
        for name, mode in modes
        if mode & stat.S_IROTH and (evidence is not None or name in sampled)
    ]
    if not readable:
        return []
    listed = ", ".join(f"{name} {stat.S_IMODE(mode):04o}" for name, mode in readable[:5])
    more = f" and {len(readable) - 5} more" if len(readable) > 5 else ""
    named = {name for name, _ in readable}
    reasons = [evidence] if evidence is not None else []
    shown = [f"{name}: {what}" for name, what in sampled.items() if name in named]
    reasons += shown[:3] + ([f"{len(shown) - 3} more file(s)"] if len(shown) > 3 else [])
    return [
        _problem(
            LOGS_PRIVATE,
            f"expected log files holding user content ({'; '.join(reasons)}) to be unreadable "
            f"by other users, found {listed}{more}",
        )
    ]


def crash_loop(analysis: LogAnalysis, where: str, thresholds: LogThresholds) -> list[LogProblem]:
    found = []
    limit = int(thresholds.log_crash_starts)
    if analysis.max_starts_in_crash_window > limit:
        found.append(
            _problem(
                CRASH_LOOP,
                f"expected at most {limit} starts in {thresholds.log_crash_minutes:g} min, "
                f"found {analysis.max_starts_in_crash_window} (up to "
                f"{format_local(analysis.max_starts_window_end)}; {len(analysis.starts)} starts "
                f"and {analysis.ready_markers} ready markers in {where})",
            )
        )
    fatal = analysis.fatal_since_last_start
    if fatal.count:
        found.append(
            _problem(
                FATAL_SINCE_START,
                f"expected no 'Fatal error' since the last start "
                f"({format_local(analysis.last_start)}), found {fatal.count}, last at "
                f"{format_local(fatal.last)}: {fatal.sample}",
            )
        )
    return found


def error_floods(analysis: LogAnalysis, thresholds: LogThresholds) -> list[LogProblem]:
    limit = int(thresholds.log_flood_per_minute)
    return [
        _problem(
            ERROR_FLOOD,
            f"expected at most {limit} copies of one error per minute, found "
            f"{t.peak_per_minute}/min at {format_local(t.peak_minute)[:16]} of '{t.template}' "
            f"({t.logger}, {t.count} in all)",
        )
        for t in analysis.flooding_templates(limit)[:3]
    ]


def error_share_applies(analysis: LogAnalysis, thresholds: LogThresholds) -> bool:
    return analysis.records >= thresholds.log_min_records


def error_share(analysis: LogAnalysis, where: str, thresholds: LogThresholds) -> list[LogProblem]:
    limit = thresholds.log_error_share_percent
    if not error_share_applies(analysis, thresholds) or analysis.error_share * 100 <= limit:
        return []
    top = analysis.top_templates("ERROR", 1)
    return [
        _problem(
            ERROR_SHARE,
            f"expected at most {limit:g} % ERROR/CRITICAL records, found "
            f"{analysis.error_share:.1%} ({analysis.error_records} of {analysis.records} in "
            f"{where})" + (f"; most frequent: '{top[0].template}'" if top else ""),
        )
    ]


def signature_hits(analysis: LogAnalysis, signature: Signature, where: str) -> list[LogProblem]:
    hits = analysis.signature_hits(signature)
    if hits is None:
        return []
    cause = analysis.signature_causes.get(signature.key) or signature.cause
    return [
        _problem(
            signature_rule(signature),
            f"expected no '{signature.key}' lines in {where}, found {hits.count} (first "
            f"{format_local(hits.first)}, last {format_local(hits.last)}): {hits.sample}; "
            f"cause: {cause}",
        )
    ]


def judged_signatures() -> tuple[Signature, ...]:
    """The signatures with a check of their own (``Fatal error`` is the crash-loop rule's)."""
    return tuple(s for s in SIGNATURES if s.own_check)


def assess(
    analysis: LogAnalysis,
    where: str,
    thresholds: LogThresholds | None = None,
    env_level: str | None = None,
    env_source: str = ".env",
) -> list[LogProblem]:
    """Every window rule on one analysis, critical first (what ``acore-doctor logs`` prints)."""
    thresholds = thresholds or LogThresholds()
    found = crash_loop(analysis, where, thresholds)
    found += error_floods(analysis, thresholds)
    found += error_share(analysis, where, thresholds)
    found += debug_logging(env_level, env_source, analysis, thresholds)
    for signature in judged_signatures():
        found += signature_hits(analysis, signature, where)
    return sorted(found, key=lambda p: p.severity != "critical")
