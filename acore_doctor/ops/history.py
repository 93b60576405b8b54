"""Run history: what changed since the previous run, and a compact trend of recent runs.

The previous run is the ``latest.json`` already in the report directory when a run
finishes. The trend is ``history.jsonl`` next to it: one short JSON line per run (verdict,
check durations, recorded metrics such as service latencies and disk use), cut to the
newest :data:`KEEP_RUNS` lines (``ACORE_DOCTOR_HISTORY_KEEP`` overrides it).
"""

from __future__ import annotations

import json
import os
from datetime import datetime
from pathlib import Path
from typing import Any

from acore_doctor.fsio import write_atomic

TREND_FILE = "history.jsonl"
KEEP_RUNS = 1000
KEEP_ENV = "ACORE_DOCTOR_HISTORY_KEEP"
#: Checks faster than this are left out of a trend line: their durations are noise, and
#: leaving them out keeps a line near half a kilobyte for a suite of a hundred checks.
MIN_TRACKED_S = 0.005
#: A trend line larger than this is cut down to its verdict: one odd run must not bloat it.
MAX_LINE_BYTES = 64 * 1024


def failing(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Checks that failed in ``report`` (issues and warnings), by check id."""
    found: dict[str, dict[str, Any]] = {}
    for kind, key in (("issue", "issues"), ("warning", "warnings")):
        for entry in report.get(key) or []:
            if isinstance(entry, dict) and entry.get("check"):
                found[entry["check"]] = {
                    "check": entry["check"],
                    "title": entry.get("title", entry["check"]),
                    "severity": entry.get("severity", ""),
                    "kind": kind,
                }
    return found


def read_previous(report_dir: Path) -> dict[str, Any] | None:
    """The previous run's report, or None when there is none or it is unreadable."""
    try:
        data = json.loads((report_dir / "latest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict):
        return None
    shapes = {"summary": dict, "environment": dict, "issues": list, "warnings": list}
    if not all(isinstance(data.get(key, kind()), kind) for key, kind in shapes.items()):
        return None  # not a report this suite wrote
    return data if "summary" in data else None


def compare(report: dict[str, Any], previous: dict[str, Any] | None) -> dict[str, Any]:
    """Findings new since ``previous`` and findings resolved since it.

    Resolved means the check failed last time and passed this time; a check that was not
    run, or was skipped, is not called resolved.
    """
    if previous is None:
        return {"previous": None, "new": [], "resolved": [], "note": "no previous run"}
    bot_dir = report.get("environment", {}).get("bot_dir")
    if previous.get("environment", {}).get("bot_dir") != bot_dir:
        return {
            "previous": previous.get("timestamp"),
            "new": [],
            "resolved": [],
            "note": "the previous run checked another deployment",
        }
    before, now = failing(previous), failing(report)
    passed = {c.get("nodeid") for c in report.get("checks", []) if c.get("outcome") == "passed"}
    new = [entry for check, entry in now.items() if check not in before]
    for check, entry in now.items():
        old = before.get(check)
        if old is not None and old["kind"] == "warning" and entry["kind"] == "issue":
            new.append({**entry, "escalated": True})
    resolved = [entry for check, entry in before.items() if check in passed]
    return {
        "previous": previous.get("timestamp"),
        "previous_status": previous["summary"].get("overall_status"),
        "new": new,
        "resolved": resolved,
    }


def annotate(report: dict[str, Any], report_dir: Path) -> dict[str, Any]:
    """Add the ``history`` block to ``report`` (before it replaces ``latest.json``)."""
    report["history"] = compare(report, read_previous(report_dir))
    return report


def keep_runs() -> int:
    try:
        return max(1, int(os.environ.get(KEEP_ENV, KEEP_RUNS)))
    except ValueError:
        return KEEP_RUNS


def trend_entry(report: dict[str, Any]) -> dict[str, Any]:
    summary = report.get("summary", {})
    checks = report.get("checks", [])
    entry = {
        "t": report.get("timestamp"),
        "status": summary.get("overall_status"),
        "code": summary.get("exit_code"),
        "issues": summary.get("total_issues"),
        "warnings": summary.get("total_warnings"),
        "duration_s": round(sum(c.get("duration_s", 0.0) for c in checks), 3),
        "durations": {
            c["nodeid"]: round(c.get("duration_s", 0.0), 3)
            for c in checks
            if c.get("duration_s", 0.0) >= MIN_TRACKED_S
        },
        "metrics": report.get("metrics", {}),
    }
    if len(json.dumps(entry)) > MAX_LINE_BYTES:
        entry["durations"], entry["metrics"] = {}, {}
    return entry


def read_trend(report_dir: Path) -> list[dict[str, Any]]:
    """The kept runs, oldest first; unreadable lines are dropped, never fatal."""
    try:
        lines = (report_dir / TREND_FILE).read_text(encoding="utf-8").splitlines()
    except OSError:
        return []
    runs = []
    for line in lines:
        try:
            data = json.loads(line)
        except ValueError:
            continue
        if isinstance(data, dict):
            runs.append(data)
    return runs


def record_trend(report: dict[str, Any], report_dir: Path, keep: int | None = None) -> Path:
    """Append this run to the trend file; past ``keep`` runs plus some slack, cut it back.

    The slack keeps the per-run cost an append: the file is rewritten once every
    ``keep // 10`` runs, not on every run.
    """
    keep = keep or keep_runs()
    path = report_dir / TREND_FILE
    line = json.dumps(trend_entry(report), separators=(",", ":"), default=str)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as handle:
        handle.write(line + "\n")
        size = handle.tell()
    limit = keep + keep // 10
    # Estimate the line count from the size so a normal run never reads the whole file.
    if size / (len(line.encode()) + 1) > limit:
        data = path.read_bytes()
        if data.count(b"\n") > limit:
            lines = data.decode("utf-8", "replace").splitlines(keepends=True)
            write_atomic(path, "".join(lines[-keep:]), make_parents=True)
    return path


def summarize_trend(runs: list[dict[str, Any]], key: str) -> dict[str, float] | None:
    """First, last, min and max of a metric (or ``duration_s``) over the kept runs."""
    values = []
    for run in runs:
        value = run.get(key) if key == "duration_s" else run.get("metrics", {}).get(key)
        if isinstance(value, int | float):
            values.append(float(value))
    if not values:
        return None
    return {"first": values[0], "last": values[-1], "min": min(values), "max": max(values)}


def bot_samples(runs: list[dict[str, Any]], pid: int) -> list[dict[str, Any]]:
    """The bot's RSS and descriptors as earlier runs recorded them, for one process.

    Only runs that saw the same pid count: a restart resets memory, so mixing processes
    would hide a leak (or invent one). ``t`` is seconds since the first such run.
    """
    points = []
    for run in runs:
        metrics = run.get("metrics") or {}
        if metrics.get("bot_pid") != pid or not isinstance(metrics.get("bot_rss_mb"), int | float):
            continue
        try:
            when = datetime.fromisoformat(str(run.get("t"))).timestamp()
        except ValueError:
            continue
        points.append((when, metrics["bot_rss_mb"], metrics.get("bot_fds")))
    if not points:
        return []
    start = points[0][0]
    return [{"t": when - start, "rss_mb": rss, "fds": fds} for when, rss, fds in points]
