"""The doctor-style summary printed at the end of a run: plain ASCII, no colour needed."""

from __future__ import annotations

from typing import Any

RULE = "=" * 72


def _indent(text: str, prefix: str) -> str:
    return "\n".join(prefix + line for line in text.splitlines())


def format_summary(report: dict[str, Any], written: list[str] | None = None) -> str:
    summary = report["summary"]
    lines = [RULE, "acore-doctor summary", RULE]
    status = summary["overall_status"].upper()
    lines.append(f"Overall status: {status} (exit code {summary['exit_code']})")
    if summary.get("reason"):
        lines.append(f"Reason: {summary['reason']}")
    lines.append(
        f"Checks: {len(report['checks'])} - {summary['total_issues']} critical issue(s), "
        f"{summary['total_warnings']} warning(s), {summary['total_info']} info"
    )
    env = report.get("environment", {})
    if env.get("bot_dir"):
        lines.append(f"Deployment: {env['bot_dir']}")
    for heading, entries, numbered in (
        ("Critical issues", report["issues"], True),
        ("Warnings", report["warnings"], False),
    ):
        if not entries:
            continue
        lines += ["", f"{heading}:"]
        for number, entry in enumerate(entries, 1):
            bullet = f"{number}." if numbered else "-"
            lines.append(f"  {bullet} {entry['title']}  [{entry['check']}]")
            if entry["message"]:
                lines.append(_indent(entry["message"], "       "))
            for symptom in entry.get("symptoms", []):
                lines.append(f"       symptom: {symptom}")
    lines += history_lines(report.get("history"))
    if report["recommendations"]:
        lines += ["", "Recommendations:"]
        for number, rec in enumerate(report["recommendations"], 1):
            guide = f" (see {rec['guide']})" if rec.get("guide") else ""
            lines.append(f"  {number}. [{rec['severity']}] {rec['text']}{guide}")
    if written:
        lines += ["", "Reports:"] + [f"  {path}" for path in written]
    lines.append(RULE)
    return "\n".join(_ascii(line) for line in lines)


def history_lines(history: dict[str, Any] | None) -> list[str]:
    """'Since the last run' lines: findings new and resolved since the previous report."""
    if not history or not history.get("previous"):
        return []
    if history.get("note"):
        return ["", f"Since the last run ({history['previous']}): {history['note']}"]
    new, resolved = history.get("new", []), history.get("resolved", [])
    lines = [
        "",
        f"Since the last run ({history['previous']}): {len(new)} new, {len(resolved)} resolved",
    ]
    for entry in new:
        label = "escalated" if entry.get("escalated") else "new"
        lines.append(f"  + {label} [{entry['severity']}] {entry['title']}  [{entry['check']}]")
    for entry in resolved:
        lines.append(f"  - resolved [{entry['severity']}] {entry['title']}  [{entry['check']}]")
    return lines


def _ascii(text: str) -> str:
    """Keep the summary printable on any terminal, even one without UTF-8."""
    return text.encode("ascii", "replace").decode("ascii")
