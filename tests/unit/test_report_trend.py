"""The trend of recent runs: kept per check and per run, shown as sparklines and a chart."""

from __future__ import annotations

import io
import json
from pathlib import Path

from acore_doctor.ops.history import (
    RESULTS_FILE,
    TREND_FILE,
    compare,
    read_results,
    read_trend_tail,
    recent_runs,
    record_results,
    record_trend,
)
from acore_doctor.report.console import (
    SPARK_ASCII,
    SPARK_UNICODE,
    format_summary,
    sparkline,
    stream_takes_unicode,
    trend_lines,
)

BOT = "/srv/acore_bot"


def run_report(stamp: str, failing: dict[str, str], passing: list[str], subset=False) -> dict:
    """A report document as the engine builds it: failing checks by kind, passing ones."""
    entries = {
        kind: [
            {
                "check": c,
                "title": c.upper(),
                "severity": "critical" if kind == "issues" else "warning",
            }
            for c, k in failing.items()
            if k == kind
        ]
        for kind in ("issues", "warnings")
    }
    checks = [{"nodeid": c, "title": c.upper(), "outcome": "failed"} for c in failing]
    checks += [{"nodeid": c, "title": c.upper(), "outcome": "passed"} for c in passing]
    status = "critical" if entries["issues"] else "warning" if entries["warnings"] else "healthy"
    return {
        "timestamp": stamp,
        "summary": {
            "overall_status": status,
            "total_issues": len(entries["issues"]),
            "total_warnings": len(entries["warnings"]),
        },
        "environment": {"bot_dir": BOT},
        "checks": checks,
        "history": {"subset": subset},
        **entries,
    }


def test_results_are_kept_per_check_across_subset_runs(tmp_path: Path):
    record_results(run_report("t1", {"a": "issues", "b": "warnings"}, ["c"]), tmp_path)
    record_results(run_report("t2", {}, ["b"], subset=True), tmp_path)
    kept = json.loads((tmp_path / RESULTS_FILE).read_text())
    assert kept["checks"]["a"]["kind"] == "issue" and kept["checks"]["a"]["t"] == "t1"
    assert kept["checks"]["b"]["kind"] == "passed" and kept["checks"]["b"]["t"] == "t2"
    assert kept["last_run"] == {"timestamp": "t2", "status": "healthy", "subset": True}
    history = compare(
        run_report("t3", {"a": "issues", "c": "issues"}, ["b"]), read_results(tmp_path)
    )
    assert [e["check"] for e in history["new"]] == ["c"]
    assert history["resolved"] == [] and history["previous"] == "t2"


def test_escalation_and_resolution_use_the_kind_last_judged(tmp_path: Path):
    record_results(run_report("t1", {"a": "warnings", "b": "issues"}, []), tmp_path)
    history = compare(run_report("t2", {"a": "issues"}, ["b"]), read_results(tmp_path))
    assert history["new"] == [
        {"check": "a", "title": "A", "severity": "critical", "kind": "issue", "escalated": True}
    ]
    assert history["resolved"] == [
        {"check": "b", "title": "B", "severity": "critical", "kind": "issue"}
    ]


def test_results_are_seeded_from_an_older_latest_json(tmp_path: Path):
    (tmp_path / "latest.json").write_text(json.dumps(run_report("t0", {"a": "issues"}, ["b"])))
    seeded = read_results(tmp_path)
    assert seeded["last_run"]["timestamp"] == "t0"
    assert {c: e["kind"] for c, e in seeded["checks"].items()} == {"a": "issue", "b": "passed"}


def test_another_deployments_results_are_not_compared_or_kept(tmp_path: Path):
    record_results(run_report("t1", {"a": "issues"}, []), tmp_path)
    other = run_report("t2", {}, ["a"])
    other["environment"]["bot_dir"] = "/srv/other"
    assert compare(other, read_results(tmp_path))["note"] == (
        "the previous run checked another deployment"
    )
    record_results(other, tmp_path)
    assert read_results(tmp_path)["checks"] == {
        "a": {"kind": "passed", "severity": "", "title": "A", "t": "t2"}
    }


