"""The summary block pytest-html shows above its results table."""

from __future__ import annotations

from html import escape
from typing import Any

_COLOURS = {
    "healthy": "#2e7d32",
    "warning": "#ef6c00",
    "critical": "#c62828",
    "unknown": "#6a1b9a",
    "interrupted": "#6a1b9a",
}


def summary_html(report: dict[str, Any]) -> str:
    summary = report["summary"]
    status = summary["overall_status"]
    parts = [
        '<div class="acore-doctor-summary">',
        f'<h2 style="color:{_COLOURS.get(status, "#000")}">Overall status: '
        f"{escape(status.upper())} (exit code {summary['exit_code']})</h2>",
        f"<p>{summary['total_issues']} critical issue(s), {summary['total_warnings']} "
        f"warning(s), {summary['total_info']} info</p>",
    ]
    if summary.get("reason"):
        parts.append(f"<p>Reason: {escape(summary['reason'])}</p>")
    for heading, entries, tag in (
        ("Critical issues", report["issues"], "ol"),
        ("Warnings", report["warnings"], "ul"),
    ):
        if not entries:
            continue
        parts.append(f"<h3>{heading}</h3><{tag}>")
        for entry in entries:
            symptoms = "".join(f"<li>symptom: {escape(s)}</li>" for s in entry.get("symptoms", []))
            parts.append(
                f"<li><b>{escape(entry['title'])}</b> <code>{escape(entry['check'])}</code>"
                f'<br><pre style="white-space:pre-wrap">{escape(entry["message"])}</pre>'
                + (f"<ul>{symptoms}</ul>" if symptoms else "")
                + "</li>"
            )
        parts.append(f"</{tag}>")
    parts.append(history_html(report.get("history")))
    if report["recommendations"]:
        parts.append("<h3>Recommendations</h3><ol>")
        for rec in report["recommendations"]:
            guide = f" (see <code>{escape(rec['guide'])}</code>)" if rec.get("guide") else ""
            parts.append(f"<li>[{escape(rec['severity'])}] {escape(rec['text'])}{guide}</li>")
        parts.append("</ol>")
    parts.append("</div>")
    return "".join(parts)


def history_html(history: dict[str, Any] | None) -> str:
    """The 'since the last run' block: findings new and resolved since the previous report."""
    if not history or not history.get("previous"):
        return ""
    heading = f"<h3>Since the last run ({escape(str(history['previous']))})</h3>"
    if history.get("note"):
        return heading + f"<p>{escape(history['note'])}</p>"
    new, resolved = history.get("new", []), history.get("resolved", [])
    items = [
        f'<li class="history-new">{"escalated" if e.get("escalated") else "new"} '
        f"[{escape(e['severity'])}] {escape(e['title'])} <code>{escape(e['check'])}</code></li>"
        for e in new
    ] + [
        f'<li class="history-resolved">resolved [{escape(e["severity"])}] '
        f"{escape(e['title'])} <code>{escape(e['check'])}</code></li>"
        for e in resolved
    ]
    summary = f"<p>{len(new)} new, {len(resolved)} resolved</p>"
    return heading + summary + (f"<ul>{''.join(items)}</ul>" if items else "")
