"""``acore-doctor logs``: analyze a window of the bot's logs.

Reads the deployment's log file and its rotated segments (or a journal export, or the
journal), streams every record through the analyzer once, and prints levels, error rate,
top templates, tracebacks, starts vs ready markers, known signatures with their cause and
recommendation, and the templates that are new since the previous analysis.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import re
import sys
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from acore_doctor.commands.options import add_deployment_options, deployment_from
from acore_doctor.logs import analyze_paths
from acore_doctor.logs.analyzer import Analyzer, LogAnalysis, TemplateStats
from acore_doctor.logs.parse import LEVELS, format_local, iter_records
from acore_doctor.logs.sources import (
    DEFAULT_UNIT,
    find_log_files,
    log_file_path,
    read_journal,
    read_journal_file,
    records_since,
    scan_segment,
)
from acore_doctor.logs.state import load_state, new_keys, save_state
from acore_doctor.logs.window import last_record_time, newest_record_time
from acore_doctor.progress import SHOW_AFTER_ENV, ProgressLine
from acore_doctor.redact import Redactor, set_run_redactor
from acore_doctor.rules.logs import LogProblem, LogThresholds, assess, log_stale
from acore_doctor.saferead import open_regular
from acore_doctor.suite import REPORTS_ENV, resolve_report_dir

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*$", re.IGNORECASE)
_UNITS = {"": 60, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "logs",
        description="Analyze a window of a deployment's logs: records per level, errors per "
        "minute, top error and warning templates, tracebacks by type, starts vs ready markers, "
        "known failure signatures with their cause and fix, and templates new since the "
        "previous analysis. Exit code: 0 nothing found, 1 warnings, 2 critical, 3 no log.",
    )
    add_deployment_options(parser, report_dir=False)
    span = parser.add_mutually_exclusive_group()
    span.add_argument(
        "--since",
        default=None,
        help="how far back from now: 30m, 1h, 2d, or a time 'YYYY-MM-DD HH:MM' (default: the "
        "hour before the newest record, however old the log is)",
    )
    span.add_argument("--all", action="store_true", help="every record in every segment")
    source = parser.add_mutually_exclusive_group()
    source.add_argument(
        "--file", type=Path, nargs="+", help="analyze these files instead (gz or plain)"
    )
    source.add_argument(
        "--journal-file", type=Path, help="analyze a 'journalctl -u discordbot -o json' export"
    )
    source.add_argument(
        "--journal",
        nargs="?",
        const=DEFAULT_UNIT,
        metavar="UNIT",
        help=f"read the journal of UNIT (default {DEFAULT_UNIT}): the runtime path's only log",
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")
    parser.add_argument("--top", type=int, default=10, help="templates per list (default 10)")
    parser.add_argument(
        "--report-dir",
        type=Path,
        help=f"where the 'new templates' state is kept (default ${REPORTS_ENV}, else reports/)",
    )
    parser.add_argument(
        "--no-state", action="store_true", help="do not read or update the new-templates state"
    )
    parser.set_defaults(handler=handle)


def parse_since(text: str, now: float | None = None) -> float:
    """Epoch for ``30m`` / ``1h`` / ``2d`` ago, or for an absolute local time."""
    now = time.time() if now is None else now
    match = _DURATION.match(text)
    if match:
        return now - float(match.group(1)) * _UNITS[match.group(2).lower()]
    for fmt in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d"):
        try:
            return datetime.strptime(text.strip(), fmt).timestamp()
        except ValueError:
            continue
    raise ValueError(f"--since {text!r}: expected e.g. 30m, 1h, 2d or 'YYYY-MM-DD HH:MM'")


def _rotation_index(path: Path) -> int:
    match = re.search(r"\.(\d+)(?:\.gz)?$", path.name)
    return int(match.group(1)) if match else 0


class Progress(ProgressLine):
    """Lines read so far, on stderr when it is a terminal (see acore_doctor.progress)."""

    def __init__(self, enabled: bool) -> None:
        quick = None if SHOW_AFTER_ENV in os.environ else 0.5  # the operator's delay wins
        super().__init__("reading", enabled=enabled, show_after_s=quick)
        self.expected_lines: float | None = None

    def expect(self, paths: list[Path]) -> None:
        """Estimate the lines to read (for a share done and an ETA): the files' uncompressed
        size (a gzip file's trailer holds it) over the average line of the first file."""
        if self.enabled:
            self.expected_lines = estimate_lines(paths)

    def __call__(self, lines: int) -> None:  # type: ignore[override]
        expected = self.expected_lines
        if expected and lines < expected:
            self.advance(lines, expected, "lines (estimate)")
        else:
            self.show(f"{lines:,} lines, {self.clock() - self.started:.0f} s")


def estimate_lines(paths: list[Path], sample: int = 64 * 1024) -> float | None:
    """About how many lines ``paths`` hold, without reading them: None when unknown."""
    total = 0
    line_bytes: float | None = None
    for path in paths:
        try:
            with path.open("rb") as handle:
                size = os.fstat(handle.fileno()).st_size
                if path.name.endswith(".gz") and size >= 18:
                    handle.seek(size - 4)
                    total += int.from_bytes(handle.read(4), "little")  # ISIZE (mod 2^32)
                    if line_bytes is None:
                        handle.seek(0)
                        head = gzip.GzipFile(fileobj=handle).read(sample)
                        line_bytes = len(head) / max(head.count(b"\n"), 1)
                else:
                    total += size
                    if line_bytes is None:
                        head = handle.read(sample)
                        line_bytes = len(head) / max(head.count(b"\n"), 1)
        except (OSError, EOFError, gzip.BadGzipFile):
            continue
    return total / line_bytes if line_bytes else None


@dataclass
class Span:
    """Which records to read, and what the reader should know about the log's age."""

    since: float | None
    #: "since <time>" / "all" / "the hour before the newest record"
    described: str
    newest: float | None = None
    #: judge how old the log is (the deployment's own log, not files named with --file)
    own_log: bool = False


def handle(args: argparse.Namespace, extra: list[str]) -> int:
    deployment = deployment_from(args)
    redact = deployment.redactor()
    set_run_redactor(redact)  # templates and samples are made deep in the analyzer
    thresholds = LogThresholds()
    try:
        since = None if args.all or args.since is None else parse_since(args.since)
    except ValueError as exc:
        print(f"acore-doctor logs: {exc}", file=sys.stderr)
        return 3
    progress = Progress(sys.stderr.isatty() and not args.json)
    started = time.monotonic()
    analysis, described, span, problem = _analyze(args, deployment, since, thresholds, progress)
    progress.done()
    elapsed = time.monotonic() - started
    if problem:
        print(f"acore-doctor logs: {redact(problem)}", file=sys.stderr)
        return 3
    own = span.own_log
    env_level = deployment.settings.get("LOG_LEVEL").strip().upper() if own else None
    where = f"{format_local(analysis.first_time)} to {format_local(analysis.last_time)}"
    findings = assess(
        analysis, where, thresholds, env_level, deployment.settings.source("LOG_LEVEL")
    )
    age = None if span.newest is None else time.time() - span.newest
    if own and age is not None:
        findings += log_stale(age, env_level == "DEBUG", thresholds)
    new, state_note = _new_templates(args, deployment.bot_dir, redact, analysis)
    document = {
        "source": described,
        "since": span.described,
        "newest_record": format_local(span.newest) if span.newest is not None else None,
        "newest_record_age_seconds": round(age) if age is not None else None,
        "seconds": round(elapsed, 3),
        "findings": [f.to_dict() for f in findings],
        "new_templates": new,
        "new_templates_note": state_note,
        **analysis.to_dict(args.top),
    }
    document = redact.document(document)
    if args.json:
        print(json.dumps(document, indent=2, ensure_ascii=False))
    else:
        print(redact(render_text(analysis, findings, document, args.top, age)))
    if any(f.severity == "critical" for f in findings):
        return 2
    return 1 if findings else 0


def newest_time(paths: list[Path]) -> float | None:
    """The newest record's time in files given oldest first (gz segments are read fully)."""
    for path in reversed(paths):
        if path.name.endswith(".gz"):
            when = scan_segment(path).last_time
        else:
            try:
                with open_regular(path) as f:
                    when = last_record_time(f, os.fstat(f.fileno()).st_size)
            except OSError:
                when = None
        if when is not None:
            return when
    return None


def _anchor(since: float | None, all_records: bool, newest: float | None, minutes: float) -> Span:
    """An explicit --since or --all as given; otherwise the window before the newest record,
    as the health checks read it, so a stopped bot's log still shows its last hour."""
    if all_records:
        return Span(None, "all", newest)
    if since is not None:
        return Span(since, format_local(since), newest)
    if newest is None:
        return Span(None, "all (no timestamped record)", None)
    return Span(
        newest - minutes * 60,
        f"{format_local(newest - minutes * 60)} ({minutes:g} min before the newest record)",
        newest,
    )


def _analyze(
    args: argparse.Namespace,
    deployment: Any,
    since: float | None,
    thresholds: LogThresholds,
    progress: Progress,
) -> tuple[LogAnalysis, str, Span, str | None]:
    minutes = thresholds.log_window_minutes
    nothing = Span(since, "")
    if args.journal_file or args.journal:
        if args.journal_file:
            if not args.journal_file.is_file():
                return LogAnalysis(), "", nothing, f"no such file: {args.journal_file}"
            try:
                lines = read_journal_file(args.journal_file)
            except OSError as exc:
                return LogAnalysis(), "", nothing, f"cannot read {args.journal_file}: {exc}"
            source = f"journal export {args.journal_file}"
        else:
            result = read_journal(args.journal, since)
            if result.error:
                return LogAnalysis(), "", nothing, result.error
            lines, source = result.lines, f"journalctl -u {args.journal}"
        newest = None
        for record in iter_records(lines, fmt="journal"):
            if record.time is not None:
                newest = record.time if newest is None else max(newest, record.time)
        span = _anchor(since, args.all, newest, minutes)
        span.own_log = bool(args.journal)
        analyzer = Analyzer(progress=progress)
        records = iter_records(lines, analyzer.result.parse, fmt="journal")
        return analyzer.feed_all(records_since(records, span.since)), source, span, None
    if args.file:
        paths = sorted(args.file, key=lambda p: -_rotation_index(p))
        missing = [str(p) for p in paths if not p.is_file()]
        if missing:
            return LogAnalysis(), "", nothing, f"no such file: {', '.join(missing)}"
        source = ", ".join(str(p) for p in paths)
        span = _anchor(since, args.all, newest_time(paths), minutes)
    else:
        files = find_log_files(log_file_path(deployment))
        segments = files.in_time_order()
        if not segments:
            return (
                LogAnalysis(),
                "",
                nothing,
                f"no log file at {files.live} (on the runtime path, launcher.py logs to "
                "journald only: use --journal)",
            )
        newest, _ = newest_record_time(files)
        span = _anchor(since, args.all, newest, minutes)
        span.own_log = True
        # A segment rotated out before the window holds nothing newer: skip it unread.
        start = span.since
        paths = [s.path for s in segments if start is None or s.index == 0 or s.mtime >= start]
        source = f"{files.live} ({len(paths) - (1 if files.live_exists else 0)} rotated segment(s))"
    progress.expect(paths)
    return analyze_paths(paths, since=span.since, progress=progress), source, span, None


def _new_templates(
    args: argparse.Namespace, bot_dir: Path, redact: Redactor, analysis: LogAnalysis
) -> tuple[list[str], str]:
    if args.no_state:
        return [], "state not used (--no-state)"
    report_dir = resolve_report_dir(args.report_dir)
    state = load_state(report_dir, bot_dir, redact)
    keys = analysis.template_keys()
    new = new_keys(state, keys)
    try:
        save_state(state, keys)
    except OSError as exc:
        return new, f"state not saved ({exc.strerror or exc}) in {report_dir}"
    if state.previous_run is None:
        return [], f"first analysis of this deployment: {len(keys)} template(s) recorded"
    note = f"since the previous analysis at {format_local(state.previous_run)}"
    if state.problem:
        note += f" ({state.problem})"
    return new, note


# -- text ---------------------------------------------------------------------------------
def _template_lines(templates: list[TemplateStats]) -> list[str]:
    lines = []
    for t in templates:
        lines.append(
            f"  {t.count:>7,}x  peak {t.peak_per_minute}/min  {format_local(t.last)}  "
            f"{t.logger}: {t.template}"
        )
        if t.sample and t.sample != t.template:
            lines.append(f"            e.g. {t.sample}")
    return lines or ["  (none)"]


def render_text(
    analysis: LogAnalysis,
    findings: list[LogProblem],
    document: dict[str, Any],
    top: int,
    age: float | None = None,
) -> str:
    # here, not at the top: bot_process imports psutil, which the JSON output never needs
    from acore_doctor.probes.bot_process import format_duration

    parse = analysis.parse
    newest = (
        f"Newest record: {document['newest_record']}, {format_duration(age)} ago"
        + (" (the log is not being written now)" if age > 3600 else "")
        if age is not None
        else "Newest record: none with a timestamp"
    )
    out = [
        f"acore-doctor logs: {document['source']}",
        newest,
        f"Window: {document['since']} -> {format_local(analysis.last_time)} "
        f"(records from {format_local(analysis.first_time)})",
        f"Read {parse.lines:,} lines, {analysis.records:,} records in {document['seconds']:.1f} s; "
        f"{parse.continuation_lines:,} continuation, {parse.orphan_lines} orphan, "
        f"{parse.binary_lines} binary, {parse.invalid_utf8_lines} invalid UTF-8, "
        f"{parse.huge_lines} huge lines",
        "",
    ]
    total = analysis.records or 1
    levels = "  ".join(
        f"{lvl} {analysis.records_by_level[lvl]:,} ({analysis.records_by_level[lvl] / total:.0%})"
        for lvl in LEVELS
    )
    lines_by_level = analysis.lines_by_level
    out.append(f"Records by level: {levels}")
    out.append("Lines by level:   " + "  ".join(f"{k} {v:,}" for k, v in lines_by_level.items()))
    peak = analysis.errors_per_minute
    out.append(
        f"Errors: {analysis.error_records:,} ({analysis.error_share:.2%} of records); peak "
        f"{peak.peak_per_minute}/min at {format_local(peak.peak_minute)[:16]}"
    )
    ready = "ready marker seen" if analysis.ready_since_last_start else "NO ready marker"
    last = (
        f"; last start {format_local(analysis.last_start)} ({ready} since)"
        if analysis.last_start
        else ""
    )
    out.append(
        f"Starts: {len(analysis.starts)}, ready markers: {analysis.ready_markers}, most starts in "
        f"{analysis.crash_window_s / 60:g} min: {analysis.max_starts_in_crash_window}{last}"
    )
    out.append("")
    out.append(f"Findings ({len(findings)}):")
    for f in findings:
        out.append(f"  [{f.severity}] {f.title}: {f.detail}")
        out.append(f"      fix: {f.recommendation} (see {f.guide})")
    if not findings:
        out.append("  none: no crash loop, flood or known failure signature in this window")
    out.append("")
    out.append("Top error templates:")
    errors = analysis.top_templates("CRITICAL", top) + analysis.top_templates("ERROR", top)
    out += _template_lines(sorted(errors, key=lambda t: -t.count)[:top])
    out.append("Top warning templates:")
    out += _template_lines(analysis.top_templates("WARNING", top))
    out.append("Tracebacks by exception type:")
    out += [f"  {n:>7,}x  {exc}" for exc, n in analysis.tracebacks.most_common(top)] or ["  (none)"]
    out.append("Noisiest loggers (records):")
    out += [f"  {n:>7,}  {name}" for name, n in analysis.loggers.most_common(min(top, 5))]
    new = document["new_templates"]
    out.append(f"New templates ({len(new)}), {document['new_templates_note']}:")
    out += [f"  {key}" for key in new[:top]] or ["  (none)"]
    if len(new) > top:
        out.append(f"  ... and {len(new) - top} more (--json lists all)")
    return "\n".join(out)
