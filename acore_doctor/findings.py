"""Findings and the one verdict computed from them.

Plain data and plain functions: the pytest plugin feeds them, the reporters read them.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
from dataclasses import asdict, dataclass, field
from enum import IntEnum
from pathlib import Path
from typing import Any

import pytest

SEVERITIES = ("critical", "warning")


class ExitCode(IntEnum):
    HEALTHY = 0
    WARNING = 1
    CRITICAL = 2
    UNKNOWN = 3
    INTERRUPTED = 130


STATUS_BY_CODE = {
    ExitCode.HEALTHY: "healthy",
    ExitCode.WARNING: "warning",
    ExitCode.CRITICAL: "critical",
    ExitCode.UNKNOWN: "unknown",
    ExitCode.INTERRUPTED: "interrupted",
}


def check(
    title: str, recommendation: str, guide: str | None = None, root: str | None = None
) -> pytest.MarkDecorator:
    """Declare a health check's title, recommendation and optional guide anchor.

    Used next to the severity marker::

        @pytest.mark.critical
        @check("Discord token is well-formed", "Copy the token again from the portal.",
               guide="guides/common_issues.md#bot-not-responding")
        def test_discord_token_shape(settings): ...

    A check that others depend on names itself a root cause with ``root="ollama"``; checks
    that raise ``Blocked("ollama", ...)`` are then filed under it as symptoms.
    """
    return pytest.mark.doctor(title=title, recommendation=recommendation, guide=guide, root=root)


class Blocked(Exception):  # noqa: N818 - reads as a state, like pytest's Skipped
    """Raised by a check whose fact cannot be had because another check's root failed.

    The plugin files it as a symptom under the root cause instead of a separate finding.
    """

    def __init__(self, root: str, reason: str) -> None:
        super().__init__(f"blocked by {root}: {reason}")
        self.root = root
        self.reason = reason


@dataclass
class Finding:
    """The judged result of one check."""

    nodeid: str
    title: str
    severity: str  # "critical" | "warning"
    #: "passed" | "failed" | "skipped" | "crashed" | "blocked", or "error": the suite's own bug
    #: (a missing fixture, a check or fixture raising a programming error: see
    #: :func:`is_suite_bug`), which makes the run unknown instead of judging the deployment
    outcome: str
    message: str = ""
    recommendation: str = ""
    guide: str | None = None
    duration_s: float = 0.0
    #: root-cause key this check reports for (see Blocked), when it is a root
    root: str | None = None
    blocked_by: str | None = None
    symptoms: list[str] = field(default_factory=list)
    details: str = ""

    @property
    def kind(self) -> str:
        """Where the finding goes in the report: issue, warning or info."""
        if self.outcome in ("failed", "crashed"):
            return "issue" if self.severity == "critical" else "warning"
        return "info"

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["kind"] = self.kind
        return data


@dataclass
class Verdict:
    code: ExitCode
    reason: str = ""

    @property
    def status(self) -> str:
        return STATUS_BY_CODE[self.code]


def attach_symptoms(findings: list[Finding]) -> list[Finding]:
    """File each blocked finding under its failed root cause.

    A blocked check whose root did not fail in this run (or did not run at all, as when
    one check is rerun alone) is reported on its own, at its own severity.
    """
    roots = {f.root: f for f in findings if f.root}
    for finding in findings:
        if finding.outcome != "blocked":
            continue
        root = roots.get(finding.blocked_by)
        if root is None or root.kind == "info":
            finding.outcome = "failed"
            continue
        symptom = f"{finding.title}: {finding.message}"
        if symptom not in root.symptoms:
            root.symptoms.append(symptom)
    return findings


#: Exceptions that say something about the deployment or the host (a file that cannot be read,
#: a database that is not one, text that is not UTF-8, a command that failed): a check that
#: lets one escape keeps its verdict, "crashed" at its severity. Any other exception is the
#: suite's own bug (docs/severity.md, "When the suite itself fails").
DOMAIN_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    sqlite3.Error,
    UnicodeError,
    json.JSONDecodeError,
    EOFError,
    subprocess.SubprocessError,
)
SUITE_BUG = "the suite could not check this"


def is_suite_bug(error: BaseException) -> bool:
    """A check or fixture raising this is a bug of the suite, not a fact about the deployment:
    a programming error (KeyError, TypeError, AttributeError...), not an assertion (a
    finding), not Blocked or a skip, not a domain error (:data:`DOMAIN_ERRORS`, psutil's)."""
    if isinstance(error, (AssertionError, Blocked, *DOMAIN_ERRORS)):
        return False
    if isinstance(error, pytest.fail.Exception | pytest.skip.Exception):
        return False
    return type(error).__module__.partition(".")[0] != "psutil"


def crash_location(excinfo: pytest.ExceptionInfo[BaseException], check_file: str) -> str:
    """``path:line in function`` of the innermost frame of the suite's own code (the
    ``acore_doctor`` package, the checks next to it, the check's own directory), else of the
    innermost frame."""
    package_root = Path(__file__).resolve().parent.parent
    check_dir = Path(check_file).resolve().parent
    ours = [package_root / name for name in ("acore_doctor", "health_tests", "recovery_tests")]
    ours.append(check_dir)
    entries = list(excinfo.traceback)
    if not entries:
        return "?"
    chosen = entries[-1]
    for entry in reversed(entries):
        path = Path(str(entry.path)).resolve()
        if any(path.is_relative_to(root) for root in ours):
            chosen = entry
            break
    path = Path(str(chosen.path)).resolve()
    for root in (package_root, check_dir.parent):
        if path.is_relative_to(root):
            path = path.relative_to(root)
            break
    return f"{path}:{chosen.lineno + 1} in {chosen.name}"


def decide(
    findings: list[Finding],
    *,
    interrupted: bool = False,
    unknown_reason: str | None = None,
) -> Verdict:
    """One verdict for the run. UNKNOWN wins over health: the run could not decide. A check the
    suite could not run (its bug, outcome "error") makes the run UNKNOWN too, unless a real
    critical issue was found: the gate stays closed either way, and critical says why."""
    if interrupted:
        return Verdict(ExitCode.INTERRUPTED, "interrupted")
    if unknown_reason:
        return Verdict(ExitCode.UNKNOWN, unknown_reason)
    if not findings:
        return Verdict(ExitCode.UNKNOWN, "no check selected")
    kinds = {f.kind for f in findings}
    bugs = [f for f in findings if f.outcome == "error"]
    if bugs:
        could_not = f"suite bug: the suite could not check {len(bugs)} check(s): " + "; ".join(
            f"{f.nodeid}: {f.message.removeprefix(SUITE_BUG).lstrip(': ')}" for f in bugs[:3]
        )
        if "issue" in kinds:
            return Verdict(ExitCode.CRITICAL, f"critical issue(s) found; besides, {could_not}")
        return Verdict(ExitCode.UNKNOWN, could_not)
    if "issue" in kinds:
        return Verdict(ExitCode.CRITICAL)
    if "warning" in kinds:
        return Verdict(ExitCode.WARNING)
    return Verdict(ExitCode.HEALTHY)


def recommendations(findings: list[Finding]) -> list[dict[str, Any]]:
    """Deduplicated recommendations, critical issues first, in the order checks ran."""
    order = {"issue": 0, "warning": 1}
    seen: dict[str, dict[str, Any]] = {}
    for finding in sorted((f for f in findings if f.kind in order), key=lambda f: order[f.kind]):
        text = finding.recommendation.strip()
        if not text:
            continue
        entry = seen.setdefault(
            text,
            {"text": text, "severity": finding.severity, "guide": finding.guide, "checks": []},
        )
        entry["checks"].append(finding.nodeid)
        if entry["guide"] is None:
            entry["guide"] = finding.guide
    return list(seen.values())
