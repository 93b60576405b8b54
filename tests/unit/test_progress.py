"""The progress line: shown on a terminal only, only after a couple of seconds."""

from __future__ import annotations

import io

from acore_doctor.progress import ProgressLine


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
