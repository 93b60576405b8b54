"""The progress line: shown on a terminal only, only after a couple of seconds."""

from __future__ import annotations

import io

from acore_doctor.progress import SHOW_AFTER_ENV, Phases, ProgressLine, format_eta, report
from acore_doctor.progress import active as progress_active


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_quiet_for_short_work_then_one_line_with_files_bytes_and_rate() -> None:
    out, clock = Terminal(), Clock()
    progress = ProgressLine("backing up", stream=out, clock=clock)
    progress(10, 2**20)
    clock.now += 1.0
    progress(20, 2 * 2**20)
    assert out.getvalue() == ""
    clock.now += 3.0  # 4 s in
    progress(1234, 40 * 2**20)
    assert out.getvalue() == "\r  backing up: 1,234 files, 40.0 MiB, 10.0 MiB/s"
    progress(1235, 41 * 2**20)  # too soon to redraw
    assert out.getvalue().count("\r") == 1
    progress.done()
    assert out.getvalue().endswith("\r")


def test_nothing_at_all_when_not_a_terminal() -> None:
    out, clock = io.StringIO(), Clock()
    progress = ProgressLine("backing up", stream=out, clock=clock)
    clock.now += 60
    progress(1, 1)
    progress.done()
    assert out.getvalue() == ""


def test_share_done_and_time_left_when_the_total_is_known() -> None:
    out, clock = Terminal(), Clock()
    progress = ProgressLine("backing up", stream=out, clock=clock, total_bytes=100 * 2**20)
    clock.now += 10.0
    progress(100, 25 * 2**20)  # a quarter in 10 s: 30 s to go
    assert out.getvalue() == "\r  backing up: 100 files, 25.0 MiB, 2.5 MiB/s, 25%, ETA 0:30"


def test_advance_in_any_unit_with_eta_in_hours() -> None:
    out, clock = Terminal(), Clock()
    progress = ProgressLine("sampling", stream=out, clock=clock)
    clock.now += 60.0
    progress.advance(60, 1800 * 2 + 60 * 60, "s")
    assert out.getvalue() == "\r  sampling: 1% (60 of 7,200 s), ETA 1:59:00"
    clock.now += 1.0
    progress.advance(3, None, "repairs")
    assert out.getvalue().rstrip().endswith("\r  sampling: 3 repairs, 61 s")


def test_format_eta_rounds_up() -> None:
    assert format_eta(0.2) == "0:01" and format_eta(59.0) == "0:59"
    assert format_eta(61.5) == "1:02" and format_eta(3600) == "1:00:00"


def test_one_line_per_phase_each_cleared_before_the_next() -> None:
    out, clock = Terminal(), Clock()
    phases = Phases(stream=out, enabled=True)
    first = phases("staging", 10)
    first.clock = clock
    first.started = clock.now - 5
    first(1, 5)
    assert "staging: 1 files" in out.getvalue()
    phases("saving the live state", 10)
    assert out.getvalue().endswith("\r")  # the staging line was cleared
    phases.done()


def test_deep_code_reports_to_the_active_line_only() -> None:
    out, clock = Terminal(), Clock()
    report(1, 2, "pages")  # no active line: nothing, no error
    line = ProgressLine("repair 1 of 1", stream=out, clock=clock)
    clock.now += 4.0
    with progress_active(line):
        report(50, 100, "pages")
    report(99, 100, "pages")
    assert out.getvalue() == "\r  repair 1 of 1: 50% (50 of 100 pages), ETA 0:04"


def test_delay_comes_from_the_environment(monkeypatch) -> None:
    monkeypatch.setenv(SHOW_AFTER_ENV, "0")
    out, clock = Terminal(), Clock()
    ProgressLine("backing up", stream=out, clock=clock)(1, 2**20)
    assert out.getvalue().startswith("\r  backing up: 1 files")
