"""The summary block pytest-html shows above its results table, and the text of its rows.

Severities carry colour, guide references are links to the guide in this checkout, long raw
outputs (an SQLite integrity report, a list of files) are cut with a count of what was left
out, skip reasons read as sentences, and the recent full runs are drawn as a small SVG chart.
"""

from __future__ import annotations

from html import escape
from typing import Any

from acore_doctor.suite import suite_root

COLOURS = {
    "healthy": "#2e7d32",
    "passed": "#2e7d32",
    "warning": "#b34700",  # 5.5:1 on white (WCAG AA needs 4.5:1); #ef6c00 was 3.1:1
    "critical": "#c62828",
    "skipped": "#757575",
    "unknown": "#6a1b9a",
    "interrupted": "#6a1b9a",
}
#: A finding's text longer than this is cut in the HTML (the JSON report keeps all of it).
MAX_LINES = 12
MAX_CHARS = 1200

STYLE = (
    "<style>"
    ".acore-doctor-summary .sev{display:inline-block;min-width:4.5em;padding:0 .4em;"
    "border-radius:3px;color:#fff;font-size:85%;text-align:center;margin-right:.4em}"
    + "".join(
        f".acore-doctor-summary .sev-{name}{{background:{colour}}}"
        f"td.col-severity.sev-{name}{{color:{colour};font-weight:bold}}"
        for name, colour in COLOURS.items()
    )
    + ".acore-doctor-summary pre{white-space:pre-wrap;margin:.3em 0 .2em}"
    ".acore-doctor-summary .guide-ref{margin-bottom:.6em}"
    ".acore-doctor-summary .cut{color:#757575;font-style:italic}"
    ".acore-doctor-summary .trend text{font-size:11px;fill:#333}"
    # pytest-html's grey (#999 on white, 2.85:1) and its orange and red fail WCAG AA: darker.
    "body,a,#results-table,.filters button,.collapse button{color:#555}"
    "span.passed,.passed .col-result{color:#2e7d32}"
    "span.skipped,span.xfailed,span.rerun,.skipped .col-result,.xfailed .col-result,"
    ".rerun .col-result{color:#b34700}"
    "span.error,span.failed,span.xpassed,.error .col-result,.failed .col-result,"
    ".xpassed .col-result{color:#c62828}"
    # The verdict and findings first: pytest-html puts its Environment table above them.
    "body{display:flex;flex-direction:column}"
    "#environment-header,#environment{order:2}"
    "</style>"
)


def summary_html(report: dict[str, Any]) -> str:
    summary = report["summary"]
    status = summary["overall_status"]
    parts = [
        '<div class="acore-doctor-summary">',
        STYLE,
        f'<h2 class="status" style="color:{COLOURS.get(status, "#000")}">Overall status: '
        f"{escape(status.upper())} (exit code {summary['exit_code']})</h2>",
        f"<p>{summary['total_issues']} critical issue(s), {summary['total_warnings']} "
        f"warning(s), {_outcomes(report, 'passed')} passed, "
        f"{_outcomes(report, 'skipped', 'blocked')} not applicable or blocked</p>",
    ]
    if summary.get("reason"):
        parts.append(f"<p>Reason: {escape(summary['reason'])}</p>")
    for heading, entries, tag in (
        ("Critical issues", report["issues"], "ol"),
        ("Warnings", report["warnings"], "ul"),
    ):
        if not entries:
            continue
        parts.append(f'<h3>{heading}</h3><{tag} class="findings">')
        parts += [finding_html(entry) for entry in entries]
        parts.append(f"</{tag}>")
    history = report.get("history") or {}
    parts.append(trend_svg(history.get("trend")))
    parts.append(history_html(history))
    if report["recommendations"]:
        parts.append('<h3>Recommendations</h3><ol class="recommendations">')
        for rec in report["recommendations"]:
            guide = f" (see {guide_link(rec['guide'])})" if rec.get("guide") else ""
            parts.append(f"<li>{severity_badge(rec['severity'])}{escape(rec['text'])}{guide}</li>")
        parts.append("</ol>")
    parts.append(skipped_html(report.get("info") or []))
    parts.append("</div>")
    return "".join(parts)


def _outcomes(report: dict[str, Any], *outcomes: str) -> int:
    return sum(1 for check in report.get("checks") or [] if check.get("outcome") in outcomes)


