"""Run history: new/resolved since the previous run in console, JSON and HTML; the trend file."""

from __future__ import annotations

from pathlib import Path

from acore_doctor.ops.history import TREND_FILE, read_trend, record_trend


def test_trend_keeps_newest_runs_and_skips_garbage_lines(tmp_path: Path):
    (tmp_path / TREND_FILE).write_text("garbage\n")
    for n in range(25):
        record_trend({"timestamp": f"t{n}", "summary": {}, "checks": []}, tmp_path, keep=20)
    runs = [r["t"] for r in read_trend(tmp_path)]
    assert runs[-1] == "t24" and 20 <= len(runs) <= 22
    assert runs == [f"t{n}" for n in range(25 - len(runs), 25)]


def test_trend_lists_slow_checks_only(tmp_path: Path):
    checks = [
        {"nodeid": "fast", "duration_s": 0.0001},
        {"nodeid": "slow", "duration_s": 1.23456},
    ]
    record_trend({"timestamp": "t", "summary": {}, "checks": checks}, tmp_path)
    [run] = read_trend(tmp_path)
    assert run["durations"] == {"slow": 1.235} and run["duration_s"] == 1.235


def test_a_huge_trend_file_is_cut_back_from_its_tail_without_reading_it_whole(
    tmp_path: Path, monkeypatch
):
    from acore_doctor.ops import history

    # Old runs padded out to far more than the read bound; only the tail is read.
    pad = "x" * 200
    (tmp_path / TREND_FILE).write_text(
        "".join(f'{{"t":"old{n}","pad":"{pad}"}}\n' for n in range(200))
    )
    monkeypatch.setattr(history, "OWN_FILE_MAX", 4096)
    record_trend({"timestamp": "new", "summary": {}, "checks": []}, tmp_path, keep=5)
    runs = [r["t"] for r in read_trend(tmp_path)]
    assert runs == ["old196", "old197", "old198", "old199", "new"]