def test_trend_tail_reads_back_until_enough_full_runs(tmp_path: Path):
    for n in range(300):
        record_trend(run_report(f"t{n}", {}, ["a"], subset=n % 2 == 1), tmp_path, keep=1000)
    size = (tmp_path / TREND_FILE).stat().st_size
    tail = read_trend_tail(tmp_path, full_runs=20)
    assert tail[-1]["t"] == "t299" and len(tail) < 300 and size > 16 * 1024
    points = recent_runs(tail, count=20)
    assert [p["t"] for p in points] == [f"t{n}" for n in range(260, 300, 2)]
    assert points[-1] == {
        "t": "t298",
        "status": "healthy",
        "issues": 0,
        "warnings": 0,
        "passed": 1,
        "skipped": 0,
    }


def test_this_run_ends_the_trend_unless_it_is_a_subset(tmp_path: Path):
    record_trend(run_report("t1", {"a": "issues"}, []), tmp_path)
    runs = read_trend_tail(tmp_path)
    assert [p["t"] for p in recent_runs(runs, run_report("t2", {}, ["a"]))] == ["t1", "t2"]
    assert [p["t"] for p in recent_runs(runs, run_report("t2", {}, ["a"], True))] == ["t1"]
    elsewhere = run_report("t2", {}, ["a"])
    elsewhere["environment"]["bot_dir"] = "/srv/other"
    assert [p["t"] for p in recent_runs(runs, elsewhere)] == ["t2"], "another deployment's runs"


def test_sparkline_scales_to_the_largest_and_keeps_zero_lowest():
    assert sparkline([0, 1, 2, 4], unicode=True) == "\u2581\u2583\u2585\u2588"
    assert sparkline([0, 1, 2, 4]) == "_-=#"
    assert sparkline([0, 0]) == "__"
    assert sparkline([3, 3], unicode=True) == SPARK_UNICODE[-1] * 2


def trend(*statuses: str) -> list[dict]:
    counts = {"healthy": (0, 0), "warning": (0, 2), "critical": (1, 1)}
    return [
        {"t": f"t{n}", "status": s, "issues": counts[s][0], "warnings": counts[s][1], "passed": 9}
        for n, s in enumerate(statuses)
    ]


def test_trend_lines_show_each_status_and_the_verdict_strip():
    lines = trend_lines(trend("healthy", "warning", "critical", "healthy"), unicode=False)
    assert lines[1] == "Trend, last 4 full runs (oldest first, this run last):"
    assert lines[2].startswith("  status    owCo  (o healthy")
    assert lines[3] == "  critical  __#_  now 0, min 0, max 1"
    assert lines[4] == "  warnings  _#=_  now 0, min 0, max 2"
    assert lines[5] == "  passed    ####  now 9, min 9, max 9"
    assert trend_lines(trend("healthy")) == [], "one run is not a trend"


def test_summary_is_plain_ascii_unless_the_terminal_takes_unicode():
    report = run_report("t2", {}, ["a"])
    report.update(recommendations=[], info=[])
    report["summary"].update(exit_code=0, total_info=0)
    report["history"]["trend"] = trend("critical", "healthy")
    plain = format_summary(report)
    assert plain.isascii() and "critical  #_  now 0" in plain
    fancy = format_summary(report, unicode=True)
    assert f"critical  {SPARK_UNICODE[-1]}{SPARK_UNICODE[0]}  now 0" in fancy
    assert set(fancy) - set(plain) <= set(SPARK_UNICODE)
    assert not set(plain) & set(SPARK_UNICODE) and "#" in SPARK_ASCII


def test_stream_encoding_decides_the_sparkline_characters():
    assert stream_takes_unicode(io.TextIOWrapper(io.BytesIO(), encoding="utf-8"))
    assert not stream_takes_unicode(io.TextIOWrapper(io.BytesIO(), encoding="ascii"))
    assert not stream_takes_unicode(io.TextIOWrapper(io.BytesIO(), encoding="latin-1"))
    assert not stream_takes_unicode(object())
