"""The doctor-style summary printed at the end of a run: plain ASCII, no colour needed.

The one exception is the trend's sparklines, drawn with block characters when the terminal
takes UTF-8 (``unicode=True``) and with an ASCII ramp otherwise.
"""

from __future__ import annotations

from typing import Any

RULE = "=" * 72


def _indent(text: str, prefix: str) -> str:
    return "\n".join(prefix + line for line in text.splitlines())


def format_summary(
    report: dict[str, Any], written: list[str] | None = None, unicode: bool = False
) -> str:
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
    could_not = [e for e in report.get("info", []) if e.get("outcome") == "error"]
    if could_not:  # a bug of the suite, never a verdict on the deployment (docs/severity.md)
        lines += ["", "The suite could not check (a bug in acore-doctor, not the deployment's):"]
        for entry in could_not:
            lines.append(f"  ? {entry['title']}  [{entry['check']}]")
            lines.append(_indent(entry["message"], "       "))
    lines += history_lines(report.get("history"))
    lines += changes_lines(report)
    lines = [_ascii(line) for line in lines]
    lines += trend_lines((report.get("history") or {}).get("trend"), unicode)
    tail: list[str] = []
    if report["recommendations"]:
        tail += ["", "Recommendations:"]
        for number, rec in enumerate(report["recommendations"], 1):
            guide = f" (see {rec['guide']})" if rec.get("guide") else ""
            tail.append(f"  {number}. [{rec['severity']}] {rec['text']}{guide}")
    if written:
        tail += ["", "Reports:"] + [f"  {path}" for path in written]
    tail.append(RULE)
    return "\n".join(lines + [_ascii(line) for line in tail])


#: The summary's status words and headings, coloured where pytest colours its own output (a
#: terminal, or --color=yes): pytest's TerminalWriter drops the markup everywhere else.
_COLOURS = {
    "CRITICAL": {"red": True, "bold": True},
    "UNKNOWN": {"purple": True, "bold": True},
    "INTERRUPTED": {"purple": True, "bold": True},
    "WARNING": {"yellow": True, "bold": True},
    "HEALTHY": {"green": True, "bold": True},
}


def line_markup(line: str) -> dict[str, bool]:
    """TerminalWriter markup for one summary line (``{}``: plain)."""
    if line.startswith("Overall status: "):
        return _COLOURS.get(line.split()[2], {})
    if line == "Critical issues:":
        return _COLOURS["CRITICAL"]
    if line == "Warnings:":
        return _COLOURS["WARNING"]
    return {}


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


def changes_lines(report: dict[str, Any]) -> list[str]:
    """'NEW since <last pass>: <title> - likely cause: <change>' for each new finding."""
    from acore_doctor.changes.report import new_finding_lines

    return new_finding_lines(report)


#: Sparkline levels, lowest first: block characters, and the ASCII ramp for other terminals.
SPARK_UNICODE = "\u2581\u2582\u2583\u2584\u2585\u2586\u2587\u2588"
SPARK_ASCII = "_.-:=+*#"
#: One character per run for its verdict, and the legend that explains them.
STATUS_MARKS = {"healthy": "o", "warning": "w", "critical": "C", "unknown": "?", "interrupted": "x"}
STATUS_LEGEND = "o healthy, w warning, C critical, ? unknown, x interrupted"
#: The counts a trend shows per run, with their labels.
TREND_SERIES = (("issues", "critical"), ("warnings", "warnings"), ("passed", "passed"))


def sparkline(values: list[int], unicode: bool = False) -> str:
    """One character per value, scaled to the largest; zero is always the lowest level."""
    ramp = SPARK_UNICODE if unicode else SPARK_ASCII
    top = max(values, default=0)
    if top <= 0:
        return ramp[0] * len(values)
    steps = len(ramp) - 1
    return "".join(ramp[0] if v <= 0 else ramp[max(1, round(v / top * steps))] for v in values)


def trend_lines(trend: list[dict[str, Any]] | None, unicode: bool = False) -> list[str]:
    """The last full runs, oldest first: a verdict strip and one sparkline per status."""
    if not trend or len(trend) < 2:
        return []
    lines = ["", f"Trend, last {len(trend)} full runs (oldest first, this run last):"]
    marks = "".join(STATUS_MARKS.get(str(p.get("status")), "?") for p in trend)
    lines.append(f"  {'status':<9} {marks}  ({STATUS_LEGEND})")
    for key, label in TREND_SERIES:
        values = [p.get(key) if isinstance(p.get(key), int) else 0 for p in trend]
        lines.append(
            f"  {label:<9} {sparkline(values, unicode)}  "
            f"now {values[-1]}, min {min(values)}, max {max(values)}"
        )
    return lines


def stream_takes_unicode(stream: Any) -> bool:
    """True when ``stream`` encodes the sparkline characters (a UTF-8 terminal or file)."""
    encoding = getattr(stream, "encoding", None)
    if not encoding:
        return False
    try:
        SPARK_UNICODE.encode(encoding)
    except (LookupError, UnicodeEncodeError):
        return False
    return True


def _ascii(text: str) -> str:
    """Keep the summary printable on any terminal, even one without UTF-8."""
    return text.encode("ascii", "replace").decode("ascii")
