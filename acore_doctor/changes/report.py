"""What changed, as the console and HTML summaries show it (plain functions over the report)."""

from __future__ import annotations

from html import escape
from typing import Any

from acore_doctor.changes.attribute import describe

#: Changes listed after the likely cause, at most.
MORE_SHOWN = 3


def likely_causes(finding: dict[str, Any]) -> list[dict[str, Any]]:
    return [c for c in finding.get("changes_since_pass") or [] if c.get("read_by_check")]


def finding_summary(finding: dict[str, Any]) -> str | None:
    """``NEW since <date>: <title> - likely cause: ...`` or None for a finding not new."""
    if "changes_since_pass" not in finding:
        return None
    head = f"NEW since {finding.get('last_passed')}: {finding['title']}"
    causes = likely_causes(finding)
    if causes:
        text = f"{head} - likely cause: {describe(causes[0])}"
        if len(causes) > 1:
            text += f" (and {len(causes) - 1} more change(s) it read)"
        return text
    others = finding["changes_since_pass"]
    if others:
        return f"{head} - no change it read; {len(others)} other change(s) (acore-doctor changes)"
    return f"{head} - nothing in the fingerprint changed since"


def new_finding_lines(report: dict[str, Any]) -> list[str]:
    lines: list[str] = []
    for section in ("issues", "warnings"):
        for finding in report.get(section) or []:
            text = finding_summary(finding)
            if text:
                lines.append("  " + text)
    return ["", "What changed since each new finding's check last passed:", *lines] if lines else []


def finding_changes_html(finding: dict[str, Any]) -> str:
    """The finding's changes since its check last passed, likely causes first, as HTML."""
    if "changes_since_pass" not in finding:
        return ""
    head = escape(finding_summary(finding) or "")
    items = "".join(
        f'<li class="{"change-likely" if c.get("read_by_check") else "change-other"}">'
        f"{'likely cause: ' if c.get('read_by_check') else ''}{escape(describe(c))}</li>"
        for c in finding["changes_since_pass"][: 1 + MORE_SHOWN * 3]
    )
    return f'<div class="changes-since-pass"><p>{head}</p><ul>{items}</ul></div>'
