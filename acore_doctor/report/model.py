"""The report document every reporter presents; its shape is the JSON file's."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from acore_doctor.findings import Finding, Verdict, recommendations


def _entry(finding: Finding) -> dict[str, Any]:
    entry = {
        "check": finding.nodeid,
        "title": finding.title,
        "severity": finding.severity,
        "message": finding.message,
        "recommendation": finding.recommendation,
        "guide": finding.guide,
    }
    if finding.symptoms:
        entry["symptoms"] = list(finding.symptoms)
    if finding.details:
        entry["details"] = finding.details
    return entry


def build_report(
    findings: list[Finding],
    verdict: Verdict,
    environment: dict[str, Any],
    timestamp: datetime,
) -> dict[str, Any]:
    issues = [_entry(f) for f in findings if f.kind == "issue"]
    warnings = [_entry(f) for f in findings if f.kind == "warning"]
    info = [{**_entry(f), "outcome": f.outcome} for f in findings if f.kind == "info"]
    return {
        "timestamp": timestamp.isoformat(timespec="seconds"),
        "summary": {
            "total_issues": len(issues),
            "total_warnings": len(warnings),
            "total_info": len(info),
            "overall_status": verdict.status,
            "exit_code": int(verdict.code),
            "reason": verdict.reason,
        },
        "issues": issues,
        "warnings": warnings,
        "info": info,
        "recommendations": recommendations(findings),
        "checks": [
            {
                "nodeid": f.nodeid,
                "title": f.title,
                "severity": f.severity,
                "outcome": f.outcome,
                "duration_s": round(f.duration_s, 4),
                "message": f.message,
                "recommendation": f.recommendation,
                "guide": f.guide,
                "blocked_by": f.blocked_by,
                "details": f.details,
            }
            for f in findings
        ],
        "environment": environment,
    }
