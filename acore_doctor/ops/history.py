"""Run history: what changed since each check last ran, and a compact trend of recent runs.

Each check is compared with its own last result: ``check_results.json`` in the report
directory keeps, per check id, the last judged outcome (passed, or failed as an issue or a
warning). A run that selects a subset (node ids, ``-k``, ``-m``, ``--lf``) updates the
checks it ran only, so rerunning one check never makes the others look new or resolved
next time. Skipped and blocked checks keep their last judged result. Before that file
exists, the previous ``latest.json`` seeds it.

The trend is ``history.jsonl`` next to it: one short JSON line per run (verdict, counts,
check durations, recorded metrics such as service latencies and disk use), cut to the
newest :data:`KEEP_RUNS` lines (``ACORE_DOCTOR_HISTORY_KEEP`` overrides it). A subset run
is marked ``"subset": true`` there; trend views show full runs only.
"""

from __future__ import annotations

import json
import os
from datetime import datetime
from pathlib import Path
from typing import Any

from acore_doctor import catalog
from acore_doctor.fsio import open_private, private_dir, write_atomic
from acore_doctor.saferead import OWN_FILE_MAX, open_regular, read_rest, read_text_bounded

TREND_FILE = "history.jsonl"
RESULTS_FILE = "check_results.json"
KEEP_RUNS = int(catalog.SUITE_SETTINGS["ACORE_DOCTOR_HISTORY_KEEP"].default)  # type: ignore[call-overload]
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
        data = json.loads(read_text_bounded(report_dir / "latest.json", OWN_FILE_MAX, "strict"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict):
        return None
    shapes = {"summary": dict, "environment": dict, "issues": list, "warnings": list}
    if not all(isinstance(data.get(key, kind()), kind) for key, kind in shapes.items()):
        return None  # not a report this suite wrote
    return data if "summary" in data else None


def judged(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """This run's judged result per check id: failing (issue or warning) or passed.

    Skipped and blocked checks are left out: they say nothing new about the check.
    """
    results = failing(report)
    for check in report.get("checks") or []:
        nodeid = check.get("nodeid") if isinstance(check, dict) else None
        if nodeid and check.get("outcome") == "passed" and nodeid not in results:
            results[nodeid] = {
                "check": nodeid,
                "title": check.get("title", nodeid),
                "severity": check.get("severity", ""),
                "kind": "passed",
            }
    return results


def run_summary(report: dict[str, Any]) -> dict[str, Any]:
    return {
        "timestamp": report.get("timestamp"),
        "status": (report.get("summary") or {}).get("overall_status"),
        "subset": bool((report.get("history") or {}).get("subset")),
    }


def read_results(report_dir: Path) -> dict[str, Any] | None:
    """Each check's last judged result (``check_results.json``), else one seeded from the
    previous ``latest.json``; None when neither is there or readable."""
    try:
        data = json.loads(read_text_bounded(report_dir / RESULTS_FILE, OWN_FILE_MAX, "strict"))
    except (OSError, ValueError):
        data = None
    if (
        isinstance(data, dict)
        and isinstance(data.get("checks"), dict)
        and isinstance(data.get("last_run"), dict)
    ):
        return data
    previous = read_previous(report_dir)
    if previous is None:
        return None
    return {
        "bot_dir": previous.get("environment", {}).get("bot_dir"),
        "last_run": run_summary(previous),
        "checks": {
            check: {**entry, "t": previous.get("timestamp")}
            for check, entry in judged(previous).items()
        },
    }


def compare(report: dict[str, Any], results: dict[str, Any] | None) -> dict[str, Any]:
    """Findings new and resolved, each check compared with its own last judged result.

    New: failing now, and passing (or never judged) the last time it ran; escalated: a
    warning then, an issue now. Resolved: failing the last time it ran, passed now. A check
    not run or skipped this time is neither.
    """
    if results is None:
        return {"previous": None, "new": [], "resolved": [], "note": "no previous run"}
    last_run = results.get("last_run") or {}
    if results.get("bot_dir") != report.get("environment", {}).get("bot_dir"):
        return {
            "previous": last_run.get("timestamp"),
            "new": [],
            "resolved": [],
            "note": "the previous run checked another deployment",
        }
    before = {
        check: entry
        for check, entry in (results.get("checks") or {}).items()
        if isinstance(entry, dict)
    }
    new: list[dict[str, Any]] = []
    resolved: list[dict[str, Any]] = []
    for check, entry in judged(report).items():
        old_kind = (before.get(check) or {}).get("kind")
        if entry["kind"] == "passed":
            if old_kind in ("issue", "warning"):
                old = before[check]
                resolved.append(
                    {
                        "check": check,
                        "title": old.get("title", check),
                        "severity": old.get("severity", ""),
                        "kind": old_kind,
                    }
                )
        elif old_kind not in ("issue", "warning"):
            new.append(entry)
        elif old_kind == "warning" and entry["kind"] == "issue":
            new.append({**entry, "escalated": True})
    return {
        "previous": last_run.get("timestamp"),
        "previous_status": last_run.get("status"),
        "new": new,
        "resolved": resolved,
    }


def annotate(report: dict[str, Any], report_dir: Path, subset: bool = False) -> dict[str, Any]:
    """Add the ``history`` block to ``report`` (before this run's results are recorded)."""
    report["history"] = {**compare(report, read_results(report_dir)), "subset": subset}
    return report


def record_results(report: dict[str, Any], report_dir: Path) -> Path:
    """Keep this run's judged results; checks it did not judge keep their last result."""
    bot_dir = report.get("environment", {}).get("bot_dir")
    results = read_results(report_dir)
    checks = (results or {}).get("checks") or {}
    if results is None or results.get("bot_dir") != bot_dir:
        checks = {}  # another deployment's results say nothing about this one
    stamp = report.get("timestamp")
    for check, entry in judged(report).items():
        checks[check] = {
            "kind": entry["kind"],
            "severity": entry["severity"],
            "title": entry["title"],
            "t": stamp,
        }
    document = {"bot_dir": bot_dir, "last_run": run_summary(report), "checks": checks}
    path = report_dir / RESULTS_FILE
    write_atomic(
        path, json.dumps(document, indent=1, sort_keys=True, default=str) + "\n", make_parents=True
    )
    return path


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
        "bot_dir": (report.get("environment") or {}).get("bot_dir"),
        "status": summary.get("overall_status"),
        "code": summary.get("exit_code"),
        "issues": summary.get("total_issues"),
        "warnings": summary.get("total_warnings"),
        "passed": sum(1 for c in checks if c.get("outcome") == "passed"),
        "skipped": sum(1 for c in checks if c.get("outcome") in ("skipped", "blocked")),
        "duration_s": round(sum(c.get("duration_s", 0.0) for c in checks), 3),
        "durations": {
            c["nodeid"]: round(c.get("duration_s", 0.0), 3)
            for c in checks
            if c.get("duration_s", 0.0) >= MIN_TRACKED_S
        },
        "metrics": report.get("metrics", {}),
    }
    if (report.get("history") or {}).get("subset"):
        entry["subset"] = True
    if len(json.dumps(entry)) > MAX_LINE_BYTES:
        entry["durations"], entry["metrics"] = {}, {}
    return entry


#: Runs a trend view shows: the newest full runs, this one included.
TREND_RUNS = 20
TREND_KEYS = ("t", "status", "issues", "warnings", "passed", "skipped")


def recent_runs(
    runs: list[dict[str, Any]], report: dict[str, Any] | None = None, count: int = TREND_RUNS
) -> list[dict[str, Any]]:
    """The newest ``count`` full runs, oldest first, each cut to its counts per status;
    ``report`` (this run, not recorded yet) ends the list when it is a full run itself.

    Subset runs are left out: one rerun check is not the deployment's state; so are runs of
    another deployment (when ``report`` says which one this is).
    """
    bot_dir = ((report or {}).get("environment") or {}).get("bot_dir")
    points = [
        run
        for run in runs
        if not run.get("subset")
        and run.get("status")
        and (bot_dir is None or run.get("bot_dir", bot_dir) == bot_dir)
    ]
    if report is not None and not (report.get("history") or {}).get("subset"):
        points.append(trend_entry(report))
    return [{key: run.get(key) for key in TREND_KEYS} for run in points[-count:]]


def read_trend(report_dir: Path) -> list[dict[str, Any]]:
    """The kept runs, oldest first; unreadable lines are dropped, never fatal."""
    try:
        lines = read_text_bounded(report_dir / TREND_FILE, OWN_FILE_MAX, "strict").splitlines()
    except OSError:
        return []
    return _parse_runs(lines)


def read_trend_tail(report_dir: Path, full_runs: int = TREND_RUNS) -> list[dict[str, Any]]:
    """The newest runs, oldest first, reading back from the end of the trend file only
    until ``full_runs`` full runs are in hand (a run must not read the whole history)."""
    path = report_dir / TREND_FILE
    try:
        with path.open("rb") as handle:
            size = handle.seek(0, os.SEEK_END)
            block = 16 * 1024
            while True:
                start = max(0, size - block)
                handle.seek(start)
                data = handle.read(size - start)
                lines = data.decode("utf-8", "replace").splitlines()
                if start > 0:
                    lines = lines[1:]  # the first line is cut
                runs = _parse_runs(lines)
                if start == 0 or sum(1 for r in runs if not r.get("subset")) >= full_runs:
                    return runs
                block *= 4
    except OSError:
        return []


def _parse_runs(lines: list[str]) -> list[dict[str, Any]]:
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
    private_dir(path.parent)
    with open_private(path, "a") as handle:
        handle.write(line + "\n")
        size = handle.tell()
    limit = keep + keep // 10
    # Estimate the line count from the size so a normal run never reads the whole file.
    if size / (len(line.encode()) + 1) > limit:
        # The tail only, bounded: a trend file grown huge (older versions, a copy) is cut
        # back to its last runs without being read whole.
        with open_regular(path) as handle:
            start = max(0, os.fstat(handle.fileno()).st_size - OWN_FILE_MAX)
            handle.seek(start)
            data = read_rest(handle, OWN_FILE_MAX)
        if start:
            data = data.split(b"\n", 1)[-1]  # the first line was cut in two
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
