"""One Nagios/Icinga plugin line for a run (anchors.md section 3).

``ACORE-DOCTOR CRITICAL - 1 critical, 2 warnings: <first titles> | 'checks'=12;;;0 ...``.
The state comes from the exit code (0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN); the text only
repeats it, as the guidelines ask.
"""

from __future__ import annotations

from typing import Any

SERVICE = "ACORE-DOCTOR"
STATES = {0: "OK", 1: "WARNING", 2: "CRITICAL", 3: "UNKNOWN"}
#: Text before the perfdata: long enough to name the first problems, short for pagers.
MAX_TEXT = 160
#: Long output (the lines after the first): one per finding, at most this many, each cut.
MAX_LONG_LINES = 50
MAX_LONG_LINE = 300


def usage_reason(error: str) -> str:
    """pytest's usage error (usage, error, inifile lines) as one reason: its error line."""
    lines = [line.strip() for line in error.splitlines() if line.strip()]
    said = next((line.split("error:", 1)[1].strip() for line in lines if "error:" in line), None)
    return "usage error: " + (said or (lines[0] if lines else "bad command line"))


def long_output(report: dict[str, Any]) -> list[str]:
    """Nagios long output: one line per critical issue and warning (severity, title, the
    first line of its message), for the service details page and notifications."""
    lines = []
    for label, entries in (("CRITICAL", "issues"), ("WARNING", "warnings")):
        for entry in report.get(entries, []):
            message = (entry.get("message") or "").strip().splitlines()
            text = f"{label}: {entry.get('title', entry.get('check', '?'))}"
            if message:
                text += f" - {message[0]}"
            text = _one_line(text)
            lines.append(text if len(text) <= MAX_LONG_LINE else text[: MAX_LONG_LINE - 3] + "...")
    if len(lines) > MAX_LONG_LINES:
        lines = [*lines[:MAX_LONG_LINES], f"... and {len(lines) - MAX_LONG_LINES} more"]
    return lines


def nagios_code(exit_code: int) -> int:
    """Our exit code as a plugin return code: anything outside 0-2 is UNKNOWN."""
    return exit_code if exit_code in (0, 1, 2) else 3


def _label(name: str) -> str:
    return "'" + name.replace("'", "") + "'"


def perfdata(report: dict[str, Any]) -> str:
    summary = report.get("summary", {})
    checks = report.get("checks", [])
    duration = sum(c.get("duration_s", 0.0) for c in checks)
    parts = [
        f"{_label('checks')}={len(checks)};;;0",
        f"{_label('critical')}={summary.get('total_issues', 0)};;0;0",
        f"{_label('warnings')}={summary.get('total_warnings', 0)};0;;0",
        f"{_label('duration')}={duration:.3f}s;;;0",
    ]
    for name, value in sorted((report.get("metrics") or {}).items()):
        if isinstance(value, int | float) and not name.endswith("_pid"):
            unit = "%" if name.endswith("_pct") else ""
            parts.append(f"{_label(name[:19])}={value:g}{unit};;;")
    return " ".join(parts)


def nagios_line(report: dict[str, Any] | None, exit_code: int, reason: str = "") -> str:
    """The plugin's single output line (text | perfdata)."""
    state = STATES[nagios_code(exit_code)]
    if report is None:
        text = reason or "the health suite produced no report"
        return f"{SERVICE} {state} - {_one_line(text)}"
    summary = report["summary"]
    if exit_code == 0:
        text = f"{len(report.get('checks', []))} checks passed or not applicable"
    elif nagios_code(exit_code) == 3:
        text = summary.get("reason") or reason or "the suite could not decide"
    else:
        titles = [e["title"] for e in report.get("issues", []) + report.get("warnings", [])]
        text = (
            f"{summary.get('total_issues', 0)} critical, {summary.get('total_warnings', 0)} "
            f"warning(s): " + "; ".join(titles)
        )
    text = _one_line(text)
    if len(text) > MAX_TEXT:
        text = text[: MAX_TEXT - 3] + "..."
    return f"{SERVICE} {state} - {text} | {perfdata(report)}"


def _one_line(text: str) -> str:
    # '|' starts perfdata in the plugin protocol; a title must not fake one.
    return " ".join(text.split()).replace("|", "/")
