"""Judge one analysis for ``acore-doctor logs`` with the same rules and default thresholds
as the health checks (``health_tests/test_logs.py``), so the tool and the suite agree."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from acore_doctor.logs.analyzer import LogAnalysis
from acore_doctor.logs.parse import format_local
from acore_doctor.logs.signatures import SIGNATURES, SIGNATURES_BY_KEY


@dataclass(frozen=True)
class LogRules:
    crash_starts: int = 3
    flood_per_minute: int = 100
    error_share_percent: float = 1.0
    min_records: int = 100


@dataclass(frozen=True)
class LogFinding:
    severity: str  # "critical" | "warning"
    key: str
    title: str
    detail: str
    recommendation: str
    guide: str

    def to_dict(self) -> dict[str, str]:
        return asdict(self)


def assess(analysis: LogAnalysis, rules: LogRules | None = None) -> list[LogFinding]:
    """Findings, critical first."""
    rules = rules or LogRules()
    found: list[LogFinding] = []
    fatal = SIGNATURES_BY_KEY["fatal_error"]
    window_min = analysis.crash_window_s / 60
    if analysis.max_starts_in_crash_window > rules.crash_starts:
        found.append(
            LogFinding(
                "critical",
                "crash_loop",
                "Crash loop",
                f"{analysis.max_starts_in_crash_window} starts within {window_min:g} min (up to "
                f"{format_local(analysis.max_starts_window_end)}); {len(analysis.starts)} starts "
                f"and {analysis.ready_markers} ready markers in all",
                fatal.recommendation,
                "guides/common_issues.md#crash-loop",
            )
        )
    if analysis.fatal_since_last_start.count:
        hits = analysis.fatal_since_last_start
        found.append(
            LogFinding(
                "critical",
                "fatal_since_last_start",
                "'Fatal error' since the last start",
                f"{hits.count} since {format_local(analysis.last_start)}: {hits.sample}",
                fatal.recommendation,
                "guides/common_issues.md#crash-loop",
            )
        )
    for template in analysis.flooding_templates(rules.flood_per_minute)[:3]:
        found.append(
            LogFinding(
                "critical",
                "error_flood",
                "Error flood",
                f"{template.peak_per_minute}/min at {format_local(template.peak_minute)[:16]} of "
                f"'{template.template}' ({template.logger}, {template.count} in all)",
                "Stop the retry loop that repeats this error (turn off the feature it names), "
                "then fix its cause.",
                "guides/common_issues.md#error-flood",
            )
        )
    if (
        analysis.records >= rules.min_records
        and analysis.error_share * 100 > rules.error_share_percent
    ):
        found.append(
            LogFinding(
                "warning",
                "error_share",
                f"Error share above {rules.error_share_percent:g} %",
                f"{analysis.error_share:.1%} ({analysis.error_records} of {analysis.records} "
                "records are ERROR or CRITICAL)",
                "Fix the most frequent error templates below.",
                "guides/common_issues.md#error-flood",
            )
        )
    for signature in SIGNATURES:
        if not signature.own_check:
            continue
        hits = analysis.signature_hits(signature)
        if hits is None:
            continue
        found.append(
            LogFinding(
                signature.severity,
                signature.key,
                signature.title,
                f"{hits.count}x, last {format_local(hits.last)}: {hits.sample} "
                f"(cause: {signature.cause})",
                signature.recommendation,
                signature.guide,
            )
        )
    return sorted(found, key=lambda f: f.severity != "critical")