def finding_html(entry: dict[str, Any]) -> str:
    symptoms = "".join(f"<li>symptom: {escape(s)}</li>" for s in entry.get("symptoms", []))
    guide = (
        f'<div class="guide-ref">Guide: {guide_link(entry["guide"])}</div>'
        if entry.get("guide")
        else ""
    )
    return (
        f'<li class="finding">{severity_badge(entry["severity"])}'
        f"<b>{escape(entry['title'])}</b> <code>{escape(entry['check'])}</code>"
        f"<pre>{truncated_html(entry['message'])}</pre>"
        + (f"<ul>{symptoms}</ul>" if symptoms else "")
        + changes_html(entry)
        + guide
        + "</li>"
    )


def changes_html(entry: dict[str, Any]) -> str:
    """What changed since the finding's check last passed (see acore_doctor.changes)."""
    from acore_doctor.changes.report import finding_changes_html

    return finding_changes_html(entry)


def severity_badge(severity: str) -> str:
    return f'<span class="sev sev-{escape(severity)}">{escape(severity)}</span>'


def guide_link(guide: str, text: str | None = None) -> str:
    """A guide reference (``guides/<name>.md#<anchor>``) as a relative link to its page
    rendered beside the report (``guides/<name>.html#<anchor>``, written by the HTML plugin),
    so the link works wherever the report directory is copied (a CI artifact); plain text
    when the guide is not one of ours."""
    from acore_doctor.report.guides_html import guide_href

    path = guide.partition("#")[0]
    label = escape(text) if text else f"<code>{escape(guide)}</code>"
    href = guide_href(guide)
    try:
        target = (suite_root() / path).resolve()
    except FileNotFoundError:
        return label
    if href is None or not target.is_file():
        return label
    return f'<a class="guide" href="{escape(href)}" title="{escape(guide)}">{label}</a>'


def truncate(text: str, max_lines: int = MAX_LINES, max_chars: int = MAX_CHARS) -> tuple[str, str]:
    """``text`` cut to ``max_lines`` lines and ``max_chars`` characters, and a note that
    counts what was cut ("" when nothing was)."""
    lines = text.splitlines()
    cut_lines = max(0, len(lines) - max_lines)
    kept = "\n".join(lines[:max_lines]) if cut_lines else text
    cut_chars = max(0, len(kept) - max_chars)
    if cut_chars:
        kept = kept[:max_chars]
    notes = []
    if cut_lines:
        notes.append(f"{cut_lines} more line{'s' if cut_lines != 1 else ''}")
    if cut_chars:
        notes.append(f"{cut_chars} more character{'s' if cut_chars != 1 else ''}")
    if not notes:
        return text, ""
    return kept, f"... {' and '.join(notes)} not shown (the JSON report has the full text)"


def truncated_html(text: str) -> str:
    kept, note = truncate(text)
    return escape(kept) + (f'\n<span class="cut">{escape(note)}</span>' if note else "")


def sentence(reason: str) -> str:
    """A skip or block reason as a sentence: ``not applicable: voice disabled`` ->
    ``Not applicable: voice disabled.``"""
    text = reason.strip().removeprefix("Skipped: ").strip()
    if not text:
        return "Skipped."
    text = text[0].upper() + text[1:]
    return text if text[-1] in ".!?)" else text + "."


def skipped_html(info: list[dict[str, Any]]) -> str:
    """Checks that did not apply (or were blocked), each with its reason as a sentence."""
    skipped = [e for e in info if e.get("outcome") in ("skipped", "blocked")]
    if not skipped:
        return ""
    items = "".join(
        f"<li><b>{escape(e['title'])}</b>: {escape(sentence(e.get('message') or ''))} "
        f"<code>{escape(e['check'])}</code></li>"
        for e in skipped
    )
    return (
        f'<details class="skipped"><summary>{len(skipped)} check(s) not applicable or '
        f"blocked</summary><ul>{items}</ul></details>"
    )


def results_log(report: Any, log: list[str]) -> None:
    """pytest-html's log for one check's row, in place: the check's title and its message
    (indented: pytest-html paints every line that starts with "E" red, as if it were a
    traceback), a skip reason as a sentence instead of pytest's ``(path, line, reason)``
    tuple, and a long text cut with a count."""
    title = getattr(report, "doctor_title", "") or ""
    longrepr = getattr(report, "longrepr", None)
    text = None
    if getattr(report, "skipped", False) and isinstance(longrepr, tuple):
        text = f"[skipped] {title}\n  {sentence(str(longrepr[2]))}"
    elif isinstance(longrepr, str) and title and longrepr.startswith(f"{title}: "):
        message = longrepr.removeprefix(f"{title}: ")
        kept, note = truncate(message, max_lines=20, max_chars=3000)
        body = "\n".join("  " + line for line in (kept + (f"\n{note}" if note else "")).split("\n"))
        text = f"[{getattr(report, 'severity', '')}] {title}\n{body}"
    if text is not None and log:
        log[0] = escape(text) + "\n"
        return
    for index, entry in enumerate(log):
        kept, note = truncate(entry, max_lines=20, max_chars=3000)
        if note:
            # pytest-html escaped the text already: do not leave half an entity at the cut.
            amp = kept.rfind("&", max(0, len(kept) - 8))
            if amp >= 0 and ";" not in kept[amp:]:
                kept = kept[:amp]
            log[index] = kept + f"\n{note}\n"


def severity_cell(severity: str) -> str:
    """The Severity column's cell, coloured by the summary's style sheet."""
    name = escape(severity)
    return f'<td class="col-severity sev-{name}">{name}</td>'


#: The trend chart: a verdict strip, then one row of bars per status, each scaled to its own
#: largest count so that one more critical shows even beside a hundred passed checks.
BAR_W, BAR_GAP, ROW_H, LABEL_W, VALUE_W = 12, 3, 26, 70, 150
TREND_ROWS = (
    ("issues", "critical", "critical"),
    ("warnings", "warnings", "warning"),
    ("passed", "passed", "passed"),
    ("skipped", "skipped", "skipped"),
)


def trend_svg(trend: list[dict[str, Any]] | None) -> str:
    """The last full runs (oldest first, this run last) as an inline SVG chart."""
    if not trend or len(trend) < 2:
        return ""
    step = BAR_W + BAR_GAP
    width = LABEL_W + len(trend) * step + VALUE_W
    shapes = ['<text x="0" y="11">verdict</text>']
    for index, run in enumerate(trend):
        status = str(run.get("status"))
        shapes.append(
            f'<rect class="verdict" x="{LABEL_W + index * step}" y="2" width="{BAR_W}" '
            f'height="10" fill="{COLOURS.get(status, "#000")}">'
            f"<title>{escape(str(run.get('t')))}: {escape(status)}</title></rect>"
        )
    for row, (key, label, colour_key) in enumerate(TREND_ROWS):
        values = [_count(run, key) for run in trend]
        top = max(max(values), 1)
        base = 20 + (row + 1) * (ROW_H + 6)
        shapes.append(f'<text x="0" y="{base}">{label}</text>')
        for index, (run, value) in enumerate(zip(trend, values, strict=True)):
            height = max(1.0, value / top * ROW_H) if value else 1.0
            shapes.append(
                f'<rect class="bar-{colour_key}" x="{LABEL_W + index * step}" '
                f'y="{base - height:.1f}" width="{BAR_W}" height="{height:.1f}" '
                f'fill="{COLOURS[colour_key] if value else "#e0e0e0"}">'
                f"<title>{escape(str(run.get('t')))}: {value} {label}</title></rect>"
            )
        shapes.append(
            f'<text x="{LABEL_W + len(trend) * step + 6}" y="{base}">now {values[-1]}, '
            f"max {max(values)}</text>"
        )
    height = 20 + len(TREND_ROWS) * (ROW_H + 6) + 8
    return (
        f"<h3>Trend: the last {len(trend)} full runs</h3>"
        f'<svg class="trend" role="img" width="{width}" height="{height}" overflow="visible" '
        f'viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg">'
        "<desc>Each run's verdict, then the checks per status in each run, oldest first; "
        f"each row is scaled to its own largest count.</desc>{''.join(shapes)}</svg>"
        '<p class="trend-note">Oldest run first, this run last; each row is scaled to its '
        "own largest count. Subset runs (-k, node ids, --lf) are left out.</p>"
    )


def _count(run: dict[str, Any], key: str) -> int:
    value = run.get(key)
    return value if isinstance(value, int) and value > 0 else 0


def history_html(history: dict[str, Any] | None) -> str:
    """The 'since the last run' block: findings new and resolved since each check last ran."""
    if not history or not history.get("previous"):
        return ""
    heading = f"<h3>Since the last run ({escape(str(history['previous']))})</h3>"
    if history.get("note"):
        return heading + f"<p>{escape(history['note'])}</p>"
    new, resolved = history.get("new", []), history.get("resolved", [])
    items = [
        f'<li class="history-new">{"escalated" if e.get("escalated") else "new"} '
        f"{severity_badge(e['severity'])}{escape(e['title'])} "
        f"<code>{escape(e['check'])}</code></li>"
        for e in new
    ] + [
        f'<li class="history-resolved">resolved {severity_badge(e["severity"])}'
        f"{escape(e['title'])} <code>{escape(e['check'])}</code></li>"
        for e in resolved
    ]
    summary = f"<p>{len(new)} new, {len(resolved)} resolved</p>"
    return heading + summary + (f"<ul>{''.join(items)}</ul>" if items else "")
